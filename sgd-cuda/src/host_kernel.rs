//! The kernel source compiled for the host and run there (test support, not API): `tests/host/`
//! holds a tiny CUDA shim (one thread per CUDA thread, a barrier per block) and a runner that
//! executes `sgd_multi_tensor_f32` / `sgd_multi_tensor_typed` for one step on tables built by
//! this crate. Tests without a GPU use it to check the real `.cu` bit for bit against sgd-core.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::string::ToString;
use std::sync::OnceLock;
use std::vec::Vec;

use sgd_core::SgdConfig;

use crate::SrKey;
use crate::kernel_tables::{DeviceTensorTable, group_entries};
use crate::schedule::ScheduleState;

/// The runner executable, compiled once per process with `$CXX` (or `c++`), `-std=c++20
/// -ffp-contract=off`. `None` (after printing why) where no compiler runs or the sources are not
/// there (an executable copied to a GPU machine); a compiler that fails to compile the kernel
/// panics, and so does a missing compiler when `SGD_CUDA_REQUIRE_CXX` is set (CI).
pub fn host_runner() -> Option<PathBuf> {
    static RUNNER: OnceLock<Option<PathBuf>> = OnceLock::new();
    RUNNER.get_or_init(compile_runner).clone()
}

fn compile_runner() -> Option<PathBuf> {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/host");
    let tmp = std::env::temp_dir().join(std::format!("sgd-cuda-host-{}", std::process::id()));
    if !Path::new(dir).is_dir() || std::fs::create_dir_all(&tmp).is_err() {
        std::eprintln!("skipping: kernel sources not found at {dir}");
        return None;
    }
    let exe = tmp.join("sgd_cuda_run_kernel_on_host");
    let status = Command::new(&cxx)
        .args(["-std=c++20", "-O1", "-ffp-contract=off", "-pthread", "-Wno-unknown-pragmas"])
        .arg(std::format!("{dir}/run_kernel.cpp"))
        .arg("-o")
        .arg(&exe)
        .status();
    match status {
        Ok(s) if s.success() => Some(exe),
        Ok(s) => panic!("{cxx} failed to compile the kernel on the host shim: {s}"),
        Err(e) => {
            assert!(
                std::env::var_os("SGD_CUDA_REQUIRE_CXX").is_none(),
                "SGD_CUDA_REQUIRE_CXX is set but no C++ compiler runs ({cxx}: {e})"
            );
            std::eprintln!("skipping: no C++ compiler ({cxx}: {e})");
            None
        }
    }
}

/// One step's inputs for [`run_on_host`].
pub struct HostLaunch<'a> {
    /// The device memory: 32-bit words (tensor addresses are byte offsets into it; offset 0
    /// reads as "no momentum buffer").
    pub arena: &'a [u32],
    /// The tensor table and chunk list.
    pub table: &'a DeviceTensorTable,
    /// The groups' options (their group table is built here).
    pub groups: &'a [SgdConfig],
    /// Blocks.
    pub grid: u64,
    /// Threads per block.
    pub block: u64,
    /// `f32(-lr)`: one row (host lrs) or the whole device-schedule table.
    pub neg_lrs: &'a [f32],
    /// One first-step word per chunk.
    pub chunk_first: &'a [u32],
    /// `(grad_scale, found_inf)`.
    pub scaler: Option<(f32, f32)>,
    /// The device schedule's counter (then `neg_lrs` is its table).
    pub schedule: Option<ScheduleState>,
    /// `sgd_multi_tensor_typed`: `-lr` per group in f64 and the rounding key.
    pub typed: Option<(&'a [f64], SrKey)>,
}

/// What a host run left: the arena, the first-step words, the schedule counter.
pub struct HostOutcome {
    /// The arena after the step.
    pub arena: Vec<u32>,
    /// The first-step words after the step.
    pub chunk_first: Vec<u32>,
    /// The counter after the step (and `sgd_schedule_advance`), if scheduled.
    pub schedule: Option<ScheduleState>,
}

/// Runs one step of the host-compiled kernel (`name` keeps the files of parallel tests apart).
///
/// # Panics
/// When the runner fails (a test failure).
pub fn run_on_host(runner: &Path, name: &str, l: &HostLaunch<'_>) -> HostOutcome {
    let mut buf: Vec<u8> = Vec::new();
    let header = [
        l.arena.len() as u64,
        l.table.tensors.len() as u64,
        l.table.chunks.len() as u64,
        l.groups.len() as u64,
        l.grid,
        l.block,
        u64::from(l.scaler.is_some()),
        l.table.chunk_elems as u64,
        l.schedule.map_or(0, |s| u64::from(s.rows)),
        u64::from(l.typed.is_some()),
    ];
    let words = |buf: &mut Vec<u8>, w: &[u32]| w.iter().for_each(|x| buf.extend(x.to_le_bytes()));
    header.iter().for_each(|x| buf.extend(x.to_le_bytes()));
    words(&mut buf, l.arena);
    // The entries as the kernel's structs, byte for byte (little-endian hosts, as the GPU is).
    buf.extend_from_slice(bytemuck::cast_slice(&l.table.tensors));
    buf.extend_from_slice(bytemuck::cast_slice(&l.table.chunks));
    buf.extend_from_slice(bytemuck::cast_slice(&group_entries(l.groups)));
    l.neg_lrs.iter().for_each(|x| buf.extend(x.to_le_bytes()));
    words(&mut buf, l.chunk_first);
    if let Some((sc, fi)) = l.scaler {
        buf.extend(sc.to_le_bytes());
        buf.extend(fi.to_le_bytes());
    }
    if let Some(s) = l.schedule {
        buf.extend_from_slice(bytemuck::bytes_of(&s));
    }
    if let Some((lrs64, key)) = l.typed {
        lrs64.iter().for_each(|x| buf.extend(x.to_le_bytes()));
        buf.extend_from_slice(bytemuck::bytes_of(&key));
    }
    let dir = runner.parent().map_or_else(std::env::temp_dir, Path::to_path_buf);
    let (inp, outp): (PathBuf, PathBuf) =
        (dir.join(std::format!("host_in_{name}")), dir.join(std::format!("host_out_{name}")));
    std::fs::write(&inp, &buf).unwrap_or_else(|e| panic!("{}: {e}", inp.display()));
    let st = Command::new(runner).arg(&inp).arg(&outp).status();
    let st = st.unwrap_or_else(|e| panic!("kernel runner: {e}"));
    assert!(st.success(), "kernel runner failed: {st}");
    let out = std::fs::read(&outp).unwrap_or_else(|e| panic!("{}: {e}", outp.display()));
    let out: Vec<u32> =
        out.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let (arena, rest) = out.split_at(l.arena.len());
    let (flags, state) = rest.split_at(l.chunk_first.len());
    let schedule = l.schedule.map(|_| {
        let w: [u32; 4] = state.try_into().unwrap_or_else(|_| panic!("no schedule counter"));
        bytemuck::cast::<[u32; 4], ScheduleState>(w)
    });
    HostOutcome { arena: arena.to_vec(), chunk_first: flags.to_vec(), schedule }
}
