//! The integer conversions against slow references computed on the values: every f16 and bf16
//! bit pattern widened, narrowing checked at every representable value, every midpoint and its
//! neighbours, overflow, subnormals and a sweep of random f32; stochastic rounding checked to be
//! exactly unbiased by summing over every value of the random bits it uses.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_precision_loss)]
use sgd_core::convert::{
    bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_bf16_sr, f32_to_f16, f32_to_f16_sr,
};

/// The value of f16 bits, computed in f64 from the definition.
fn f16_value(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let man = f64::from(h & 0x3ff);
    match exp {
        0 => sign * man * 2f64.powi(-24),
        0x1f if man == 0.0 => sign * f64::INFINITY,
        0x1f => f64::NAN,
        _ => sign * (1.0 + man / 1024.0) * 2f64.powi(exp - 15),
    }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn f16_widening_is_exact_for_every_pattern() {
    for h in 0..=u16::MAX {
        let want = f16_value(h);
        let got = f16_to_f32(h);
        if want.is_nan() {
            assert!(got.is_nan(), "{h:#06x}");
        } else {
            assert_eq!(f64::from(got).to_bits(), want.to_bits(), "{h:#06x}");
        }
    }
}

/// Round to nearest even onto a sorted table of the non-negative finite values of a format
/// (index = bit pattern), the largest value followed by infinity at `overflow` (the value from
/// which the format rounds to infinity).
fn nearest_even(x: f32, table: &[f64], overflow: f64, sign_bit: u16) -> u16 {
    let a = f64::from(x.abs());
    let sign = if x.is_sign_negative() { sign_bit } else { 0 };
    if a >= overflow {
        return sign | table.len() as u16; // infinity follows the largest finite value
    }
    let i = table.partition_point(|&v| v <= a) - 1; // table[i] <= a < table[i + 1]
    if i + 1 == table.len() {
        return sign | i as u16;
    }
    let (lo, hi) = (table[i], table[i + 1]);
    let pick = if a - lo < hi - a {
        i
    } else if a - lo > hi - a {
        i + 1
    } else if i % 2 == 0 {
        i
    } else {
        i + 1
    };
    sign | pick as u16
}

fn f16_table() -> Vec<f64> {
    (0..0x7c00u16).map(f16_value).collect()
}

fn bf16_table() -> Vec<f64> {
    (0..0x7f80u16).map(|h| f64::from(bf16_to_f32(h))).collect()
}

/// Inputs worth checking: every value, every midpoint and one f32 ulp either side, plus random.
fn probes(table: &[f64]) -> Vec<f32> {
    let mut out = Vec::new();
    for w in table.windows(2) {
        for v in [w[0], (w[0] + w[1]) / 2.0] {
            let f = v as f32;
            assert_eq!(f64::from(f), v, "probe not exact");
            for g in
                [f, f32::from_bits(f.to_bits() + 1), f32::from_bits(f.to_bits().saturating_sub(1))]
            {
                out.extend([g, -g]);
            }
        }
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..200_000 {
        out.push(f32::from_bits(xorshift(&mut state) as u32));
    }
    out.extend([f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN_POSITIVE, 1e-45, 0.0, -0.0]);
    out.extend([65504.0, 65519.996, 65520.0, 65536.0, 2f32.powi(-25), 2f32.powi(-24), 3e-8]);
    out
}

#[test]
fn f16_narrowing_rounds_to_nearest_even() {
    let table = f16_table();
    for x in probes(&table) {
        let got = f32_to_f16(x);
        if x.is_nan() {
            assert!(f16_to_f32(got).is_nan(), "{x:e}");
            continue;
        }
        assert_eq!(got, nearest_even(x, &table, 65520.0, 0x8000), "{x:e} ({:#010x})", x.to_bits());
    }
    for h in 0..=u16::MAX {
        if !f16_to_f32(h).is_nan() {
            assert_eq!(f32_to_f16(f16_to_f32(h)), h, "round trip {h:#06x}");
        }
    }
}

#[test]
fn bf16_narrowing_rounds_to_nearest_even() {
    let table = bf16_table();
    // Halfway between the largest bf16 (0x7f7f) and 2^128 (an even pattern: infinity).
    let overflow = f64::from(f32::from_bits(0x7f7f_8000));
    for x in probes(&table) {
        let got = f32_to_bf16(x);
        if x.is_nan() {
            assert!(bf16_to_f32(got).is_nan(), "{x:e}");
            continue;
        }
        let want = nearest_even(x, &table, overflow, 0x8000);
        assert_eq!(got, want, "{x:e} ({:#010x})", x.to_bits());
    }
    for h in 0..=u16::MAX {
        if !bf16_to_f32(h).is_nan() {
            assert_eq!(f32_to_bf16(bf16_to_f32(h)), h, "round trip {h:#06x}");
        }
    }
}

/// The sum over every value of the random bits a conversion uses, divided by their count: the
/// exact expectation of the rounded value.
fn expectation(x: f32, bits: u32, convert: impl Fn(f32, u32) -> f64) -> f64 {
    let n = 1u32 << bits;
    let total: f64 = (0..n).map(|k| convert(x, k << (32 - bits))).sum();
    total / f64::from(n)
}

#[test]
fn stochastic_rounding_is_exactly_unbiased() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bf16 = |x: f32, r: u32| f64::from(bf16_to_f32(f32_to_bf16_sr(x, r)));
    let f16 = |x: f32, r: u32| f64::from(f16_to_f32(f32_to_f16_sr(x, r)));
    for _ in 0..300 {
        let r = xorshift(&mut state);
        let bits = r as u32;
        // Finite values below bf16's largest: every f32 of these bits.
        let x = f32::from_bits(bits & 0xfeff_ffff);
        if x.is_finite() {
            assert_eq!(expectation(x, 16, bf16), f64::from(x), "bf16 {x:e}");
        }
        // f16's normal range: 2^-14 .. 65504.
        let y = f32::from_bits((bits & 0x807f_ffff) | ((113 + (r >> 40) as u32 % 29) << 23));
        if y.abs() <= 65504.0 {
            assert_eq!(expectation(y, 13, f16), f64::from(y), "f16 {y:e}");
        }
        // f16 subnormals whose bits end at 2^-37: exact too.
        let z = ((r >> 45) as u32 % (1 << 23)) as f32 * 2f32.powi(-37);
        assert_eq!(expectation(z, 13, f16), f64::from(z), "f16 subnormal {z:e}");
    }
    // Below 2^-37 the dropped bits bias toward zero by less than 2^-13 of an f16 ulp.
    let tiny = 1e-12f32;
    let bias = f64::from(tiny) - expectation(tiny, 13, f16);
    assert!((0.0..2f64.powi(-24 - 13)).contains(&bias), "{bias:e}");
}

#[test]
fn stochastic_rounding_lands_on_a_neighbour() {
    let mut state = 7u64;
    for _ in 0..100_000 {
        let x = f32::from_bits(xorshift(&mut state) as u32);
        let r = xorshift(&mut state) as u32;
        if x.is_nan() {
            assert!(bf16_to_f32(f32_to_bf16_sr(x, r)).is_nan());
            assert!(f16_to_f32(f32_to_f16_sr(x, r)).is_nan());
            continue;
        }
        // Truncation (r = 0) and the next value up in magnitude bracket every result.
        let (b, b0) = (f32_to_bf16_sr(x, r), f32_to_bf16_sr(x, 0));
        let inf = b0 & 0x7fff == 0x7f80;
        assert!(b == b0 || (b == b0 + 1 && !inf), "bf16 {x:e} {b:#06x} {b0:#06x}");
        assert_eq!(b0, (x.to_bits() >> 16) as u16, "bf16 truncation {x:e}");
        let (h, h0) = (f32_to_f16_sr(x, r), f32_to_f16_sr(x, 0));
        assert!(h == h0 || (h == h0 + 1 && h0 & 0x7fff < 0x7c00), "f16 {x:e}");
        // From 2^16 on there is no finite f16 above: infinity, as with round to nearest.
        let bound = if x.abs() >= 65536.0 { f64::INFINITY } else { f64::from(x.abs()) };
        assert!(f64::from(f16_to_f32(h0)).abs() <= bound, "f16 truncation {x:e}");
    }
    assert_eq!(f32_to_f16_sr(f32::INFINITY, u32::MAX), 0x7c00);
    assert_eq!(f32_to_f16_sr(-65504.0, u32::MAX), 0xfbff);
    assert_eq!(f32_to_f16_sr(-65505.0, u32::MAX), 0xfc00);
    assert_eq!(f32_to_bf16_sr(f32::NEG_INFINITY, u32::MAX), 0xff80);
}
