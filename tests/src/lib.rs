//! Shared helpers for the integration tests: finding the golden vector files.

use std::path::{Path, PathBuf};

pub mod error_params;
pub mod precision_golden;

/// The kinds of golden files, by file-name prefix; a file belongs to the longest kind its
/// name starts with (`sched_peers_public.json` is `sched_peers`, not `sched`).
const KINDS: &[&str] = &["sched", "sched_lambda", "sched_peers", "sgd", "sgd_precision"];

/// The golden files of one kind (`"sched"`, `"sched_lambda"`, `"sched_peers"`, `"sgd"` or
/// `"sgd_precision"`): `tests/golden/{kind}_public.json`, then
/// every `*.json` file in the directory `$GOLDEN_DIR` (when set) whose name starts with `kind`,
/// sorted by path.
///
/// # Panics
/// When `$GOLDEN_DIR` is set but cannot be read: a test that was asked to check more files must
/// not pass without them.
pub fn golden_files(kind: &str) -> Vec<PathBuf> {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut files = vec![golden.join(format!("{kind}_public.json"))];
    if let Ok(dir) = std::env::var("GOLDEN_DIR") {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("GOLDEN_DIR={dir}: {e}"));
        let mut extra: Vec<PathBuf> = entries
            .map(|e| e.unwrap_or_else(|e| panic!("GOLDEN_DIR={dir}: {e}")).path())
            .filter(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy())
                    .is_some_and(|name| file_kind(&name) == Some(kind) && name.ends_with(".json"))
            })
            .collect();
        extra.sort();
        files.extend(extra);
    }
    files
}

/// The kind of a golden file: the longest of [`KINDS`] its name starts with, then `_`.
fn file_kind(name: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .filter(|k| name.strip_prefix(**k).is_some_and(|rest| rest.starts_with('_')))
        .max_by_key(|k| k.len())
        .copied()
}
