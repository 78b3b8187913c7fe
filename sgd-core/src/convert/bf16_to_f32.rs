/// bfloat16 bits to f32, exactly: the 16 bits become the top half of the f32 (torch:
/// `tensor.float()` of a bfloat16 tensor).
#[inline(always)]
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}
