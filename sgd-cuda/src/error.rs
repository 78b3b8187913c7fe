//! The crate's error type: every driver, compile, launch and validation failure.

use core::fmt;

use cudarc::driver::DriverError;
use sgd_core::ConfigError;

/// Everything that can go wrong in `sgd-cuda`.
///
/// Validation errors are reported before anything is written to the device.
/// Driver errors carry the raw `CUresult` (printed by name, without calling into the
/// driver, so formatting works even when the driver library is missing).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum CudaSgdError {
    /// `libcuda.so` could not be loaded (no NVIDIA driver on this machine).
    DriverLibraryNotFound,
    /// `libnvrtc.so` could not be loaded (NVRTC is not installed or not on
    /// `LD_LIBRARY_PATH`).
    NvrtcLibraryNotFound,
    /// The driver reports no device with this ordinal.
    NoDevice {
        /// Requested ordinal.
        ordinal: usize,
        /// Number of devices the driver reports.
        count: usize,
    },
    /// A CUDA driver call failed.
    Driver {
        /// What was being done (e.g. `"cuModuleLoadData sgd_multi_tensor.cu"`).
        context: &'static str,
        /// The driver's result code.
        source: DriverError,
    },
    /// The dynamic loader panicked inside `cudarc` (a symbol missing from an old
    /// library, for example); caught and reported instead of unwinding into the caller.
    LibraryPanic {
        /// What was being done.
        context: &'static str,
        /// The panic message.
        message: String,
    },
    /// NVRTC rejected a kernel.
    Compile {
        /// Kernel source file name (e.g. `"sgd_multi_tensor.cu"`).
        kernel: &'static str,
        /// Target architecture (e.g. `"compute_90"`).
        arch: String,
        /// NVRTC options used.
        options: Vec<String>,
        /// NVRTC status and log.
        log: String,
    },
    /// The driver could not load the PTX that NVRTC produced (for example PTX from a newer
    /// NVRTC than the driver supports: put the CUDA install's `libnvrtc` first on
    /// `LD_LIBRARY_PATH`).
    ModuleLoad {
        /// Kernel source file name.
        kernel: &'static str,
        /// Target architecture.
        arch: String,
        /// The driver's result code.
        source: DriverError,
    },
    /// A tensor's parameter and gradient (or momentum) lengths differ.
    LengthMismatch {
        /// Tensor index.
        tensor: usize,
        /// Number of parameter elements.
        params: usize,
        /// Number of gradient elements.
        grads: usize,
    },
    /// A tensor range does not fit in its device buffer.
    OutOfBounds {
        /// Tensor index.
        tensor: usize,
        /// Buffer index.
        buffer: usize,
        /// First element of the range.
        offset: usize,
        /// Number of elements of the range.
        len: usize,
        /// Length of the buffer.
        buffer_len: usize,
    },
    /// A tensor's parameter range overlaps another tensor's parameters or a gradient range
    /// (the kernel writes parameters: they must not alias anything).
    Overlap {
        /// The later tensor.
        tensor: usize,
        /// The tensor it overlaps (may be itself: its own gradient).
        other: usize,
    },
    /// A buffer index that was never registered.
    UnknownBuffer {
        /// The bad index.
        buffer: usize,
        /// Number of registered buffers.
        buffers: usize,
    },
    /// A tensor index that was never registered.
    UnknownTensor {
        /// The bad index.
        tensor: usize,
        /// Number of registered tensors.
        tensors: usize,
    },
    /// A tensor names a group that does not exist.
    UnknownGroup {
        /// Tensor index.
        tensor: usize,
        /// The bad group index.
        group: usize,
        /// Number of groups.
        groups: usize,
    },
    /// A call for one group (`set_group_config`, `set_lr`) names a group that does not exist.
    NoSuchGroup {
        /// The bad group index.
        group: usize,
        /// Number of groups.
        groups: usize,
    },
    /// `step` got a different number of learning rates than there are groups.
    LrCount {
        /// Number of groups.
        expected: usize,
        /// Number of learning rates passed.
        got: usize,
    },
    /// A device address that is not 4-byte aligned (not an `f32` address).
    MisalignedAddress {
        /// Tensor index.
        tensor: usize,
        /// The byte address.
        address: u64,
    },
    /// Chunk size or block size out of range.
    BadLaunchShape {
        /// Requested elements per chunk.
        chunk_elems: usize,
        /// Requested threads per block.
        block_threads: u32,
    },
    /// More threads per block than the compiled kernel can launch with on this device (its
    /// registers per thread limit the block: `cuFuncGetAttribute(MAX_THREADS_PER_BLOCK)`).
    BlockTooLarge {
        /// Requested threads per block.
        block_threads: u32,
        /// The most the kernel launches with on this device.
        max: u32,
    },
    /// More chunks (or chunks of one tensor) than a `u32` can index.
    TooManyChunks {
        /// Number of chunks that would be needed.
        chunks: u64,
    },
    /// A buffer belongs to a different CUDA context than the optimizer's stream.
    WrongContext {
        /// Buffer index.
        buffer: usize,
    },
    /// A grad-scaler call while gradient scaling is not enabled.
    GradScalingDisabled,
    /// A group's options break `torch.optim.SGD`'s rules, as [`sgd_core::SgdConfig::validate`]
    /// checks them (the same rules and the same error as `sgd_cpu::Sgd::new`, whose `SgdError`
    /// converts from it).
    Config(ConfigError),
    /// A borrowed tensor of a group with momentum has no momentum buffer.
    MissingMomentumBuffer {
        /// Tensor index.
        tensor: usize,
    },
    /// A device schedule was asked of a scheduler whose learning rates depend on a metric per
    /// step (ReduceLROnPlateau): they cannot be known in advance.
    ScheduleNeedsMetric {
        /// The scheduler's class name.
        kind: &'static str,
    },
    /// A device schedule of `steps` rows: it must have `1..=max`.
    ScheduleLength {
        /// Rows asked for.
        steps: usize,
        /// Most rows allowed.
        max: usize,
    },
    /// Precomputed device-schedule lrs that are not whole rows of `groups` values (or a
    /// schedule for no groups).
    ScheduleShape {
        /// Number of values given.
        values: usize,
        /// Values per row (the group count).
        groups: usize,
    },
    /// The scheduler was built for another number of parameter groups than given.
    ScheduleGroupCount {
        /// Groups the scheduler was built for.
        scheduler: usize,
        /// `ParamGroup`s given.
        groups: usize,
    },
    /// A scheduler step changed a group's momentum (CyclicLR / OneCycleLR with
    /// `cycle_momentum=True`); a device schedule holds learning rates only.
    ScheduleChangesMomentum {
        /// The step (row) that changed it.
        step: usize,
        /// The group.
        group: usize,
    },
    /// sched-core failed a step while the device schedule was recorded.
    Schedule {
        /// The step (row) that failed.
        step: usize,
        /// sched-core's error.
        source: sched_core::SchedError,
    },
    /// A scheduled step ran past the last row of the device schedule: such a step updates
    /// nothing (no reuse of the last row). Reported by the next host call until a new
    /// schedule is set or the schedule is cleared.
    ScheduleExhausted {
        /// Rows of the table.
        rows: usize,
        /// Scheduled steps that ran on the device past the table and did nothing (0 when the
        /// host refused the step before enqueuing it).
        skipped_steps: u32,
    },
    /// A scheduled step without a device schedule (`CudaSgd::set_device_schedule` first).
    NoDeviceSchedule,
    /// A stream handed over by its owner ([`crate::borrow_stream`]) belongs to another CUDA
    /// context than the primary context of the device it was given for.
    StreamOfAnotherContext {
        /// The device ordinal given with the stream.
        ordinal: usize,
    },
    /// A device address of the gradient scaler (`grad_scale` or `found_inf`) that is not
    /// 4-byte aligned (not an `f32` address).
    MisalignedGradScaler {
        /// Which one: `"grad_scale"` or `"found_inf"`.
        name: &'static str,
        /// The byte address.
        address: u64,
    },
    /// New learning rates while the stream is being captured into a CUDA graph: the copy
    /// would become part of the graph. Set them before the capture begins.
    LrUploadDuringCapture,
    /// An operation that would enqueue work on the stream while the caller is capturing it
    /// into a graph (the work would become part of the caller's graph). `what` names it.
    StreamCapturing {
        /// The operation refused.
        what: &'static str,
    },
}

impl fmt::Display for CudaSgdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DriverLibraryNotFound => {
                f.write_str("no CUDA driver: libcuda could not be loaded")
            }
            Self::NvrtcLibraryNotFound => f.write_str(
                "no NVRTC: libnvrtc could not be loaded (install CUDA or the nvidia-cuda-nvrtc wheel and put its lib dir on LD_LIBRARY_PATH)",
            ),
            Self::NoDevice { ordinal, count } => {
                write!(f, "no CUDA device {ordinal}: the driver reports {count} device(s)")
            }
            Self::Driver { context, source } => {
                write!(f, "CUDA driver call failed ({context}): {:?}", source.0)
            }
            Self::LibraryPanic { context, message } => {
                write!(f, "CUDA library loader panicked ({context}): {message}")
            }
            Self::Compile { kernel, arch, options, log } => write!(
                f,
                "NVRTC failed to compile {kernel} for {arch} with options {options:?}: {log}"
            ),
            Self::ModuleLoad { kernel, arch, source } => write!(
                f,
                "the driver could not load the PTX of {kernel} ({arch}): {:?} (is libnvrtc newer than the driver? put the CUDA install's lib64 first on LD_LIBRARY_PATH)",
                source.0
            ),
            Self::LengthMismatch { tensor, params, grads } => write!(
                f,
                "tensor {tensor}: {params} parameter elements but {grads} gradient elements"
            ),
            Self::OutOfBounds { tensor, buffer, offset, len, buffer_len } => write!(
                f,
                "tensor {tensor}: elements {offset}..{offset}+{len} do not fit in buffer {buffer} of {buffer_len} elements"
            ),
            Self::Overlap { tensor, other } => write!(
                f,
                "tensor {tensor}: parameter range overlaps tensor {other}'s parameters or gradients"
            ),
            Self::UnknownBuffer { buffer, buffers } => {
                write!(f, "buffer {buffer} does not exist ({buffers} registered)")
            }
            Self::UnknownTensor { tensor, tensors } => {
                write!(f, "tensor {tensor} does not exist ({tensors} registered)")
            }
            Self::UnknownGroup { tensor, group, groups } => {
                write!(f, "tensor {tensor}: group {group} does not exist ({groups} groups)")
            }
            Self::NoSuchGroup { group, groups } => {
                write!(f, "group {group} does not exist ({groups} groups)")
            }
            Self::LrCount { expected, got } => {
                write!(f, "expected {expected} learning rates (one per group), got {got}")
            }
            Self::MisalignedAddress { tensor, address } => {
                write!(f, "tensor {tensor}: device address {address:#x} is not 4-byte aligned")
            }
            Self::BadLaunchShape { chunk_elems, block_threads } => write!(
                f,
                "bad launch shape: {chunk_elems} elements per chunk (must be > 0), {block_threads} threads per block (must be a multiple of 32 in 32..=1024)"
            ),
            Self::BlockTooLarge { block_threads, max } => write!(
                f,
                "{block_threads} threads per block: the kernel launches with at most {max} on this device (registers per thread)"
            ),
            Self::TooManyChunks { chunks } => {
                write!(f, "{chunks} chunks do not fit in a u32 index; use a larger chunk size")
            }
            Self::WrongContext { buffer } => {
                write!(f, "buffer {buffer} belongs to another CUDA context than the optimizer's stream")
            }
            Self::GradScalingDisabled => {
                f.write_str("gradient scaling is not enabled (call enable_grad_scaling first)")
            }
            Self::Config(e) => write!(f, "{e}"),
            Self::MissingMomentumBuffer { tensor } => {
                write!(f, "tensor {tensor}: its group has momentum but no momentum buffer was given")
            }
            Self::ScheduleNeedsMetric { kind } => write!(
                f,
                "{kind} cannot be a device schedule: its learning rates depend on a metric per step"
            ),
            Self::ScheduleLength { steps, max } => {
                write!(f, "a device schedule of {steps} steps: it must have 1..={max}")
            }
            Self::ScheduleShape { values, groups } => write!(
                f,
                "{values} device-schedule learning rates are not whole rows of {groups} groups (one lr per group per step, at least one group)"
            ),
            Self::ScheduleGroupCount { scheduler, groups } => write!(
                f,
                "the scheduler was built for {scheduler} parameter groups, but {groups} were given"
            ),
            Self::ScheduleChangesMomentum { step, group } => write!(
                f,
                "scheduler step {step} changes group {group}'s momentum; a device schedule holds learning rates only (use cycle_momentum=False)"
            ),
            Self::Schedule { step, source } => {
                write!(f, "the scheduler failed at step {step} of the device schedule: {source}")
            }
            Self::ScheduleExhausted { rows, skipped_steps } => write!(
                f,
                "the device schedule of {rows} rows is exhausted: {skipped_steps} scheduled step(s) past its end updated nothing (set a new schedule)"
            ),
            Self::NoDeviceSchedule => {
                f.write_str("no device schedule is set (call set_device_schedule first)")
            }
            Self::StreamOfAnotherContext { ordinal } => write!(
                f,
                "the stream does not belong to the primary context of CUDA device {ordinal}"
            ),
            Self::MisalignedGradScaler { name, address } => {
                write!(f, "{name}: device address {address:#x} is not 4-byte aligned")
            }
            Self::LrUploadDuringCapture => f.write_str(
                "new learning rates while the stream is being captured: set them before the capture begins",
            ),
            Self::StreamCapturing { what } => write!(
                f,
                "{what} while the stream is being captured into a graph: do it before or after the capture"
            ),
        }
    }
}

impl core::error::Error for CudaSgdError {
    /// The driver's error of [`CudaSgdError::Driver`] and [`CudaSgdError::ModuleLoad`] (its
    /// `Display` asks the driver library, loaded by then, for the message), the option rule of
    /// [`CudaSgdError::Config`], sched-core's error of [`CudaSgdError::Schedule`]; `None` for the
    /// others.
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Driver { source, .. } | Self::ModuleLoad { source, .. } => Some(source),
            Self::Config(e) => Some(e),
            Self::Schedule { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<ConfigError> for CudaSgdError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl CudaSgdError {
    /// Wraps a driver error with what was being done.
    pub(crate) fn driver(context: &'static str) -> impl FnOnce(DriverError) -> Self {
        move |source| Self::Driver { context, source }
    }
}

#[cfg(test)]
mod tests {
    use core::error::Error;

    use super::*;

    #[test]
    fn source_is_the_wrapped_error() {
        let rule = ConfigError::NegativeLearningRate { group: 1, lr: -0.5 };
        let e = CudaSgdError::from(rule);
        let source = e.source().and_then(|s| s.downcast_ref::<ConfigError>());
        assert_eq!(source, Some(&rule));
        assert_eq!(e.to_string(), rule.to_string());
        let no_inner = [
            CudaSgdError::NoSuchGroup { group: 3, groups: 2 },
            CudaSgdError::LibraryPanic { context: "NVRTC compile", message: "boom".into() },
            CudaSgdError::DriverLibraryNotFound,
        ];
        for e in no_inner {
            assert!(e.source().is_none(), "{e}");
        }
        let sched = sched_core::SchedError::MetricRequired;
        let e = CudaSgdError::Schedule { step: 4, source: sched };
        let source = e.source().and_then(|s| s.downcast_ref::<sched_core::SchedError>());
        assert_eq!(source, Some(&sched));
        assert!(e.to_string().contains("step 4"), "{e}");
        let e = CudaSgdError::ScheduleExhausted { rows: 9, skipped_steps: 2 };
        assert!(e.source().is_none());
        assert!(e.to_string().contains("9 rows") && e.to_string().contains("2 scheduled"), "{e}");
        assert_eq!(
            CudaSgdError::NoSuchGroup { group: 3, groups: 2 }.to_string(),
            "group 3 does not exist (2 groups)"
        );
    }
}
