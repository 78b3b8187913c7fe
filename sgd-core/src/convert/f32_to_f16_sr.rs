/// f32 to float16 bits, rounded stochastically with the random word `r`.
///
/// `|x|` is written as `Y`, the value in units of 2^-13 f16 ulps: in f16's normal range
/// `Y = bits(|x|) - (112 << 23)` (the f16 bits shifted left by 13, plus the 13 bits that do not
/// fit), below it `Y = floor(|x| * 2^37)` (the subnormal grid 2^-24, plus 13 bits). The result
/// is `min((Y + (r >> 19)) >> 13, 0x7c00)` with the sign of `x`: the top 13 bits of `r` are
/// added and the sum truncated, so a carry out of the subnormals lands on the smallest normal
/// and values past 65504 may round to infinity. Unbiased for every f32 in f16's normal range;
/// for f32 values below 2^-14 with bits under 2^-37 those bits are dropped first (a bias below
/// 2^-13 of an f16 ulp, toward zero). NaN stays a quiet NaN, infinities stay infinities.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)] // f16 results fit 16 bits
pub fn f32_to_f16_sr(x: f32, r: u32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let a = bits & 0x7fff_ffff;
    if a > super::F32_INF {
        return super::f16_nan(bits);
    }
    let y = if a >= super::F16_MIN_NORMAL_AS_F32 {
        a - super::F16_REBIAS
    } else {
        // |x| * 2^37 = M * 2^(max(e, 1) - 113) with the 24-bit significand M.
        let e = a >> 23;
        let m = (a & 0x7f_ffff) | if e == 0 { 0 } else { 0x80_0000 };
        m.checked_shr(113 - e.max(1)).unwrap_or(0)
    };
    let h = ((y + (r >> 19)) >> 13).min(u32::from(super::F16_INF));
    sign | h as u16
}
