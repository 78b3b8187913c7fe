//! Pointer checks of a C step: nulls, alignment, sizes and overlaps, before any reference
//! is formed.
use sgd_capi_support::dtype_code::{dtype_from_code, rounding_from_code};
use sgd_cpu::{Dtype, Rounding};

use crate::{CapiError, PointerField, SgdTypedTensorC};

/// One memory region of a step.
#[derive(Clone, Copy, Debug)]
struct Region {
    start: usize,
    end: usize,
    writes: bool,
    tensor: Option<usize>,
    field: PointerField,
}

/// Collects the regions of a step and checks each tensor's pointers on the way.
#[derive(Default)]
pub(crate) struct Layout {
    regions: Vec<Region>,
}

/// Why `count` values at a pointer cannot be viewed as a slice.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SpanError {
    /// More than `isize::MAX` bytes, or past the end of the address space.
    TooLarge,
    /// Not aligned for the type.
    Misaligned,
}

/// The size in bytes of `count` values of `T` at `ptr`, if they could form a slice: at most
/// `isize::MAX` bytes, `ptr` aligned for `T`, and not wrapping around the address space.
pub(crate) fn span<T>(ptr: *const T, count: usize) -> Result<usize, SpanError> {
    let bytes = count
        .checked_mul(size_of::<T>())
        .filter(|&b| isize::try_from(b).is_ok())
        .ok_or(SpanError::TooLarge)?;
    if !ptr.is_aligned() {
        return Err(SpanError::Misaligned);
    }
    (ptr as usize).checked_add(bytes).map(|_| bytes).ok_or(SpanError::TooLarge)
}

/// A tensor's decoded codes: the dtypes of its parameter, gradient and buffer, its rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Codes {
    pub(crate) param: Dtype,
    pub(crate) grad: Dtype,
    pub(crate) buffer: Dtype,
    pub(crate) rounding: Rounding,
}

impl Codes {
    /// The codes of `t` (tensor `tensor`), each checked to be one the header defines.
    pub(crate) fn of(tensor: usize, t: &SgdTypedTensorC) -> Result<Codes, CapiError> {
        let dtype = |code: u32, field| {
            dtype_from_code(code).ok_or(CapiError::UnknownCode { tensor, field, code })
        };
        Ok(Codes {
            param: dtype(t.param_dtype, PointerField::ParamDtype)?,
            grad: dtype(t.grad_dtype, PointerField::GradDtype)?,
            buffer: dtype(t.buffer_dtype, PointerField::BufferDtype)?,
            rounding: rounding_from_code(t.rounding).ok_or(CapiError::UnknownCode {
                tensor,
                field: PointerField::Rounding,
                code: t.rounding,
            })?,
        })
    }
}

/// [`span`] for `count` elements of `size` bytes (aligned to `size`) at `ptr`.
fn elements(ptr: *const u8, count: usize, size: usize) -> Result<usize, SpanError> {
    let bytes = count
        .checked_mul(size)
        .filter(|&b| isize::try_from(b).is_ok())
        .ok_or(SpanError::TooLarge)?;
    if !(ptr as usize).is_multiple_of(size) {
        return Err(SpanError::Misaligned);
    }
    (ptr as usize).checked_add(bytes).map(|_| bytes).ok_or(SpanError::TooLarge)
}

impl Layout {
    /// Checks tensor `tensor` (of group `group`) and records its regions; returns its codes. A
    /// tensor without a gradient is skipped (`None`): the step never touches it, so its other
    /// fields are not checked.
    pub(crate) fn add(
        &mut self,
        group: usize,
        tensor: usize,
        t: &SgdTypedTensorC,
    ) -> Result<Option<Codes>, CapiError> {
        if t.grad.is_null() {
            return Ok(None);
        }
        let codes = Codes::of(tensor, t)?;
        let null =
            |field| CapiError::NullPointer { group: Some(group), tensor: Some(tensor), field };
        // (pointer, elements, element size, field, written)
        let master_numel = if t.master.is_null() { 0 } else { t.master_numel };
        let regions = [
            (
                t.param.cast_const().cast::<u8>(),
                t.numel,
                codes.param.size(),
                PointerField::Param,
                true,
            ),
            (t.grad.cast::<u8>(), t.numel, codes.grad.size(), PointerField::Grad, false),
            (
                t.momentum_buffer.cast_const().cast::<u8>(),
                t.numel,
                codes.buffer.size(),
                PointerField::MomentumBuffer,
                true,
            ),
            (t.master.cast_const().cast::<u8>(), master_numel, 4, PointerField::Master, true),
        ];
        for (ptr, numel, size, field, _) in regions {
            elements(ptr, numel, size).map_err(|e| match e {
                SpanError::TooLarge => CapiError::TooLarge { tensor, numel },
                SpanError::Misaligned => CapiError::Misaligned {
                    group: Some(group),
                    tensor: Some(tensor),
                    field,
                    address: ptr as usize,
                    align: size,
                },
            })?;
        }
        if t.param.is_null() && t.numel > 0 {
            return Err(null(PointerField::Param));
        }
        if !t.momentum_buffer.is_null() && t.initialized.is_null() {
            return Err(null(PointerField::Initialized));
        }
        for (ptr, numel, size, field, writes) in regions {
            let address = ptr as usize;
            // Cannot overflow: `elements` checked it.
            let bytes = numel * size;
            if address != 0 && bytes > 0 {
                self.regions.push(Region {
                    start: address,
                    end: address + bytes,
                    writes,
                    tensor: Some(tensor),
                    field,
                });
            }
        }
        if !t.momentum_buffer.is_null() {
            let start = t.initialized as usize;
            span(t.initialized.cast_const(), 1)
                .map_err(|_| CapiError::TooLarge { tensor, numel: t.numel })?;
            self.regions.push(Region {
                start,
                end: start + 1,
                writes: true,
                tensor: Some(tensor),
                field: PointerField::Initialized,
            });
        }
        Ok(Some(codes))
    }

    /// Records `bytes` bytes at `start` that the call reads but that belong to no tensor (the
    /// `groups` and `tensors` arrays, the gradient scale): a written region must not overlap
    /// them either.
    /// The caller has checked that `start + bytes` does not overflow.
    pub(crate) fn add_read(&mut self, start: usize, bytes: usize, field: PointerField) {
        if start != 0 && bytes > 0 {
            self.regions.push(Region {
                start,
                end: start + bytes,
                writes: false,
                tensor: None,
                field,
            });
        }
    }

    /// Fails if a written region overlaps any other region (reads may share memory).
    pub(crate) fn check_overlaps(self) -> Result<(), CapiError> {
        // Sorted by start through 16-byte keys (start, index): cheaper to move than regions.
        let mut order: Vec<(usize, usize)> =
            self.regions.iter().enumerate().map(|(i, r)| (r.start, i)).collect();
        order.sort_unstable();
        // The region reaching furthest so far, among all and among written ones.
        let mut any: Option<Region> = None;
        let mut written: Option<Region> = None;
        for (_, i) in order {
            let r = self.regions[i];
            let hit = match (written, any) {
                (Some(w), _) if r.start < w.end => Some(w),
                (_, Some(a)) if r.writes && r.start < a.end => Some(a),
                _ => None,
            };
            if let Some(o) = hit {
                return Err(CapiError::Overlap { a: (o.tensor, o.field), b: (r.tensor, r.field) });
            }
            if any.is_none_or(|a| r.end > a.end) {
                any = Some(r);
            }
            if r.writes && written.is_none_or(|w| r.end > w.end) {
                written = Some(r);
            }
        }
        Ok(())
    }
}
