//! Host side of the multi-tensor launch: the tensor table, the chunk list and the group
//! table, as the `#[repr(C)]` structs the kernel reads. Pure Rust, no GPU.
//!
//! Each entry struct is the struct of the same name in `kernels/sgd_multi_tensor.cu`, field for
//! field; both sides assert the same sizes and offsets at compile time (`const` asserts here,
//! `static_assert` there), and the tables are uploaded as their bytes (`bytemuck`):
//!
//! | table | entry | content |
//! |---|---|---|
//! | tensors | [`TensorEntry`], 56 bytes | param, grad, momentum addresses (0 = none), numel, group, flags, master address, kind ([`TensorKind`]), Philox tensor word |
//! | chunks | [`ChunkEntry`], 8 bytes | tensor index, chunk index inside the tensor (first element = index × `chunk_elems`) |
//! | groups | [`GroupEntry`], 40 bytes | weight decay, momentum, 1 − dampening (f32), flags, the same three in f64 |
//! | lrs | `f32` | `f32(-lr)` per group: the only per-step upload (and `-lr` in f64 for float64 tensors) |

use core::mem::{align_of, offset_of, size_of};
use std::vec::Vec;

use bytemuck::{Pod, Zeroable};
use sgd_core::{SgdConfig, StepScalars};

use crate::TensorKind;
use crate::error::{CudaSgdError, GroupError, LaunchError, TensorError};

/// One tensor as the kernel reads it (`struct TensorEntry` of the `.cu`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct TensorEntry {
    /// Device address of the first parameter element.
    pub param: u64,
    /// Device address of the first gradient element.
    pub grad: u64,
    /// Device address of the first momentum-buffer element; 0 = the tensor has none.
    pub momentum: u64,
    /// Number of elements.
    pub numel: u64,
    /// Parameter group index (into the group table and the learning rates).
    pub group: u32,
    /// `TENSOR_*` flags.
    pub flags: u32,
    /// Device address of the f32 master copy; 0 = none.
    pub master: u64,
    /// [`TensorKind::code`].
    pub kind: u32,
    /// Counter word 2 of stochastic rounding (the tensor's flat index in the step).
    pub sr_tensor: u32,
}

/// One chunk of one tensor, the work of one block (`struct ChunkEntry` of the `.cu`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct ChunkEntry {
    /// Tensor index.
    pub tensor: u32,
    /// Chunk index inside the tensor: its first element is `chunk * chunk_elems`.
    pub chunk: u32,
}

/// One parameter group's step scalars except the learning rate (`struct GroupEntry` of the
/// `.cu`), rounded exactly as [`StepScalars::from_config`] rounds them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GroupEntry {
    /// `f32(weight_decay)`.
    pub weight_decay: f32,
    /// `f32(momentum)`.
    pub momentum: f32,
    /// `f32(1.0 - dampening)`, subtracted in f64.
    pub one_minus_dampening: f32,
    /// `GROUP_*` flags.
    pub flags: u32,
    /// `weight_decay` (float64 tensors).
    pub weight_decay64: f64,
    /// `momentum` (float64 tensors).
    pub momentum64: f64,
    /// `1.0 - dampening` (float64 tensors).
    pub one_minus_dampening64: f64,
}

// The layouts of the `.cu` (which asserts the same numbers with `static_assert`).
const _: () = {
    assert!(size_of::<TensorEntry>() == 56 && align_of::<TensorEntry>() == 8);
    assert!(offset_of!(TensorEntry, param) == 0 && offset_of!(TensorEntry, grad) == 8);
    assert!(offset_of!(TensorEntry, momentum) == 16 && offset_of!(TensorEntry, numel) == 24);
    assert!(offset_of!(TensorEntry, group) == 32 && offset_of!(TensorEntry, flags) == 36);
    assert!(offset_of!(TensorEntry, master) == 40 && offset_of!(TensorEntry, kind) == 48);
    assert!(offset_of!(TensorEntry, sr_tensor) == 52);
    assert!(size_of::<ChunkEntry>() == 8 && align_of::<ChunkEntry>() == 4);
    assert!(offset_of!(ChunkEntry, tensor) == 0 && offset_of!(ChunkEntry, chunk) == 4);
    assert!(size_of::<GroupEntry>() == 40 && align_of::<GroupEntry>() == 8);
    assert!(offset_of!(GroupEntry, weight_decay) == 0 && offset_of!(GroupEntry, momentum) == 4);
    assert!(offset_of!(GroupEntry, one_minus_dampening) == 8);
    assert!(offset_of!(GroupEntry, flags) == 12);
    assert!(offset_of!(GroupEntry, weight_decay64) == 16);
    assert!(offset_of!(GroupEntry, momentum64) == 24);
    assert!(offset_of!(GroupEntry, one_minus_dampening64) == 32);
};

/// Tensor flag: the tensor has a gradient this step (`p.grad is not None`).
pub(crate) const TENSOR_HAS_GRAD: u32 = 1;
/// Tensor flag: the tensor has momentum-buffer storage.
pub(crate) const TENSOR_HAS_MOMENTUM_BUF: u32 = 2;
/// Tensor flag: every pointer is 16-byte aligned and chunks are multiples of 4 elements,
/// so the kernel may use `float4` loads.
pub(crate) const TENSOR_VEC4: u32 = 4;
/// Tensor flag: the 16-bit results are rounded stochastically (with the step's [`crate::SrKey`]).
pub(crate) const TENSOR_STOCHASTIC: u32 = 8;

/// Group flag: `weight_decay != 0`.
pub(crate) const GROUP_HAS_WD: u32 = 1;
/// Group flag: `momentum != 0`.
pub(crate) const GROUP_HAS_MOMENTUM: u32 = 2;
/// Group flag: Nesterov momentum.
pub(crate) const GROUP_NESTEROV: u32 = 4;
/// Group flag: maximize.
pub(crate) const GROUP_MAXIMIZE: u32 = 8;

/// Elements per chunk (the work of one block) unless [`crate::CudaSgdOptions::chunk_elems`]
/// says otherwise.
///
/// The kernel uses 80 registers per thread, so an SM holds 3 blocks of 256 threads: with
/// chunks much larger than this the last wave of blocks is partly empty, with many short
/// chunks the tail is small. 4096 was the fastest chunk size at every size measured (the
/// figures, with their command and machine: `benches/README.md`, section "sgd-cuda (H200)").
pub(crate) const DEFAULT_CHUNK_ELEMS: usize = 4096;

/// One tensor as the kernel sees it: device byte addresses and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// Parameter group index.
    pub group: usize,
    /// Number of elements.
    pub len: usize,
    /// Device address of the first parameter element.
    pub param: u64,
    /// Device address of the first gradient element.
    pub grad: u64,
    /// Device address of the first momentum-buffer element, if the tensor has one.
    pub momentum: Option<u64>,
    /// Whether the tensor has a gradient (is updated) this step.
    pub has_grad: bool,
    /// Storage type and rule.
    pub kind: TensorKind,
    /// Device address of the f32 master copy ([`TensorKind::Bf16Master`],
    /// [`TensorKind::F16Master`]).
    pub master: Option<u64>,
    /// Stochastic rounding of the 16-bit results.
    pub stochastic: bool,
    /// Counter word 2 of stochastic rounding.
    pub sr_tensor: u32,
}

impl TensorSpec {
    /// A float32 tensor, rounded to nearest.
    pub fn f32(
        group: usize,
        len: usize,
        param: u64,
        grad: u64,
        momentum: Option<u64>,
        has_grad: bool,
    ) -> Self {
        let kind = TensorKind::F32;
        Self {
            group,
            len,
            param,
            grad,
            momentum,
            has_grad,
            kind,
            master: None,
            stochastic: false,
            sr_tensor: 0,
        }
    }
}

/// The tensor table and chunk list of one optimizer, ready to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceTensorTable {
    /// One entry per tensor.
    pub tensors: Vec<TensorEntry>,
    /// One entry per chunk, tensor by tensor.
    pub chunks: Vec<ChunkEntry>,
    /// Elements per chunk.
    pub chunk_elems: usize,
    /// Index of each tensor's first chunk (`chunk_start[t]..chunk_start[t + 1]` are its chunks).
    pub chunk_start: Vec<usize>,
}

/// Number of chunks of a tensor of `len` elements.
pub fn chunks_of(len: usize, chunk_elems: usize) -> usize {
    len.div_ceil(chunk_elems)
}

impl DeviceTensorTable {
    /// Builds the table for `tensors` in `groups` groups, cut into chunks of `chunk_elems`.
    ///
    /// # Errors
    /// [`GroupError::Unknown`], [`TensorError::Misaligned`] (an address not aligned to its
    /// element: 4 bytes for f32 values and the master copy, 8 for f64, 2 for bf16/f16),
    /// [`LaunchError::Shape`] (`chunk_elems == 0`), [`LaunchError::TooManyChunks`].
    pub fn build(
        tensors: &[TensorSpec],
        groups: usize,
        chunk_elems: usize,
    ) -> Result<Self, CudaSgdError> {
        if chunk_elems == 0 || u32::try_from(chunk_elems).is_err() {
            return Err(LaunchError::Shape { chunk_elems, block_threads: 0 }.into());
        }
        let unknown_group = |i: usize, t: &TensorSpec| GroupError::Unknown {
            tensor: Some(i),
            group: t.group,
            groups,
        };
        let mut total: u64 = 0;
        for (i, t) in tensors.iter().enumerate() {
            // The kernel indexes the group table with a u32.
            if t.group >= groups || u32::try_from(t.group).is_err() {
                return Err(unknown_group(i, t).into());
            }
            let (elem, buf) = (t.kind.element_size() as u64, t.kind.buffer_element_size() as u64);
            let addresses =
                [(Some(t.param), elem), (Some(t.grad), elem), (t.momentum, buf), (t.master, 4)];
            for (address, align) in addresses {
                if let Some(address) = address.filter(|a| !a.is_multiple_of(align)) {
                    return Err(TensorError::Misaligned { tensor: i, address, align }.into());
                }
            }
            total += chunks_of(t.len, chunk_elems) as u64;
        }
        let too_many = LaunchError::TooManyChunks { chunks: total };
        if total > u64::from(u32::MAX) || u32::try_from(tensors.len()).is_err() {
            return Err(too_many.into());
        }
        let mut entries = Vec::with_capacity(tensors.len());
        let mut chunks = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut chunk_start = Vec::with_capacity(tensors.len() + 1);
        for (i, t) in tensors.iter().enumerate() {
            entries.push(TensorEntry {
                param: t.param,
                grad: t.grad,
                momentum: t.momentum.unwrap_or(0),
                numel: t.len as u64,
                // Fits: checked above.
                group: u32::try_from(t.group).map_err(|_| unknown_group(i, t))?,
                flags: tensor_flags(t, chunk_elems),
                master: t.master.unwrap_or(0),
                kind: t.kind.code(),
                sr_tensor: t.sr_tensor,
            });
            chunk_start.push(chunks.len());
            // Both fit: checked above that the chunk total (>= this tensor's) and the
            // tensor count fit in u32.
            for c in 0..chunks_of(t.len, chunk_elems) {
                let (tensor, chunk) = (
                    u32::try_from(i).map_err(|_| too_many)?,
                    u32::try_from(c).map_err(|_| too_many)?,
                );
                chunks.push(ChunkEntry { tensor, chunk });
            }
        }
        chunk_start.push(chunks.len());
        Ok(Self { tensors: entries, chunks, chunk_elems, chunk_start })
    }

    /// Number of tensors.
    pub fn num_tensors(&self) -> usize {
        self.tensors.len()
    }

    /// Number of chunks (= blocks of work).
    pub fn num_chunks(&self) -> usize {
        self.chunks.len()
    }

    /// Flags of tensor `t`.
    pub fn flags(&self, t: usize) -> u32 {
        self.tensors[t].flags
    }

    /// Sets or clears [`TENSOR_HAS_GRAD`] of tensor `t` (the table must then be re-uploaded).
    pub fn set_has_grad(&mut self, t: usize, has_grad: bool) {
        let flags = &mut self.tensors[t].flags;
        if has_grad {
            *flags |= TENSOR_HAS_GRAD;
        } else {
            *flags &= !TENSOR_HAS_GRAD;
        }
    }
}

/// Flags of one tensor entry.
fn tensor_flags(t: &TensorSpec, chunk_elems: usize) -> u32 {
    let mut flags = 0;
    if t.has_grad {
        flags |= TENSOR_HAS_GRAD;
    }
    if t.momentum.is_some() {
        flags |= TENSOR_HAS_MOMENTUM_BUF;
    }
    if t.stochastic {
        flags |= TENSOR_STOCHASTIC;
    }
    let aligned = [Some(t.param), Some(t.grad), t.momentum]
        .into_iter()
        .flatten()
        .all(|a| a.is_multiple_of(16));
    if aligned && chunk_elems.is_multiple_of(4) && t.kind == TensorKind::F32 {
        flags |= TENSOR_VEC4;
    }
    flags
}

impl GroupEntry {
    /// The entry of a group with options `config` (its `lr` is not part of it: the learning
    /// rates are a table of their own, [`neg_lrs_into`]).
    pub fn from_config(config: &SgdConfig) -> Self {
        let s = StepScalars::from_config(config);
        let mut flags = 0;
        if s.has_weight_decay {
            flags |= GROUP_HAS_WD;
        }
        if s.has_momentum {
            flags |= GROUP_HAS_MOMENTUM;
        }
        if s.nesterov {
            flags |= GROUP_NESTEROV;
        }
        if s.maximize {
            flags |= GROUP_MAXIMIZE;
        }
        Self {
            weight_decay: s.weight_decay,
            momentum: s.momentum,
            one_minus_dampening: s.one_minus_dampening,
            flags,
            weight_decay64: config.weight_decay,
            momentum64: config.momentum,
            one_minus_dampening64: 1.0 - config.dampening,
        }
    }
}

/// The group table: one `GroupEntry` per group.
pub fn group_entries(groups: &[SgdConfig]) -> Vec<GroupEntry> {
    groups.iter().map(GroupEntry::from_config).collect()
}

/// Writes `f32(-lr)` of every group into `out` (cleared first), rounded by
/// [`sgd_core::neg_lr`] exactly as [`StepScalars::from_config`] rounds it.
pub(crate) fn neg_lrs_into(lrs: &[f64], out: &mut Vec<f32>) {
    out.clear();
    out.extend(lrs.iter().map(|&lr| sgd_core::neg_lr(lr)));
}

/// Writes `-lr` of every group in f64 into `out` (cleared first): float64 tensors use the
/// options unrounded (`sgd_core::StepScalars64`).
pub(crate) fn neg_lrs64_into(lrs: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.extend(lrs.iter().map(|&lr| -lr));
}

/// Element offsets of momentum buffers packed into one allocation: each tensor of
/// `lens` starts at a multiple of 4 elements (16 bytes, so `float4` stays possible).
/// Returns the offsets and the total length.
pub fn packed_offsets(lens: &[usize]) -> (Vec<usize>, usize) {
    let mut offsets = Vec::with_capacity(lens.len());
    let mut at = 0usize;
    for &len in lens {
        offsets.push(at);
        at += len.div_ceil(4) * 4;
    }
    (offsets, at)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use super::*;

    fn spec(group: usize, len: usize, param: u64, grad: u64, momentum: Option<u64>) -> TensorSpec {
        TensorSpec::f32(group, len, param, grad, momentum, true)
    }

    #[test]
    fn chunks_cover_every_element_once() {
        let lens = [0usize, 1, 3, 4, 5, 64, 65, 128, 1000];
        let tensors: Vec<_> = lens
            .iter()
            .enumerate()
            .map(|(i, &l)| spec(i % 2, l, 0x1000 * i as u64, 0x9000_0000, None))
            .collect();
        let t = DeviceTensorTable::build(&tensors, 2, 64).unwrap();
        assert_eq!(t.num_tensors(), lens.len());
        let mut covered = vec![0usize; lens.len()];
        for c in &t.chunks {
            let (ti, ci) = (c.tensor as usize, c.chunk as usize);
            let start = ci * 64;
            assert!(start < lens[ti], "empty chunk {ci} of tensor {ti}");
            covered[ti] += (lens[ti] - start).min(64);
        }
        assert_eq!(covered.as_slice(), &lens);
        assert_eq!(t.num_chunks(), lens.iter().map(|&l| l.div_ceil(64)).sum::<usize>());
        for (i, &l) in lens.iter().enumerate() {
            assert_eq!(t.chunk_start[i + 1] - t.chunk_start[i], l.div_ceil(64));
        }
    }

    #[test]
    fn entries_hold_addresses_length_group_and_flags() {
        let t = DeviceTensorTable::build(&[spec(1, 10, 0x100, 0x200, Some(0x300))], 2, 8).unwrap();
        let e = t.tensors[0];
        assert_eq!([e.param, e.grad, e.momentum, e.numel], [0x100, 0x200, 0x300, 10]);
        assert_eq!(e.group, 1);
        assert_eq!(t.flags(0), TENSOR_HAS_GRAD | TENSOR_HAS_MOMENTUM_BUF | TENSOR_VEC4);
        let chunks = [ChunkEntry { tensor: 0, chunk: 0 }, ChunkEntry { tensor: 0, chunk: 1 }];
        assert_eq!(t.chunks, chunks);
    }

    #[test]
    fn entry_bytes_are_the_little_endian_words_the_kernel_reads() {
        let e = TensorEntry {
            param: 1,
            grad: 2,
            momentum: 3,
            numel: 4,
            group: 5,
            flags: 6,
            master: 7,
            kind: 8,
            sr_tensor: 9,
        };
        let words = bytemuck::cast::<TensorEntry, [u64; 7]>(e).map(u64::from_le);
        assert_eq!(words, [1, 2, 3, 4, 5 | 6 << 32, 7, 8 | 9 << 32]);
        let c = ChunkEntry { tensor: 7, chunk: 8 };
        assert_eq!(bytemuck::cast::<ChunkEntry, [u32; 2]>(c), [7, 8]);
        let g = GroupEntry {
            weight_decay: 0.5,
            momentum: 0.25,
            one_minus_dampening: 1.0,
            flags: 9,
            weight_decay64: 0.5,
            momentum64: 0.25,
            one_minus_dampening64: 1.0,
        };
        let bits = [0.5f32.to_bits(), 0.25f32.to_bits(), 1.0f32.to_bits(), 9];
        let words = bytemuck::cast::<GroupEntry, [u32; 10]>(g);
        assert_eq!(words[..4], bits);
        assert_eq!(
            bytemuck::cast::<[u32; 6], [f64; 3]>(words[4..].try_into().unwrap()),
            [0.5, 0.25, 1.0]
        );
    }

    #[test]
    fn vec4_only_when_all_pointers_aligned_and_chunk_multiple_of_4() {
        let cases = [
            (0x100, 0x200, None, 8, true),
            (0x104, 0x200, None, 8, false),
            (0x100, 0x208, None, 8, false),
            (0x100, 0x200, Some(0x30c), 8, false),
            (0x100, 0x200, Some(0x310), 8, true),
            (0x100, 0x200, None, 6, false),
        ];
        for (p, g, m, chunk, vec4) in cases {
            let t = DeviceTensorTable::build(&[spec(0, 9, p, g, m)], 1, chunk).unwrap();
            assert_eq!(t.flags(0) & TENSOR_VEC4 != 0, vec4, "{p:#x} {g:#x} {m:?} {chunk}");
        }
    }

    #[test]
    fn rejects_bad_group_alignment_and_chunk_size() {
        assert!(matches!(
            DeviceTensorTable::build(&[spec(2, 1, 0, 0, None)], 2, 64),
            Err(CudaSgdError::Group(GroupError::Unknown { tensor: Some(0), group: 2, groups: 2 }))
        ));
        assert!(matches!(
            DeviceTensorTable::build(&[spec(0, 1, 0, 6, None)], 1, 64),
            Err(CudaSgdError::Tensor(TensorError::Misaligned { tensor: 0, address: 6, align: 4 }))
        ));
        assert!(matches!(
            DeviceTensorTable::build(&[spec(0, 1, 0, 0, None)], 1, 0),
            Err(CudaSgdError::Launch(LaunchError::Shape { .. }))
        ));
        let huge = spec(0, usize::MAX / 2, 0, 0, None);
        assert!(matches!(
            DeviceTensorTable::build(&[huge], 1, 1),
            Err(CudaSgdError::Launch(LaunchError::TooManyChunks { .. }))
        ));
    }

    #[test]
    fn has_grad_flag_toggles() {
        let mut t = DeviceTensorTable::build(&[spec(0, 4, 0, 0, None)], 1, 4).unwrap();
        t.set_has_grad(0, false);
        assert_eq!(t.flags(0) & TENSOR_HAS_GRAD, 0);
        assert_eq!(t.tensors[0].group, 0);
        t.set_has_grad(0, true);
        assert_eq!(t.flags(0) & TENSOR_HAS_GRAD, TENSOR_HAS_GRAD);
    }

    #[test]
    #[allow(clippy::cast_possible_truncation)] // the oracle: Rust's `as` f64 -> f32 rounding
    fn group_entries_round_like_step_scalars() {
        let cfg = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.1,
            weight_decay: 1e-4,
            nesterov: true,
            maximize: true,
        };
        let w = group_entries(&[cfg, SgdConfig::default()]);
        let s = StepScalars::from_config(&cfg);
        assert_eq!(w[0].weight_decay.to_bits(), s.weight_decay.to_bits());
        assert_eq!(w[0].momentum.to_bits(), s.momentum.to_bits());
        assert_eq!(w[0].one_minus_dampening.to_bits(), s.one_minus_dampening.to_bits());
        assert_eq!(w[0].flags, GROUP_HAS_WD | GROUP_HAS_MOMENTUM | GROUP_NESTEROV | GROUP_MAXIMIZE);
        let plain = GroupEntry {
            weight_decay: 0.0,
            momentum: 0.0,
            one_minus_dampening: 1.0,
            flags: 0,
            weight_decay64: 0.0,
            momentum64: 0.0,
            one_minus_dampening64: 1.0,
        };
        assert_eq!(w[1], plain);
        assert_eq!(w[0].one_minus_dampening64, 1.0 - 0.1);
        // 1 - 0.1 in f64 first, then rounded: not f32(1) - f32(0.1).
        assert_eq!(w[0].one_minus_dampening, (1.0f64 - 0.1) as f32);
    }

    #[test]
    #[allow(clippy::cast_possible_truncation)] // the oracle: Rust's `as` f64 -> f32 rounding
    fn neg_lrs_are_f32_of_negated_f64() {
        let lrs = [0.1f64, 0.126, 1e-3, 3.0e-7, 0.0];
        let mut out = Vec::new();
        neg_lrs_into(&lrs, &mut out);
        for (lr, neg) in lrs.iter().zip(&out) {
            assert_eq!(neg.to_bits(), ((-lr) as f32).to_bits());
        }
        let mut out = vec![9.0];
        neg_lrs_into(&[0.5, 0.25], &mut out);
        assert_eq!(out, vec![-0.5, -0.25]);
    }

    #[test]
    fn packed_offsets_are_16_byte_aligned() {
        let (off, total) = packed_offsets(&[1, 4, 5, 0, 3]);
        assert_eq!(off, vec![0, 4, 8, 16, 16]);
        assert_eq!(total, 20);
    }
}
