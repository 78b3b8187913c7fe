//! The pure, host-only checks every optimizer runs before any device work: group options,
//! learning rates, the launch shape, and the tensors of a [`crate::CudaSgd`].

use std::vec::Vec;

use sgd_core::SgdConfig;

use crate::error::{CudaSgdError, GroupError, LaunchError, TensorError};
use crate::launch_options::CudaSgdOptions;
use crate::tensor_ref::TensorRef;

/// Checks every group's options in order, as `sgd_cpu::Sgd::new` does (pure, host only):
/// [`SgdConfig::validate`], torch's constructor rules applied to every group (not only the
/// defaults) plus finiteness.
///
/// # Errors
/// [`CudaSgdError::Config`] with the first group's [`sgd_core::ConfigError`].
pub fn validate_groups(groups: &[SgdConfig]) -> Result<(), CudaSgdError> {
    for (group, config) in groups.iter().enumerate() {
        config.validate(group)?;
    }
    Ok(())
}

/// Checks a step's learning rates against the groups (pure, host only): one per group, each
/// valid as that group's `lr` ([`SgdConfig::validate`]: finite and `>= 0`).
///
/// # Errors
/// [`GroupError::LrCount`], [`CudaSgdError::Config`] for the first refused one.
pub fn validate_lrs(groups: &[SgdConfig], lrs: &[f64]) -> Result<(), CudaSgdError> {
    check_lr_count(groups.len(), lrs.len())?;
    for (group, (&lr, config)) in lrs.iter().zip(groups).enumerate() {
        SgdConfig { lr, ..*config }.validate(group)?;
    }
    Ok(())
}

/// `got` values for `expected` groups: [`GroupError::LrCount`] unless they are equal.
pub(crate) fn check_lr_count(expected: usize, got: usize) -> Result<(), GroupError> {
    if expected != got {
        return Err(GroupError::LrCount { expected, got });
    }
    Ok(())
}

/// Checks the launch shape: `chunk_elems` in `1..=u32::MAX`, `block_threads` a multiple of 32 in
/// `32..=1024`.
pub(crate) fn validate_launch_shape(options: &CudaSgdOptions) -> Result<(), LaunchError> {
    let bt = options.block_threads;
    let chunk_elems = options.chunk();
    if chunk_elems == 0
        || u32::try_from(chunk_elems).is_err()
        || !(32..=1024).contains(&bt)
        || !bt.is_multiple_of(32)
    {
        return Err(LaunchError::Shape { chunk_elems, block_threads: bt });
    }
    Ok(())
}

/// Checks tensor ranges against buffer lengths and the group count (pure, host only): every
/// group exists, parameter and gradient ranges have the same length and fit their buffers, and
/// no parameter range overlaps another tensor's parameters or any gradient range.
///
/// # Errors
/// [`GroupError::Unknown`], [`TensorError::LengthMismatch`], [`TensorError::UnknownBuffer`],
/// [`TensorError::OutOfBounds`], [`TensorError::Overlap`] for the first bad tensor.
pub fn validate_tensors(
    groups: usize,
    buffer_lens: &[usize],
    tensors: &[TensorRef],
) -> Result<(), CudaSgdError> {
    for (i, t) in tensors.iter().enumerate() {
        if t.group >= groups {
            return Err(GroupError::Unknown { tensor: Some(i), group: t.group, groups }.into());
        }
        if t.params.len() != t.grads.len()
            || t.params.start > t.params.end
            || t.grads.start > t.grads.end
        {
            let (params, grads) = (t.params.len(), t.grads.len());
            return Err(TensorError::LengthMismatch { tensor: i, params, grads }.into());
        }
        for (id, r) in [(t.param_buffer, &t.params), (t.grad_buffer, &t.grads)] {
            let Some(&buffer_len) = buffer_lens.get(id.0) else {
                let buffers = buffer_lens.len();
                return Err(TensorError::UnknownBuffer { buffer: id.0, buffers }.into());
            };
            if r.end > buffer_len {
                let (buffer, offset, len) = (id.0, r.start, r.len());
                return Err(TensorError::OutOfBounds {
                    tensor: i,
                    buffer,
                    offset,
                    len,
                    buffer_len,
                }
                .into());
            }
        }
    }
    check_overlaps(tensors).map_err(CudaSgdError::from)
}

/// Parameter ranges are written by the kernel: each must be disjoint from every other
/// tensor's parameters and from every gradient range (gradients may share memory, they are
/// only read).
fn check_overlaps(tensors: &[TensorRef]) -> Result<(), TensorError> {
    // (buffer, start, end, tensor, is_param), empty ranges dropped, sorted by buffer and start.
    let mut spans: Vec<(usize, usize, usize, usize, bool)> = Vec::with_capacity(2 * tensors.len());
    for (i, t) in tensors.iter().enumerate() {
        if !t.params.is_empty() {
            spans.push((t.param_buffer.0, t.params.start, t.params.end, i, true));
            spans.push((t.grad_buffer.0, t.grads.start, t.grads.end, i, false));
        }
    }
    spans.sort_unstable();
    // Furthest end seen so far in the current buffer: of any range, and of parameter ranges.
    let mut any: Option<(usize, usize, usize)> = None; // (buffer, end, tensor)
    let mut param: Option<(usize, usize, usize)> = None;
    for &(buffer, start, end, tensor, is_param) in &spans {
        let clash = if is_param { any } else { param };
        if let Some((b, e, other)) = clash
            && b == buffer
            && start < e
        {
            return Err(TensorError::Overlap {
                tensor: tensor.max(other),
                other: tensor.min(other),
            });
        }
        if any.is_none_or(|(b, e, _)| b != buffer || end > e) {
            any = Some((buffer, end, tensor));
        }
        if is_param && param.is_none_or(|(b, e, _)| b != buffer || end > e) {
            param = Some((buffer, end, tensor));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use core::ops::Range;

    use super::*;
    use crate::tensor_ref::BufferId;

    #[test]
    fn group_options_are_checked_in_order_as_sgd_new_checks_them() {
        let ok = SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..SgdConfig::default() };
        assert!(validate_groups(&[]).is_ok());
        assert!(validate_groups(&[ok, SgdConfig::default()]).is_ok());
        let later = SgdConfig { lr: -1.0, ..ok };
        for bad in [
            SgdConfig { dampening: 0.1, ..ok },
            SgdConfig { lr: -0.1, ..ok },
            SgdConfig { momentum: f64::NAN, ..ok },
        ] {
            // The first bad group is reported, with sgd-core's error for it (Debug: NaN != NaN).
            let expected = std::format!("{:?}", bad.validate(1).unwrap_err());
            match validate_groups(&[ok, bad, later]) {
                Err(CudaSgdError::Config(e)) => assert_eq!(std::format!("{e:?}"), expected),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn learning_rates_are_counted_and_checked_per_group() {
        let groups = [SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }; 2];
        assert!(validate_lrs(&groups, &[0.5, 0.0]).is_ok());
        let e = validate_lrs(&groups, &[0.5]).err();
        assert!(
            matches!(e, Some(CudaSgdError::Group(GroupError::LrCount { expected: 2, got: 1 }))),
            "{e:?}"
        );
        for bad in [-0.5, f64::NAN, f64::INFINITY] {
            let e = validate_lrs(&groups, &[0.5, bad]).err();
            let expected = SgdConfig { lr: bad, ..groups[1] }.validate(1).err();
            // Debug: NaN != NaN.
            assert_eq!(
                std::format!("{e:?}"),
                std::format!("{:?}", expected.map(CudaSgdError::Config))
            );
        }
    }

    #[test]
    fn launch_shapes_outside_the_kernels_range_are_rejected() {
        let shape = |chunk_elems, block_threads| CudaSgdOptions { chunk_elems, block_threads };
        for ok in [shape(None, 256), shape(Some(1), 32), shape(Some(1 << 20), 1024)] {
            assert_eq!(validate_launch_shape(&ok), Ok(()), "{ok:?}");
        }
        for bad in [shape(Some(0), 256), shape(None, 0), shape(None, 48), shape(None, 2048)] {
            let e = validate_launch_shape(&bad);
            let expected =
                LaunchError::Shape { chunk_elems: bad.chunk(), block_threads: bad.block_threads };
            assert_eq!(e, Err(expected), "{bad:?}");
        }
    }

    fn t(group: usize, pb: usize, p: Range<usize>, gb: usize, g: Range<usize>) -> TensorRef {
        TensorRef {
            group,
            param_buffer: BufferId(pb),
            params: p,
            grad_buffer: BufferId(gb),
            grads: g,
        }
    }

    #[test]
    fn validation_rejects_bad_tensors_with_the_bad_values() {
        let lens = [10, 10];
        assert!(
            validate_tensors(1, &lens, &[t(0, 0, 0..5, 1, 0..5), t(0, 0, 6..9, 1, 5..8)]).is_ok()
        );
        assert!(matches!(
            validate_tensors(1, &lens, &[t(0, 0, 0..10, 1, 0..10), t(0, 0, 0..3, 1, 0..2)]),
            Err(CudaSgdError::Tensor(TensorError::LengthMismatch {
                tensor: 1,
                params: 3,
                grads: 2
            }))
        ));
        assert!(matches!(
            validate_tensors(1, &lens, &[t(0, 0, 5..11, 1, 0..6)]),
            Err(CudaSgdError::Tensor(TensorError::OutOfBounds {
                tensor: 0,
                buffer: 0,
                offset: 5,
                len: 6,
                buffer_len: 10
            }))
        ));
        assert!(matches!(
            validate_tensors(1, &lens, &[t(0, 0, 0..1, 2, 0..1)]),
            Err(CudaSgdError::Tensor(TensorError::UnknownBuffer { buffer: 2, buffers: 2 }))
        ));
        assert!(matches!(
            validate_tensors(2, &lens, &[t(2, 0, 0..1, 1, 0..1)]),
            Err(CudaSgdError::Group(GroupError::Unknown { tensor: Some(0), group: 2, groups: 2 }))
        ));
        #[allow(clippy::reversed_empty_ranges)]
        // the point of the test: a reversed range is rejected.
        let reversed = t(0, 0, 4..2, 1, 4..2);
        assert!(matches!(
            validate_tensors(1, &lens, &[reversed]),
            Err(CudaSgdError::Tensor(TensorError::LengthMismatch { .. }))
        ));
    }

    #[test]
    fn overlapping_written_ranges_are_rejected() {
        let lens = [20, 20];
        let overlap = |tensor, other| Err(TensorError::Overlap { tensor, other }.into());
        let check = |tensors: &[TensorRef]| validate_tensors(1, &lens, tensors);
        // Shared gradients are fine (read only); params in the grad buffer are fine if disjoint.
        let ok = [t(0, 0, 0..5, 1, 0..5), t(0, 0, 5..10, 1, 0..5), t(0, 1, 10..12, 1, 5..7)];
        assert!(validate_tensors(1, &lens, &ok).is_ok());
        let params_overlap = [t(0, 0, 0..5, 1, 0..5), t(0, 0, 4..9, 1, 5..10)];
        assert_eq!(check(&params_overlap), overlap(1, 0));
        let param_over_grad = [t(0, 0, 0..5, 1, 0..5), t(0, 1, 3..5, 1, 10..12)];
        assert_eq!(check(&param_over_grad), overlap(1, 0));
        let own_grad = [t(0, 0, 0..5, 0, 2..7)];
        assert_eq!(check(&own_grad), overlap(0, 0));
        // A long earlier range still counts after a short one inside it.
        let nested = [t(0, 1, 0..10, 0, 0..10), t(0, 1, 10..11, 0, 2..3), t(0, 0, 5..6, 1, 12..13)];
        assert_eq!(check(&nested), overlap(2, 0));
    }
}
