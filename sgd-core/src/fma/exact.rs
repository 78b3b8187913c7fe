//! `fmaf` in integer arithmetic: `a * b + c` rounded once to f32 (round to nearest, ties to
//! even), exact on every input, for cores without a fused multiply-add instruction.
//!
//! `libm::fmaf` computes in f64 and corrects the double rounding; on a core without
//! double-precision hardware (Cortex-M0, RISC-V `imac`, and also `imafc`) every one of those f64
//! operations is a soft-float call, about 660 instructions per `fmaf` on a Cortex-M0. Here the
//! 48-bit product of the two 24-bit significands and the aligned addend are added in one `u64`
//! and rounded once, which needs a few dozen integer instructions.
//!
//! Layout: both terms are shifted so that their leading bit is bit 61 (`LEAD`); the product's
//! lowest 14 bits and the addend's lowest 38 bits are then zero. The term of smaller magnitude is
//! shifted right by the exponent difference with the bits shifted out ORed into its lowest bit
//! (the "sticky" bit). Because the larger term's lowest bits are zero and the rounding position
//! lies at least 37 bits above bit 0, the sticky bit stands in for everything shifted out: the
//! exact sum lies strictly between the two neighbours of the computed sum's odd lowest bit, and
//! every rounding boundary is an even multiple of it.

/// Bit index of the leading bit of both aligned terms (their sum stays below 2^63).
const LEAD: u32 = 61;

/// `a * b + c` with one rounding (IEEE 754 `fusedMultiplyAdd` in round to nearest even), in
/// integer arithmetic: the same bits as `f32::mul_add` and `libm::fmaf` on every input
/// (NaN where they are NaN).
#[inline(never)]
pub fn fmaf_exact(a: f32, b: f32, c: f32) -> f32 {
    // Classified by their bits: on a soft-float core an f32 comparison is a library call (and
    // LLVM turns a test of the bits for zero back into one, so zero and the non-finite values
    // are told apart from the rest by one unsigned comparison: `2 * bits - 1` wraps for zero).
    let (a_bits, b_bits, c_bits) = (a.to_bits(), b.to_bits(), c.to_bits());
    let special = |bits: u32| (bits << 1).wrapping_sub(1) >= 0xFEFF_FFFF;
    if special(a_bits) || special(b_bits) {
        // The product is exact (an infinity, a NaN or a signed zero): one rounding, in the add.
        return a * b + c;
    }
    if special(c_bits) {
        return if c_bits << 1 == 0 {
            // `a * b + 0` is the rounded product, its sign included (x + (+-0) = x, x != 0).
            a * b
        } else {
            // A finite product plus an infinity (or a NaN) is that infinity (or NaN).
            c
        };
    }
    let (a_field, b_field, c_field) = (field(a_bits), field(b_bits), field(c_bits));
    let (ma, ea) = unpack(a_bits, a_field);
    let (mb, eb) = unpack(b_bits, b_field);
    let (mc, ec) = unpack(c_bits, c_field);
    let sign_p = (a_bits ^ b_bits) >> 31;
    let sign_c = c_bits >> 31;
    // The product of two 24-bit significands: in [2^46, 2^48).
    let product = u64::from(ma) * u64::from(mb);
    let shift = if product >> 47 != 0 { LEAD - 47 } else { LEAD - 46 };
    let (p, ep) = (product << shift, ea + eb - to_i32(shift));
    let (q, eq) = (u64::from(mc) << (LEAD - 23), ec - to_i32(LEAD - 23));
    // Both have their leading bit at LEAD, so the larger exponent is the larger magnitude.
    let ((hi, e, sign_hi), (lo, e_lo, sign_lo)) = if ep > eq || (ep == eq && p >= q) {
        ((p, ep, sign_p), (q, eq, sign_c))
    } else {
        ((q, eq, sign_c), (p, ep, sign_p))
    };
    let lo = shift_right_sticky(lo, e.abs_diff(e_lo));
    let sum = if sign_hi == sign_lo { hi + lo } else { hi - lo };
    if sum == 0 {
        // Exact cancellation rounds to +0 (round to nearest).
        return 0.0;
    }
    round_to_f32(sign_hi, sum, e)
}

/// The biased exponent field of an f32's bits.
#[inline(always)]
fn field(bits: u32) -> u32 {
    (bits >> 23) & 0xFF
}

/// A finite, non-zero f32 (its bits and exponent field) as `(m, e)` with `|x| = m * 2^e` and
/// bit 23 of `m` its leading bit (subnormals normalised).
#[inline(always)]
fn unpack(bits: u32, field: u32) -> (u32, i32) {
    let fraction = bits & 0x007F_FFFF;
    if field == 0 {
        let shift = fraction.leading_zeros() - 8;
        (fraction << shift, -149 - to_i32(shift))
    } else {
        (fraction | 0x0080_0000, to_i32(field) - 150)
    }
}

/// Index of the leading bit of `m != 0`: without a count-leading-zeros instruction (Cortex-M0,
/// RISC-V without Zbb) the sums' usual positions, 62 to 60, are tested first.
#[inline(always)]
fn leading_bit(m: u64) -> u32 {
    if m >> 62 != 0 {
        62
    } else if m >> 61 != 0 {
        61
    } else if m >> 60 != 0 {
        60
    } else {
        63 - m.leading_zeros()
    }
}

/// `x >> by` with any bit shifted out ORed into bit 0 (`by` may exceed 63).
#[inline(always)]
fn shift_right_sticky(x: u64, by: u32) -> u64 {
    if by == 0 {
        x
    } else if by >= 64 {
        u64::from(x != 0)
    } else {
        // The bits shifted out, tested by one shift the other way.
        (x >> by) | u64::from(x << (64 - by) != 0)
    }
}

/// `(-1)^sign * m * 2^e` (`m != 0`, its bit 0 possibly sticky, at least 2 bits below the
/// rounding position) rounded to the nearest f32, ties to even; overflow gives an infinity,
/// underflow a subnormal or a signed zero.
#[inline(always)]
fn round_to_f32(sign: u32, m: u64, e: i32) -> f32 {
    let exp = e + to_i32(leading_bit(m)); // exponent of the leading bit
    let sign = sign << 31;
    if exp > 127 {
        return f32::from_bits(sign | 0x7F80_0000);
    }
    // The exponent of the lowest kept bit: 24 significant bits, or the subnormals' 2^-149.
    let normal = exp >= -126;
    let drop = if normal { exp - 23 } else { -149 } - e;
    let kept = if drop <= 0 {
        m << drop.unsigned_abs()
    } else if drop >= 64 {
        // m < 2^63: below half of 2^-149.
        0
    } else {
        let drop = drop.unsigned_abs();
        let kept = m >> drop;
        // The dropped bits at the top of a word: above 2^63 is above half, 2^63 a tie.
        let rest = m << (64 - drop);
        kept + u64::from(rest > 1 << 63 || (rest == 1 << 63 && kept & 1 == 1))
    };
    // Normal: `kept` in [2^23, 2^24], its leading bit adds the 1 to the exponent field (and a
    // rounding carry to 2^24 one more, up to the infinity's bits); subnormal: `kept` in
    // [0, 2^23], where 2^23 is the smallest normal.
    let field = if normal { exp + 126 } else { 0 };
    // Below 2^31: field <= 253, kept <= 2^24.
    let bits = (field.unsigned_abs() << 23) + u32::try_from(kept).unwrap_or(u32::MAX);
    f32::from_bits(sign | bits.min(0x7F80_0000))
}

/// A shift count or exponent (below 2^7) as `i32`.
#[inline(always)]
fn to_i32(x: u32) -> i32 {
    i32::try_from(x).unwrap_or(i32::MAX)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::fmaf_exact;

    /// The same bits, or both NaN.
    fn same(x: f32, y: f32) -> bool {
        x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
    }

    fn check(a: f32, b: f32, c: f32) {
        let got = fmaf_exact(a, b, c);
        let want = a.mul_add(b, c);
        assert!(same(got, want), "fma({a:e}, {b:e}, {c:e}) = {got:e}, want {want:e}");
        assert!(same(got, libm::fmaf(a, b, c)), "libm disagrees at ({a:e}, {b:e}, {c:e})");
    }

    /// xorshift64*: reproducible test inputs without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn bits(&mut self) -> u32 {
            u32::try_from(self.next() >> 32).unwrap_or(0)
        }
    }

    #[test]
    fn special_values() {
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
            -f32::MAX,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            1e-40,
            3e38,
            0.5,
            2.0,
            1.0 + f32::EPSILON,
            1.0 - f32::EPSILON / 2.0,
        ];
        for &a in &specials {
            for &b in &specials {
                for &c in &specials {
                    check(a, b, c);
                }
            }
        }
    }

    #[test]
    fn random_bit_patterns() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2_000_000 {
            check(
                f32::from_bits(rng.bits()),
                f32::from_bits(rng.bits()),
                f32::from_bits(rng.bits()),
            );
        }
    }

    /// Operands of nearby exponents, where cancellation, ties and the sticky bit decide.
    #[test]
    fn cancellation_ties_and_sticky_bits() {
        let mut rng = Rng(42);
        for _ in 0..2_000_000 {
            let (ra, rb, rc) = (rng.bits(), rng.bits(), rng.bits());
            let a = f32::from_bits((ra & 0x807F_FFFF) | ((120 + (ra >> 23) % 16) << 23));
            let b = f32::from_bits((rb & 0x807F_FFFF) | ((120 + (rb >> 23) % 16) << 23));
            // c near -(a * b), a product's low bits, or far below it.
            let p = a * b;
            let c = match rc % 4 {
                0 => -p,
                1 => f32::from_bits((-p).to_bits() ^ (rc >> 8 & 0xF)),
                2 => f32::from_bits(p.to_bits().wrapping_sub((30 + rc % 40) << 23)),
                _ => f32::from_bits(rc & 0x80FF_FFFF),
            };
            check(a, b, c);
        }
    }

    /// Results at the bottom and the top of the range: subnormals, underflow, overflow.
    #[test]
    fn underflow_and_overflow() {
        let mut rng = Rng(7);
        for _ in 0..1_000_000 {
            let (ra, rb, rc) = (rng.bits(), rng.bits(), rng.bits());
            let low = rc & 1 == 0;
            let (ea, eb) = if low {
                (1 + (ra >> 23) % 64, 1 + (rb >> 23) % 64)
            } else {
                (190 + (ra >> 23) % 64, 190 + (rb >> 23) % 64)
            };
            let a = f32::from_bits((ra & 0x807F_FFFF) | (ea.min(254) << 23));
            let b = f32::from_bits((rb & 0x807F_FFFF) | (eb.min(254) << 23));
            let c = if low {
                f32::from_bits(rc & 0x80FF_FFFF)
            } else {
                f32::from_bits(rc & 0xFF7F_FFFF | 0x7E80_0000)
            };
            check(a, b, c);
        }
    }
}
