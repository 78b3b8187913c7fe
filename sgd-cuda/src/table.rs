//! Host side of the multi-tensor launch: the tensor table, the chunk list and the group
//! table, encoded as the plain little-endian words the kernel reads. Pure Rust, no GPU.
//!
//! Layouts (mirrored by the structs in `kernels/sgd_multi_tensor.cu`):
//!
//! | table | words per entry | content |
//! |---|---|---|
//! | tensors | 5 × `u64` | param address, grad address, momentum address (0 = none), numel, `group \| flags << 32` |
//! | chunks | 2 × `u32` | tensor index, chunk index inside the tensor (first element = index × `chunk_elems`) |
//! | groups | 4 × `u32` | `f32` bits of weight decay, momentum, 1 − dampening; flags |
//! | lrs | 1 × `f32` | `f32(-lr)` per group: the only per-step upload |

use std::vec::Vec;

use sgd_cpu::{SgdConfig, StepScalars};

use crate::CudaSgdError;

/// `u64` words per tensor entry.
pub const TENSOR_WORDS: usize = 5;
/// `u32` words per chunk entry.
pub const CHUNK_WORDS: usize = 2;
/// `u32` words per group entry.
pub const GROUP_WORDS: usize = 4;

/// Tensor flag: the tensor has a gradient this step (`p.grad is not None`).
pub const TENSOR_HAS_GRAD: u32 = 1;
/// Tensor flag: the tensor has momentum-buffer storage.
pub const TENSOR_HAS_MOMENTUM_BUF: u32 = 2;
/// Tensor flag: every pointer is 16-byte aligned and chunks are multiples of 4 elements,
/// so the kernel may use `float4` loads.
pub const TENSOR_VEC4: u32 = 4;

/// Group flag: `weight_decay != 0`.
pub const GROUP_HAS_WD: u32 = 1;
/// Group flag: `momentum != 0`.
pub const GROUP_HAS_MOMENTUM: u32 = 2;
/// Group flag: Nesterov momentum.
pub const GROUP_NESTEROV: u32 = 4;
/// Group flag: maximize.
pub const GROUP_MAXIMIZE: u32 = 8;

/// Largest automatic chunk (torch's `multi_tensor_apply` uses 65536 too).
pub const DEFAULT_CHUNK_ELEMS: usize = 65_536;
/// Smallest automatic chunk.
pub const MIN_AUTO_CHUNK_ELEMS: usize = 4096;

/// Chunk size for `total` elements on a device with `sms` multiprocessors: a power of two in
/// `MIN_AUTO_CHUNK_ELEMS..=DEFAULT_CHUNK_ELEMS` giving at least about 8 chunks per SM when
/// the total allows, so small steps still spread over the whole GPU and large ones keep
/// per-block overhead negligible.
pub fn auto_chunk_elems(total: usize, sms: usize) -> usize {
    let per_chunk = total.div_ceil(sms.max(1) * 8).max(1);
    per_chunk.next_power_of_two().clamp(MIN_AUTO_CHUNK_ELEMS, DEFAULT_CHUNK_ELEMS)
}

/// One tensor as the kernel sees it: device byte addresses and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// Parameter group index.
    pub group: usize,
    /// Number of `f32` elements.
    pub len: usize,
    /// Device address of the first parameter element.
    pub param: u64,
    /// Device address of the first gradient element.
    pub grad: u64,
    /// Device address of the first momentum-buffer element, if the tensor has one.
    pub momentum: Option<u64>,
    /// Whether the tensor has a gradient (is updated) this step.
    pub has_grad: bool,
}

/// The tensor table and chunk list of one optimizer, ready to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceTensorTable {
    /// [`TENSOR_WORDS`] words per tensor.
    pub tensor_words: Vec<u64>,
    /// [`CHUNK_WORDS`] words per chunk.
    pub chunk_words: Vec<u32>,
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
    /// Errors: [`CudaSgdError::UnknownGroup`], [`CudaSgdError::MisalignedAddress`] (not an
    /// `f32` address), [`CudaSgdError::BadLaunchShape`] (`chunk_elems == 0`),
    /// [`CudaSgdError::TooManyChunks`].
    pub fn build(
        tensors: &[TensorSpec],
        groups: usize,
        chunk_elems: usize,
    ) -> Result<Self, CudaSgdError> {
        if chunk_elems == 0 || u32::try_from(chunk_elems).is_err() {
            return Err(CudaSgdError::BadLaunchShape { chunk_elems, block_threads: 0 });
        }
        let mut total: u64 = 0;
        for (i, t) in tensors.iter().enumerate() {
            if t.group >= groups {
                return Err(CudaSgdError::UnknownGroup { tensor: i, group: t.group, groups });
            }
            for address in [Some(t.param), Some(t.grad), t.momentum].into_iter().flatten() {
                if !address.is_multiple_of(4) {
                    return Err(CudaSgdError::MisalignedAddress { tensor: i, address });
                }
            }
            total += chunks_of(t.len, chunk_elems) as u64;
        }
        if total > u64::from(u32::MAX) || tensors.len() > u32::MAX as usize {
            return Err(CudaSgdError::TooManyChunks { chunks: total });
        }
        let mut tensor_words = Vec::with_capacity(tensors.len() * TENSOR_WORDS);
        let mut chunk_words = Vec::with_capacity(total as usize * CHUNK_WORDS);
        let mut chunk_start = Vec::with_capacity(tensors.len() + 1);
        for (i, t) in tensors.iter().enumerate() {
            let flags = tensor_flags(t, chunk_elems);
            tensor_words.extend_from_slice(&[
                t.param,
                t.grad,
                t.momentum.unwrap_or(0),
                t.len as u64,
                t.group as u64 | (u64::from(flags) << 32),
            ]);
            chunk_start.push(chunk_words.len() / CHUNK_WORDS);
            // Both fit: checked above that the chunk total (>= this tensor's) and the
            // tensor count fit in u32.
            for c in 0..chunks_of(t.len, chunk_elems) {
                chunk_words.extend_from_slice(&[i as u32, c as u32]);
            }
        }
        chunk_start.push(chunk_words.len() / CHUNK_WORDS);
        Ok(Self { tensor_words, chunk_words, chunk_elems, chunk_start })
    }

    /// Number of tensors.
    pub fn num_tensors(&self) -> usize {
        self.tensor_words.len() / TENSOR_WORDS
    }

    /// Number of chunks (= blocks of work).
    pub fn num_chunks(&self) -> usize {
        self.chunk_words.len() / CHUNK_WORDS
    }

    /// Flags word of tensor `t`.
    pub fn flags(&self, t: usize) -> u32 {
        (self.tensor_words[t * TENSOR_WORDS + 4] >> 32) as u32
    }

    /// Sets or clears [`TENSOR_HAS_GRAD`] of tensor `t` (the table must then be re-uploaded).
    pub fn set_has_grad(&mut self, t: usize, has_grad: bool) {
        let w = &mut self.tensor_words[t * TENSOR_WORDS + 4];
        let bit = u64::from(TENSOR_HAS_GRAD) << 32;
        if has_grad {
            *w |= bit;
        } else {
            *w &= !bit;
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
    let aligned = [Some(t.param), Some(t.grad), t.momentum]
        .into_iter()
        .flatten()
        .all(|a| a.is_multiple_of(16));
    if aligned && chunk_elems.is_multiple_of(4) {
        flags |= TENSOR_VEC4;
    }
    flags
}

/// The group table: [`GROUP_WORDS`] words per group, from the groups' options rounded exactly
/// as [`StepScalars::from_config`] rounds them.
pub fn group_words(groups: &[SgdConfig]) -> Vec<u32> {
    let mut words = Vec::with_capacity(groups.len() * GROUP_WORDS);
    for g in groups {
        let s = StepScalars::from_config(g);
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
        words.extend_from_slice(&[
            s.weight_decay.to_bits(),
            s.momentum.to_bits(),
            s.one_minus_dampening.to_bits(),
            flags,
        ]);
    }
    words
}

/// `f32(-lr)` for one learning rate, exactly as [`StepScalars::from_config`] computes it.
pub fn neg_lr(lr: f64) -> f32 {
    StepScalars::from_config(&SgdConfig { lr, ..SgdConfig::default() }).neg_lr
}

/// Writes `f32(-lr)` of every group into `out` (cleared first).
pub fn neg_lrs_into(lrs: &[f64], out: &mut Vec<f32>) {
    out.clear();
    out.extend(lrs.iter().map(|&lr| neg_lr(lr)));
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
        TensorSpec { group, len, param, grad, momentum, has_grad: true }
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
        for c in t.chunk_words.chunks(CHUNK_WORDS) {
            let (ti, ci) = (c[0] as usize, c[1] as usize);
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
    fn entry_words_hold_addresses_length_group_and_flags() {
        let t = DeviceTensorTable::build(&[spec(1, 10, 0x100, 0x200, Some(0x300))], 2, 8).unwrap();
        assert_eq!(&t.tensor_words[..4], &[0x100, 0x200, 0x300, 10]);
        assert_eq!(t.tensor_words[4] & 0xffff_ffff, 1);
        assert_eq!(t.flags(0), TENSOR_HAS_GRAD | TENSOR_HAS_MOMENTUM_BUF | TENSOR_VEC4);
        assert_eq!(t.chunk_words, vec![0, 0, 0, 1]);
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
            Err(CudaSgdError::UnknownGroup { tensor: 0, group: 2, groups: 2 })
        ));
        assert!(matches!(
            DeviceTensorTable::build(&[spec(0, 1, 0, 6, None)], 1, 64),
            Err(CudaSgdError::MisalignedAddress { tensor: 0, address: 6 })
        ));
        assert!(matches!(
            DeviceTensorTable::build(&[spec(0, 1, 0, 0, None)], 1, 0),
            Err(CudaSgdError::BadLaunchShape { .. })
        ));
        let huge = spec(0, usize::MAX / 2, 0, 0, None);
        assert!(matches!(
            DeviceTensorTable::build(&[huge], 1, 1),
            Err(CudaSgdError::TooManyChunks { .. })
        ));
    }

    #[test]
    fn has_grad_flag_toggles() {
        let mut t = DeviceTensorTable::build(&[spec(0, 4, 0, 0, None)], 1, 4).unwrap();
        t.set_has_grad(0, false);
        assert_eq!(t.flags(0) & TENSOR_HAS_GRAD, 0);
        assert_eq!(t.tensor_words[4] & 0xffff_ffff, 0);
        t.set_has_grad(0, true);
        assert_eq!(t.flags(0) & TENSOR_HAS_GRAD, TENSOR_HAS_GRAD);
    }

    #[test]
    fn group_words_round_like_step_scalars() {
        let cfg = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.1,
            weight_decay: 1e-4,
            nesterov: true,
            maximize: true,
        };
        let w = group_words(&[cfg, SgdConfig::default()]);
        let s = StepScalars::from_config(&cfg);
        assert_eq!(w[0], s.weight_decay.to_bits());
        assert_eq!(w[1], s.momentum.to_bits());
        assert_eq!(w[2], s.one_minus_dampening.to_bits());
        assert_eq!(w[3], GROUP_HAS_WD | GROUP_HAS_MOMENTUM | GROUP_NESTEROV | GROUP_MAXIMIZE);
        assert_eq!(&w[4..], &[0, 0, 1.0f32.to_bits(), 0]);
        // 1 - 0.1 in f64 first, then rounded: not f32(1) - f32(0.1).
        assert_eq!(f32::from_bits(w[2]), (1.0f64 - 0.1) as f32);
    }

    #[test]
    fn neg_lr_is_f32_of_negated_f64() {
        for lr in [0.1f64, 0.126, 1e-3, 3.0e-7, 0.0] {
            assert_eq!(neg_lr(lr).to_bits(), ((-lr) as f32).to_bits());
        }
        let mut out = vec![9.0];
        neg_lrs_into(&[0.5, 0.25], &mut out);
        assert_eq!(out, vec![-0.5, -0.25]);
    }

    #[test]
    fn auto_chunk_spreads_small_steps_and_caps_large_ones() {
        // H100/H200: 132 SMs.
        assert_eq!(auto_chunk_elems(1 << 20, 132), 4096); // 256 chunks instead of 16
        assert_eq!(auto_chunk_elems(16 << 20, 132), 16_384); // 1024 chunks
        assert_eq!(auto_chunk_elems(256 << 20, 132), 65_536);
        assert_eq!(auto_chunk_elems(0, 132), 4096);
        assert_eq!(auto_chunk_elems(10, 0), 4096);
        for (total, sms) in [(12_345_677usize, 7usize), (1, 1), (usize::MAX / 2, 200)] {
            let c = auto_chunk_elems(total, sms);
            assert!(c.is_power_of_two() && (4096..=65_536).contains(&c), "{total} {sms}: {c}");
        }
    }

    #[test]
    fn packed_offsets_are_16_byte_aligned() {
        let (off, total) = packed_offsets(&[1, 4, 5, 0, 3]);
        assert_eq!(off, vec![0, 4, 8, 16, 16]);
        assert_eq!(total, 20);
    }
}
