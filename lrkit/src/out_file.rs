//! An output file (`--plot FILE.svg`) that is never lost: checked before any work, written to
//! a temporary file in the same folder, and renamed into place only once complete.
//!
//! - The path the user names is resolved through symbolic links first: a link keeps pointing
//!   where it did, and what it points to is written (created, if the link dangles). Nothing
//!   the user named is ever removed.
//! - An existing target must be a regular file: a FIFO, a device or a folder is refused
//!   (opening a FIFO for writing would wait for a reader for ever).
//! - A target that is one of the command's input files (`lrkit schedule spec.json --plot
//!   spec.json`, through any link) is refused.
//! - The temporary file is created when the output is checked (so that a folder without
//!   write permission is found out before any work) and removed if the run fails; a failed
//!   write (a full disk) leaves the old file as it was.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Symbolic links followed at most, as the kernel's `ELOOP` limit.
const MAX_LINKS: usize = 40;

/// A checked output file: its final path and the temporary file that becomes it.
#[derive(Debug)]
pub(crate) struct OutFile {
    /// The option it was given to (`--plot`), for messages.
    option: &'static str,
    /// The path as the user wrote it, for messages.
    shown: PathBuf,
    /// The path written: `shown` with symbolic links resolved.
    target: PathBuf,
    /// The temporary file beside `target`, until it is renamed or removed.
    temp: Option<(PathBuf, File)>,
}

impl OutFile {
    /// Checks that `path` can be written (exit code 2 if not) and creates the temporary file
    /// beside it. `inputs` are the files the command reads, which it may not overwrite.
    pub(crate) fn prepare(
        option: &'static str,
        path: &Path,
        inputs: &[&Path],
    ) -> Result<Self, CliError> {
        let refuse = |why: String| CliError::Usage(format!("{option} {}: {why}", path.display()));
        let target = resolve_links(path).map_err(|e| refuse(format!("cannot resolve it: {e}")))?;
        match fs::metadata(&target) {
            Ok(meta) if !meta.is_file() => {
                return Err(refuse(
                    "not a regular file (a folder, FIFO or device): give the path of a file to create or replace".into(),
                ));
            }
            Ok(meta) => {
                let same = |input: &Path| {
                    fs::metadata(input)
                        .is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
                };
                if let Some(input) = inputs.iter().find(|input| same(input)) {
                    return Err(refuse(format!(
                        "is the input file {}: lrkit does not overwrite its input",
                        input.display()
                    )));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(refuse(format!("cannot write there: {e}"))),
        }
        let temp = create_temp(&target).map_err(|e| refuse(format!("cannot write there: {e}")))?;
        Ok(Self { option, shown: path.to_path_buf(), target, temp: Some(temp) })
    }

    /// Writes `bytes` as the file's whole content and renames it into place (exit code 1 if
    /// that fails; the old file, if any, is then untouched). An existing file's permissions
    /// carry over to the new one.
    pub(crate) fn commit(mut self, bytes: &[u8]) -> Result<(), CliError> {
        let fail = |e: std::io::Error| {
            CliError::Runtime(format!(
                "{} {}: cannot write it: {e}",
                self.option,
                self.shown.display()
            ))
        };
        let Some((temp, mut file)) = self.temp.take() else {
            return Err(fail(std::io::Error::other("already written")));
        };
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| match fs::metadata(&self.target) {
                Ok(old) => file.set_permissions(old.permissions()),
                Err(_) => Ok(()),
            })
            .and_then(|()| fs::rename(&temp, &self.target));
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(fail(e));
        }
        Ok(())
    }
}

impl Drop for OutFile {
    /// A run that did not commit leaves no temporary file behind.
    fn drop(&mut self) {
        if let Some((temp, _)) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

/// `path` with every symbolic link along the last component followed (a link's relative
/// target is taken from the link's folder).
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let to = fs::read_link(&at)?;
                at = match at.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(at),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// A new, empty file `.NAME.lrkit-PID-N.tmp` beside `target`.
fn create_temp(target: &Path) -> std::io::Result<(PathBuf, File)> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name =
        target.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let mut last = None;
    for n in 0..100 {
        let temp = dir.join(format!(".{name}.lrkit-{}-{n}.tmp", std::process::id()));
        match fs::OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}
