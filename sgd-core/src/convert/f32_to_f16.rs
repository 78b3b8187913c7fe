/// f32 to float16 bits, rounded to nearest, ties to even (torch: `c10::Half`,
/// `tensor.to(torch.float16)`; IEEE 754 `convertFormat`): values of at least 65520 become
/// infinity, values below 2^-14 round to f16 subnormals (at most 2^-25 becomes ±0), NaN stays a
/// quiet NaN.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)] // f16 results fit 16 bits
pub fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let a = bits & 0x7fff_ffff;
    if a > super::F32_INF {
        return super::f16_nan(bits);
    }
    if a >= super::F16_MIN_NORMAL_AS_F32 {
        // f16 bits << 13 (plus 13 fraction bits) = a - rebias; round to nearest even.
        let t = a - super::F16_REBIAS;
        let rounded = (t + 0xfff + ((t >> 13) & 1)) >> 13;
        return sign | rounded.min(u32::from(super::F16_INF)) as u16;
    }
    let e = a >> 23;
    if e < 102 {
        return sign; // below 2^-25: rounds to zero
    }
    // |x| * 2^24 = M * 2^(e - 126), e in 102..=112: shift right by 14..=24.
    let m = (a & 0x7f_ffff) | 0x80_0000;
    let s = 126 - e;
    let q = m >> s;
    let rem = m & ((1 << s) - 1);
    let half = 1 << (s - 1);
    let up = u32::from(rem > half || (rem == half && q & 1 == 1));
    sign | (q + up) as u16
}
