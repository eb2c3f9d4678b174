//! Postgres' `log(b numeric, x numeric)`: the logarithm of `x` in base `b` at the scale
//! numeric.c's log_var picks (at least 16 significant digits, no fewer places than either
//! argument has), rounded half away from zero. The natural logarithms are computed in
//! fixed point with more digits than log_var keeps, so the rounded answer is Postgres'.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, Zero};

use super::value::{Numeric, NumericError};

/// numeric.c's NUMERIC_MIN_SIG_DIGITS and NUMERIC_MAX_DISPLAY_SCALE.
const MIN_SIG_DIGITS: i64 = 16;
const MAX_DISPLAY_SCALE: i64 = 1000;
/// Digits carried past what the answer needs, against the rounding of each step.
const GUARD: i64 = 24;

fn ten_to(n: u32) -> BigInt {
    BigInt::from(10u8).pow(n)
}

fn invalid(message: &str) -> NumericError {
    ("2201E", message.to_owned())
}

/// `log(base, x)`.
pub(super) fn log(base: &Numeric, x: &Numeric) -> Result<Numeric, NumericError> {
    let sign = Numeric::signum;
    if matches!(base, Numeric::NaN) || matches!(x, Numeric::NaN) {
        return Ok(Numeric::NaN);
    }
    if sign(base) < 0 || sign(x) < 0 {
        return Err(invalid("cannot take logarithm of a negative number"));
    }
    if sign(base) == 0 || sign(x) == 0 {
        return Err(invalid("cannot take logarithm of zero"));
    }
    let (
        Numeric::Finite {
            digits: b,
            scale: b_scale,
        },
        Numeric::Finite {
            digits: v,
            scale: v_scale,
        },
    ) = (base, x)
    else {
        // log(Inf, Inf) is Inf/Inf; log(Inf, finite) zero; log(finite, Inf) Inf.
        return Ok(match (base, x) {
            (Numeric::Infinity { .. }, Numeric::Infinity { .. }) => Numeric::NaN,
            (Numeric::Infinity { .. }, _) => Numeric::integer(0),
            _ => Numeric::Infinity { negative: false },
        });
    };
    let base_dweight = ln_dweight(b, *b_scale);
    let x_dweight = ln_dweight(v, *v_scale);
    let result_dweight = x_dweight - base_dweight;
    let rscale = (MIN_SIG_DIGITS - result_dweight)
        .max(i64::from(*b_scale))
        .max(i64::from(*v_scale))
        .clamp(0, MAX_DISPLAY_SCALE);
    // log_var's scales for the two logarithms, with more guard digits than its 8.
    let places = |dweight: i64| (rscale + result_dweight - dweight + GUARD).max(GUARD) as u32;
    let (base_places, x_places) = (places(base_dweight), places(x_dweight));
    let ln_base = ln(b, *b_scale, base_places);
    if ln_base.is_zero() {
        return Err(("22012", "division by zero".to_owned()));
    }
    let ln_x = ln(v, *v_scale, x_places);
    // ln_x / 10^x_places ÷ ln_base / 10^base_places, at rscale places.
    let numerator = ln_x * ten_to(rscale as u32 + base_places);
    let denominator = ln_base * ten_to(x_places);
    Ok(Numeric::Finite {
        digits: divide_rounded(&numerator, &denominator),
        scale: rscale as u32,
    })
}

/// `n / d` rounded half away from zero.
fn divide_rounded(n: &BigInt, d: &BigInt) -> BigInt {
    let (q, r) = n.abs().div_rem(&d.abs());
    let q = if r * 2u8 >= d.abs() { q + 1u8 } else { q };
    if n.is_negative() != d.is_negative() {
        -q
    } else {
        q
    }
}

/// The decimal exponent of the first digit of `digits / 10^scale` (non-zero): 123.4 is 2,
/// 0.05 is -2.
fn exponent(digits: &BigInt, scale: u32) -> i64 {
    digits.abs().to_string().len() as i64 - 1 - i64::from(scale)
}

/// numeric.c's estimate_ln_dweight: the decimal weight of `ln(x)`, which sets the scales.
fn ln_dweight(digits: &BigInt, scale: u32) -> i64 {
    let one = ten_to(scale);
    let (low, high) = (&one * 9u8 / 10u8, &one * 11u8 / 10u8);
    // Between 0.9 and 1.1 (to the value's scale, as 0.9 and 1.1 have one place).
    let near_one = if scale >= 1 {
        *digits >= low && *digits <= high
    } else {
        *digits == one
    };
    if near_one {
        let x = digits - &one;
        return if x.is_zero() { 0 } else { exponent(&x, scale) };
    }
    // ln(x) from its first two groups of four digits (numeric.c's base 10000).
    let text = digits.to_string();
    let e = exponent(digits, scale);
    let weight = e.div_euclid(4);
    let first = (e - weight * 4 + 1) as usize;
    let padded = format!("{text:0<width$}", width = first + 4);
    let leading: f64 = padded[..first + 4].parse().unwrap_or(1.0);
    let ln_x = leading.ln() + ((weight - 1) * 4) as f64 * std::f64::consts::LN_10;
    ln_x.abs().log10() as i64
}

/// `ln(digits / 10^scale)` (positive) times `10^places`, within a unit: the value's first
/// digit's exponent `e` taken out as `e * ln(10)`, the rest (between 1 and 10) brought
/// near 1 by square roots, then `2 atanh((m - 1) / (m + 1))`.
fn ln(digits: &BigInt, scale: u32, places: u32) -> BigInt {
    let e = exponent(digits, scale);
    let work = places + 8 + e.unsigned_abs().to_string().len() as u32;
    let shift = i64::from(work) - (e + i64::from(scale));
    let mantissa = if shift >= 0 {
        digits * ten_to(shift as u32)
    } else {
        digits / ten_to((-shift) as u32)
    };
    let mut total = ln_near_one(mantissa, work);
    if e != 0 {
        total += ln_near_one(ten_to(work + 1), work) * e;
    }
    divide_rounded(&total, &ten_to(work - places))
}

/// `ln(m / 10^work)` times `10^work`, for `m / 10^work` between 1 and 10.
fn ln_near_one(mut m: BigInt, work: u32) -> BigInt {
    let one = ten_to(work);
    let near = &one + &one / 100u8;
    let mut halvings = 0u32;
    while m > near {
        m = (m * &one).sqrt();
        halvings += 1;
    }
    let z = (&m - &one) * &one / (&m + &one);
    let z2 = &z * &z / &one;
    let (mut sum, mut power, mut n) = (z.clone(), z, 1u32);
    loop {
        power = power * &z2 / &one;
        n += 2;
        let term = &power / n;
        if term.is_zero() {
            break;
        }
        sum += term;
    }
    sum * 2u8 * (BigInt::from(1u8) << halvings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_text(base: &str, x: &str) -> String {
        match log(&Numeric::parse(base).unwrap(), &Numeric::parse(x).unwrap()) {
            Ok(n) => n.to_string(),
            Err((state, _)) => format!("ERROR {state}"),
        }
    }

    /// Each answer is PostgreSQL 15's `SELECT log(b, x)`.
    #[test]
    fn log_with_a_base_as_postgres_15() {
        for (base, x, expected) in [
            ("2", "8.0", "3.0000000000000000"),
            ("2", "8", "3.0000000000000000"),
            ("10", "1000", "3.0000000000000000"),
            ("2.0", "4.0", "2.0000000000000000"),
            ("10", "2", "0.3010299956639812"),
            ("3", "10", "2.0959032742893846"),
            ("2", "1", "0.0000000000000000"),
            ("2", "0.5", "-1.0000000000000000"),
            ("1.05", "1000000", "283.1617969143863"),
            ("7", "0.000001", "-7.099767974729630"),
            ("100000000", "3", "0.05964015683995780"),
            ("2", "1e300", "996.57842846620870"),
            ("1", "5", "ERROR 22012"),
            ("2", "0", "ERROR 2201E"),
            ("-2", "8", "ERROR 2201E"),
            ("NaN", "8", "NaN"),
        ] {
            assert_eq!(log_text(base, x), expected, "log({base}, {x})");
        }
    }
}
