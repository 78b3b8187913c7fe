/// f32 to bfloat16 bits, rounded to nearest, ties to even (torch: `c10::BFloat16`'s
/// `round_to_nearest_even`, `tensor.to(torch.bfloat16)`): `(x + 0x7fff + lsb) >> 16` on the
/// bits, which also rounds subnormals and overflows to infinity. NaN stays a quiet NaN.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)] // the top 16 bits, by the shift
pub fn f32_to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    if bits & 0x7fff_ffff > super::F32_INF {
        return ((bits >> 16) | 0x0040) as u16;
    }
    let lsb = (bits >> 16) & 1;
    ((bits + 0x7fff + lsb) >> 16) as u16
}
