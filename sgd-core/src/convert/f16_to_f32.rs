/// float16 bits to f32, exactly (torch: `tensor.float()` of a float16 tensor): normals rebias
/// the exponent, subnormals are normalised, infinities and NaNs keep their fraction bits.
#[inline(always)]
pub fn f16_to_f32(h: u16) -> f32 {
    let h = u32::from(h);
    let sign = (h & 0x8000) << 16;
    let exp = (h >> 10) & 0x1f;
    let man = h & 0x3ff;
    let bits = match exp {
        0x1f => sign | super::F32_INF | (man << 13),
        0 if man == 0 => sign,
        0 => {
            // man * 2^-24: shift the leading one into bit 10 (the implicit bit).
            let s = man.leading_zeros() - 21;
            sign | ((113 - s) << 23) | (((man << s) & 0x3ff) << 13)
        }
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}
