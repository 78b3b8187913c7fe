//! [`BigInt`]: a Python `int` of at most [`INT_BITS`] bits (sign apart) in fixed 32-bit limbs,
//! with CPython's conversions to and from `float` (correctly rounded `PyLong_AsDouble`,
//! `long_true_divide`).

use core::cmp::Ordering;
use core::fmt;

/// Limbs of a [`BigInt`].
pub(crate) const LIMBS: usize = 52;

/// The largest magnitude an int may have is `2^INT_BITS - 1` (`3 ** 1000` has 1585 bits,
/// `2 ** 1000` 1001). Past it evaluation stops with
/// [`PyException::IntTooLarge`](crate::python::PyException::IntTooLarge).
pub const INT_BITS: u32 = 32 * 52;

/// Past [`INT_BITS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooLarge;

/// A signed integer `(-1)^neg * sum(mag[i] * 2^(32 i))`; `mag[len..]` is zero, `mag[len - 1]`
/// is not, and zero is never negative.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BigInt {
    neg: bool,
    len: usize,
    mag: [u32; LIMBS],
}

/// The low 32 bits of a 64-bit intermediate (one limb).
#[inline(always)]
#[allow(clippy::cast_possible_truncation)] // taking the low limb is the point
fn low(x: u64) -> u32 {
    x as u32
}

/// `x >> 32` as a limb.
#[inline(always)]
fn high(x: u64) -> u32 {
    low(x >> 32)
}

/// Limbs of the intermediates of a division (a dividend shifted left by up to 64 bits).
const WIDE: usize = LIMBS + 2;

/// `src << bits` into `out` (zeroed); false (and `out` partly written) when it does not fit.
fn shl_mag(src: &[u32], bits: u32, out: &mut [u32]) -> bool {
    let (limbs, off) = (usize::try_from(bits / 32).unwrap_or(usize::MAX), bits % 32);
    let n = trimmed(src);
    if n == 0 {
        return true;
    }
    let top_bits = 32 * (n - 1) + usize::try_from(32 - src[n - 1].leading_zeros()).unwrap_or(32);
    if top_bits.saturating_add(usize::try_from(bits).unwrap_or(usize::MAX)) > 32 * out.len() {
        return false;
    }
    for i in (0..n).rev() {
        let d = src[i];
        if off == 0 {
            out[i + limbs] = d;
        } else {
            out[i + limbs] |= d << off;
            if let Some(up) = out.get_mut(i + limbs + 1) {
                *up |= d >> (32 - off);
            }
        }
    }
    true
}

/// A quotient of [`BigInt::divrem_mag`] known to fit [`LIMBS`].
fn narrow(q: &[u32; WIDE]) -> [u32; LIMBS] {
    let mut out = [0u32; LIMBS];
    out.copy_from_slice(&q[..LIMBS]);
    out
}

/// Significant length of a limb slice.
fn trimmed(mag: &[u32]) -> usize {
    mag.iter().rposition(|&d| d != 0).map_or(0, |i| i + 1)
}

/// Compares two magnitudes given as significant slices.
fn cmp_mag(a: &[u32], b: &[u32]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

impl BigInt {
    /// `0`.
    pub(crate) const ZERO: Self = Self { neg: false, len: 0, mag: [0; LIMBS] };

    fn from_mag(neg: bool, mag: [u32; LIMBS]) -> Self {
        let len = trimmed(&mag);
        Self { neg: neg && len > 0, len, mag }
    }

    /// The magnitude's significant limbs.
    fn digits(&self) -> &[u32] {
        &self.mag[..self.len]
    }

    /// From a machine integer.
    pub(crate) fn from_i64(v: i64) -> Self {
        Self::from_u64(v < 0, v.unsigned_abs())
    }

    fn from_u64(neg: bool, m: u64) -> Self {
        let mut mag = [0; LIMBS];
        mag[0] = low(m);
        mag[1] = high(m);
        Self::from_mag(neg, mag)
    }

    /// The value, if it fits an `i64`.
    pub(crate) fn to_i64(self) -> Option<i64> {
        let m = self.low_u64();
        if self.len > 2 {
            return None;
        }
        if self.neg {
            if m <= i64::MIN.unsigned_abs() { Some(0i64.wrapping_sub_unsigned(m)) } else { None }
        } else {
            i64::try_from(m).ok()
        }
    }

    /// The low 64 bits of the magnitude.
    fn low_u64(&self) -> u64 {
        u64::from(self.mag[0]) | u64::from(self.mag[1]) << 32
    }

    /// `self == 0`.
    pub(crate) fn is_zero(&self) -> bool {
        self.len == 0
    }

    /// `self < 0`.
    pub(crate) fn is_negative(&self) -> bool {
        self.neg
    }

    /// The lowest bit (`self % 2 != 0`).
    pub(crate) fn is_odd(&self) -> bool {
        self.mag[0] & 1 == 1
    }

    /// Python's `int.bit_length()` (of the magnitude).
    pub(crate) fn bit_length(&self) -> u32 {
        match self.digits().last() {
            None => 0,
            Some(&top) => 32 * self.len_u32() - top.leading_zeros(),
        }
    }

    fn len_u32(&self) -> u32 {
        // len <= LIMBS = 52
        u32::try_from(self.len).unwrap_or(u32::MAX)
    }

    /// Bit `i` of the magnitude.
    pub(crate) fn bit(&self, i: u32) -> bool {
        let (limb, off) = (usize::try_from(i / 32).unwrap_or(usize::MAX), i % 32);
        limb < self.len && (self.mag[limb] >> off) & 1 == 1
    }

    /// `-self`.
    pub(crate) fn neg(&self) -> Self {
        Self { neg: !self.neg && self.len > 0, ..*self }
    }

    /// `abs(self)`.
    pub(crate) fn abs(&self) -> Self {
        Self { neg: false, ..*self }
    }

    /// Magnitude sum.
    fn add_mag(a: &[u32], b: &[u32]) -> Result<[u32; LIMBS], TooLarge> {
        let mut out = [0; LIMBS];
        let mut carry = 0u64;
        for (i, o) in out.iter_mut().enumerate().take(a.len().max(b.len())) {
            let s = u64::from(a.get(i).copied().unwrap_or(0))
                + u64::from(b.get(i).copied().unwrap_or(0))
                + carry;
            *o = low(s);
            carry = s >> 32;
        }
        if carry == 0 {
            Ok(out)
        } else {
            match out.get_mut(a.len().max(b.len())) {
                Some(o) => {
                    *o = low(carry);
                    Ok(out)
                }
                None => Err(TooLarge),
            }
        }
    }

    /// Magnitude difference `a - b` for `a >= b`.
    fn sub_mag(a: &[u32], b: &[u32]) -> [u32; LIMBS] {
        let mut out = [0; LIMBS];
        let mut borrow = false;
        for (i, o) in out.iter_mut().enumerate().take(a.len()) {
            let (d, b1) = a[i].overflowing_sub(b.get(i).copied().unwrap_or(0));
            let (d, b2) = d.overflowing_sub(u32::from(borrow));
            *o = d;
            borrow = b1 || b2;
        }
        out
    }

    /// `self + other` (`other` negated when `negate_other`).
    fn add_signed(&self, other: &Self, negate_other: bool) -> Result<Self, TooLarge> {
        let other_neg = other.neg != negate_other && other.len > 0;
        if self.neg == other_neg {
            return Ok(Self::from_mag(self.neg, Self::add_mag(self.digits(), other.digits())?));
        }
        match cmp_mag(self.digits(), other.digits()) {
            Ordering::Equal => Ok(Self::ZERO),
            Ordering::Greater => {
                Ok(Self::from_mag(self.neg, Self::sub_mag(self.digits(), other.digits())))
            }
            Ordering::Less => {
                Ok(Self::from_mag(other_neg, Self::sub_mag(other.digits(), self.digits())))
            }
        }
    }

    /// `self + other`.
    pub(crate) fn add(&self, other: &Self) -> Result<Self, TooLarge> {
        self.add_signed(other, false)
    }

    /// `self - other`.
    pub(crate) fn sub(&self, other: &Self) -> Result<Self, TooLarge> {
        self.add_signed(other, true)
    }

    /// `self * other`.
    pub(crate) fn mul(&self, other: &Self) -> Result<Self, TooLarge> {
        let (a, b) = (self.digits(), other.digits());
        if a.is_empty() || b.is_empty() {
            return Ok(Self::ZERO);
        }
        if a.len() + b.len() - 1 > LIMBS {
            return Err(TooLarge);
        }
        let mut out = [0u32; LIMBS + 1];
        for (i, &x) in a.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &y) in b.iter().enumerate() {
                let t = u64::from(x) * u64::from(y) + u64::from(out[i + j]) + carry;
                out[i + j] = low(t);
                carry = t >> 32;
            }
            out[i + b.len()] = low(carry);
        }
        if out[LIMBS] != 0 {
            return Err(TooLarge);
        }
        let mut mag = [0; LIMBS];
        mag.copy_from_slice(&out[..LIMBS]);
        Ok(Self::from_mag(self.neg != other.neg, mag))
    }

    /// Truncating division of magnitudes, `(|a| / |b|, |a| % |b|)`, for `a` of up to
    /// [`WIDE`] limbs and `b != 0` (Knuth's algorithm D).
    fn divrem_mag(a: &[u32], b: &[u32]) -> ([u32; WIDE], [u32; LIMBS]) {
        let mut q = [0u32; WIDE];
        let mut r = [0u32; LIMBS];
        if cmp_mag(a, b) == Ordering::Less {
            r[..a.len()].copy_from_slice(a);
            return (q, r);
        }
        let n = b.len();
        if n == 1 {
            let d = u64::from(b[0]);
            let mut rem = 0u64;
            for i in (0..a.len()).rev() {
                let cur = rem << 32 | u64::from(a[i]);
                q[i] = low(cur / d);
                rem = cur % d;
            }
            r[0] = low(rem);
            return (q, r);
        }
        let m = a.len();
        let s = b[n - 1].leading_zeros();
        let mut vn = [0u32; LIMBS];
        shl_mag(b, s, &mut vn);
        let mut un = [0u32; WIDE + 1];
        shl_mag(a, s, &mut un);
        let base = 1u64 << 32;
        let (vtop, vnext) = (u64::from(vn[n - 1]), u64::from(vn[n - 2]));
        for j in (0..=m - n).rev() {
            let num = u64::from(un[j + n]) << 32 | u64::from(un[j + n - 1]);
            let mut qhat = num / vtop;
            let mut rhat = num % vtop;
            while qhat >= base || qhat * vnext > (rhat << 32 | u64::from(un[j + n - 2])) {
                qhat -= 1;
                rhat += vtop;
                if rhat >= base {
                    break;
                }
            }
            // un[j..=j+n] -= qhat * vn
            let (mut carry, mut borrow) = (0u64, false);
            for i in 0..n {
                let p = qhat * u64::from(vn[i]) + carry;
                carry = p >> 32;
                let (d, b1) = un[i + j].overflowing_sub(low(p));
                let (d, b2) = d.overflowing_sub(u32::from(borrow));
                un[i + j] = d;
                borrow = b1 || b2;
            }
            let (d, b1) = un[j + n].overflowing_sub(low(carry));
            let (d, b2) = d.overflowing_sub(u32::from(borrow));
            un[j + n] = d;
            q[j] = low(qhat);
            if b1 || b2 {
                // qhat was one too large: add vn back.
                q[j] = q[j].wrapping_sub(1);
                let mut c = 0u64;
                for i in 0..n {
                    let t = u64::from(un[i + j]) + u64::from(vn[i]) + c;
                    un[i + j] = low(t);
                    c = t >> 32;
                }
                un[j + n] = un[j + n].wrapping_add(low(c));
            }
        }
        for i in 0..n {
            r[i] = if s == 0 { un[i] } else { un[i] >> s | un[i + 1] << (32 - s) };
        }
        (q, r)
    }

    /// Python's `divmod(self, other)` (floor division, remainder with the sign of `other`);
    /// `other != 0`.
    pub(crate) fn divmod_floor(&self, other: &Self) -> Result<(Self, Self), TooLarge> {
        let (q, r) = Self::divrem_mag(self.digits(), other.digits());
        let mut q = Self::from_mag(self.neg != other.neg, narrow(&q));
        let mut r = Self::from_mag(self.neg, r);
        if !r.is_zero() && r.neg != other.neg {
            q = q.sub(&Self::from_i64(1))?;
            r = r.add(other)?;
        }
        Ok((q, r))
    }

    /// `self << bits` (of the magnitude, sign kept).
    pub(crate) fn shl(&self, bits: u32) -> Result<Self, TooLarge> {
        let mut mag = [0u32; LIMBS];
        if shl_mag(self.digits(), bits, &mut mag) {
            Ok(Self::from_mag(self.neg, mag))
        } else {
            Err(TooLarge)
        }
    }

    /// `|self| >> bits` and whether a one bit was shifted out (sign kept on the result).
    pub(crate) fn shr_sticky(&self, bits: u32) -> (Self, bool) {
        if bits >= self.bit_length() {
            return (Self::ZERO, !self.is_zero());
        }
        let (limbs, off) = (usize::try_from(bits / 32).unwrap_or(LIMBS), bits % 32);
        let mut sticky = self.mag[..limbs].iter().any(|&d| d != 0);
        if off != 0 {
            sticky |= self.mag[limbs] & ((1 << off) - 1) != 0;
        }
        let mut mag = [0u32; LIMBS];
        for (i, m) in mag.iter_mut().enumerate().take(self.len - limbs) {
            let lo = self.mag[i + limbs];
            let hi = self.mag.get(i + limbs + 1).copied().unwrap_or(0);
            *m = if off == 0 { lo } else { lo >> off | hi << (32 - off) };
        }
        (Self::from_mag(self.neg, mag), sticky)
    }

    /// `self ** exp` for `exp >= 0` (left-to-right square and multiply: every intermediate
    /// is a power at most the result).
    pub(crate) fn pow(&self, exp: &Self) -> Result<Self, TooLarge> {
        let one = Self::from_i64(1);
        if exp.is_zero() {
            return Ok(one);
        }
        if self.is_zero() || *self == one {
            return Ok(*self);
        }
        if *self == one.neg() {
            return Ok(if exp.is_odd() { *self } else { one });
        }
        // |self| >= 2: the result has at least (bits - 1) * exp + 1 bits.
        let e = exp.to_i64().ok_or(TooLarge)?;
        let lower = i64::from(self.bit_length() - 1).saturating_mul(e);
        if lower >= i64::from(INT_BITS) {
            return Err(TooLarge);
        }
        let mut acc = one;
        for i in (0..exp.bit_length()).rev() {
            acc = acc.mul(&acc)?;
            if exp.bit(i) {
                acc = acc.mul(self)?;
            }
        }
        Ok(acc)
    }

    /// The top 64 bits of the magnitude (shifted so that bit 63 is its leading one), with
    /// every lower bit ORed into bit 0, and the shift: `|self| ~ top * 2^shift`, and
    /// `top as f64` is `|self|` correctly rounded to 53 bits.
    fn top64_sticky(&self) -> (u64, u32) {
        let bits = self.bit_length();
        if bits <= 64 {
            return (self.low_u64(), 0);
        }
        let (top, sticky) = self.shr_sticky(bits - 64);
        (top.low_u64() | u64::from(sticky), bits - 64)
    }

    /// Python's `float(self)` (`PyLong_AsDouble`): correctly rounded, to nearest even;
    /// `None` past the largest float (`OverflowError: int too large to convert to float`).
    pub(crate) fn to_f64(self) -> Option<f64> {
        let (top, shift) = self.top64_sticky();
        let m = u64_to_f64(top);
        let v = libm::scalbn(m, i32::try_from(shift).unwrap_or(i32::MAX));
        if v.is_finite() { Some(if self.neg { -v } else { v }) } else { None }
    }

    /// CPython's `_PyLong_Frexp`: `self ~ x * 2^e` with `0.5 <= x < 1`, `x` rounded to 53 bits
    /// (for the logarithm of an int past the float range); `self != 0`.
    pub(crate) fn frexp(&self) -> (f64, i64) {
        let (top, shift) = self.top64_sticky();
        let bits = i64::from(self.bit_length());
        let m = u64_to_f64(top);
        // m = top rounded, in [2^(b-1), 2^b] for b = min(bits, 64).
        let b = bits - i64::from(shift);
        let mut x = libm::scalbn(m, -i32::try_from(b).unwrap_or(0));
        let mut e = bits;
        if x == 1.0 {
            x = 0.5;
            e += 1;
        }
        (if self.neg { -x } else { x }, e)
    }

    /// The integer value of a finite, integral float (exact; |x| < 2^1024 fits).
    pub(crate) fn from_integral_f64(x: f64) -> Self {
        let bits = x.to_bits();
        let exp = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
        let frac = bits & ((1 << 52) - 1);
        if exp == 0 {
            return Self::ZERO; // zero or subnormal (never integral unless zero)
        }
        let m = Self::from_u64(false, frac | 1 << 52);
        let shift = exp - 1075;
        let v = if shift >= 0 {
            m.shl(shift.unsigned_abs()).unwrap_or(Self::ZERO)
        } else {
            m.shr_sticky(shift.unsigned_abs()).0
        };
        if x < 0.0 { v.neg() } else { v }
    }

    /// CPython's `long_true_divide`: `self / other` correctly rounded (`other != 0`); `None`
    /// when the quotient is past the float range (`OverflowError: integer division result
    /// too large for a float`).
    pub(crate) fn true_div(&self, other: &Self) -> Option<f64> {
        const MANT: i64 = 53;
        const MIN_EXP: i64 = -1021;
        const MAX_EXP: i64 = 1024;
        let negate = self.neg != other.neg;
        let sign = |v: f64| if negate { -v } else { v };
        if self.is_zero() {
            return Some(sign(0.0));
        }
        let (a_bits, b_bits) = (i64::from(self.bit_length()), i64::from(other.bit_length()));
        if a_bits <= MANT && b_bits <= MANT {
            // Both exact in a double: one correctly rounded division.
            return Some(sign(u64_to_f64(self.low_u64()) / u64_to_f64(other.low_u64())));
        }
        let diff = a_bits - b_bits;
        if diff > MAX_EXP {
            return None;
        }
        if diff < MIN_EXP - MANT - 1 {
            return Some(sign(0.0));
        }
        let shift = diff.max(MIN_EXP) - MANT - 2;
        let (a, b) = (self.abs(), other.abs());
        // x = |a| * 2^-shift, at most b_bits + 55 bits: within WIDE limbs.
        let mut x = [0u32; WIDE];
        let mut inexact = false;
        if shift <= 0 {
            shl_mag(a.digits(), u32::try_from(-shift).unwrap_or(u32::MAX), &mut x);
        } else {
            let (s, sticky) = a.shr_sticky(u32::try_from(shift).unwrap_or(u32::MAX));
            x[..LIMBS].copy_from_slice(&s.mag);
            inexact = sticky;
        }
        let (q, r) = Self::divrem_mag(&x[..trimmed(&x)], b.digits());
        inexact |= trimmed(&r) != 0;
        let q = Self::from_mag(false, narrow(&q));
        let x_bits = i64::from(q.bit_length());
        let extra_bits = x_bits.max(MIN_EXP - shift) - MANT;
        let mask = 1u64 << (extra_bits - 1).clamp(0, 63);
        let mut low_bits = q.low_u64() | u64::from(inexact);
        if low_bits & mask != 0 && low_bits & (3 * mask - 1) != 0 {
            low_bits += mask;
        }
        low_bits &= !(2 * mask - 1);
        let dx = u64_to_f64(low_bits);
        if shift + x_bits >= MAX_EXP
            && (shift + x_bits > MAX_EXP
                || dx == libm::scalbn(1.0, i32::try_from(x_bits).unwrap_or(0)))
        {
            return None;
        }
        Some(sign(libm::scalbn(dx, i32::try_from(shift).unwrap_or(0))))
    }

    /// Exact comparison of two ints.
    pub(crate) fn cmp_int(&self, other: &Self) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => cmp_mag(self.digits(), other.digits()),
            (true, true) => cmp_mag(other.digits(), self.digits()),
        }
    }

    /// Exact comparison with a float, as Python's `int < float` (`None` for NaN).
    pub(crate) fn cmp_f64(&self, x: f64) -> Option<Ordering> {
        if x.is_nan() {
            return None;
        }
        if x.is_infinite() {
            return Some(if x > 0.0 { Ordering::Less } else { Ordering::Greater });
        }
        let fl = libm::floor(x);
        match self.cmp_int(&Self::from_integral_f64(fl)) {
            Ordering::Equal if x > fl => Some(Ordering::Less),
            o => Some(o),
        }
    }

    /// `self mod m` in `0..m` for `0 < m < 2^64`.
    pub(crate) fn rem_u64(&self, m: u64) -> u64 {
        let (_, r) = Self::divrem_mag(self.digits(), Self::from_u64(false, m).digits());
        let r = u64::from(r[0]) | u64::from(r[1]) << 32;
        if self.neg && r != 0 { m - r } else { r }
    }
}

/// `u64 -> f64`, correctly rounded (round to nearest even), as C's conversion.
#[inline(always)]
#[allow(clippy::cast_precision_loss)] // the rounding is the documented conversion
fn u64_to_f64(x: u64) -> f64 {
    x as f64
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Decimal, as Python's `str(int)`.
impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CHUNK: u64 = 1_000_000_000;
        // 1664 bits are at most 501 decimal digits: 56 chunks of 9.
        let mut chunks = [0u32; 56];
        let mut n = 0;
        let mut rest = self.mag;
        let mut len = self.len;
        while len > 0 {
            let mut rem = 0u64;
            for i in (0..len).rev() {
                let cur = rem << 32 | u64::from(rest[i]);
                rest[i] = low(cur / CHUNK);
                rem = cur % CHUNK;
            }
            chunks[n] = low(rem);
            n += 1;
            len = trimmed(&rest[..len]);
        }
        if self.neg {
            f.write_str("-")?;
        }
        match n {
            0 => f.write_str("0"),
            _ => {
                write!(f, "{}", chunks[n - 1])?;
                for c in chunks[..n - 1].iter().rev() {
                    write!(f, "{c:09}")?;
                }
                Ok(())
            }
        }
    }
}
