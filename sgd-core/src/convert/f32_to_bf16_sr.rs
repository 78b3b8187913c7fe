/// f32 to bfloat16 bits, rounded stochastically with the random word `r`:
/// `(bits(x) + (r >> 16)) >> 16`, i.e. the top 16 bits of `r` are added below the kept bits
/// and the sum is truncated. For every finite `x` and uniform `r` the expectation of the
/// result is `x` exactly (the bit patterns of one sign are linear in the value within a
/// binade, and the carry into the exponent lands on the next binade's first value); values
/// within one bf16 ulp of `f32::MAX` may round to infinity. NaN stays a quiet NaN (as
/// [`super::f32_to_bf16`]); infinities stay infinities.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)] // the top 16 bits, by the shift
pub fn f32_to_bf16_sr(x: f32, r: u32) -> u16 {
    let bits = x.to_bits();
    if bits & 0x7fff_ffff > super::F32_INF {
        return ((bits >> 16) | 0x0040) as u16;
    }
    // |x| <= 0x7f80_0000, so the sum stays below the sign bit.
    ((bits + (r >> 16)) >> 16) as u16
}
