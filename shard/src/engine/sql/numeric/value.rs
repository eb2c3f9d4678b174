//! A numeric value as Postgres' numeric.c keeps one: exact digits and a display scale
//! (`1.50` keeps its two places), or NaN / ±Infinity. Arithmetic picks result scales as
//! numeric.c does: the larger scale for `+ - %`, the sum of scales for `*`, and
//! select_div_scale's at least 16 significant digits for `/`; rounding is half away from
//! zero. Values arrive as SQLite stores them: integers, reals (read as the shortest decimal
//! that reads back as the same double, so a stored 0.1 is exactly 0.1) or text.

use std::cmp::Ordering;
use std::fmt;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};

/// Postgres' errors as numeric.c raises them (SQLSTATE, message).
pub type NumericError = (&'static str, String);

/// numeric.c's NUMERIC_MIN_SIG_DIGITS: a quotient keeps at least this many digits.
const MIN_SIG_DIGITS: i64 = 16;
/// numeric.c's NUMERIC_MAX_DISPLAY_SCALE.
const MAX_DISPLAY_SCALE: i64 = 1000;
/// numeric.c's base: digits are grouped by four, and select_div_scale counts in groups.
const DEC_DIGITS: i64 = 4;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Numeric {
    NaN,
    Infinity {
        negative: bool,
    },
    /// `digits / 10^scale`, `scale >= 0`.
    Finite {
        digits: BigInt,
        scale: u32,
    },
}

fn ten_to(n: u32) -> BigInt {
    BigInt::from(10u8).pow(n)
}

fn division_by_zero() -> NumericError {
    ("22012", "division by zero".to_owned())
}

impl Numeric {
    pub fn integer(value: i64) -> Numeric {
        Numeric::Finite {
            digits: BigInt::from(value),
            scale: 0,
        }
    }

    /// Postgres' numeric input: optional sign, digits with an optional point, an optional
    /// exponent, spaces around; NaN and Infinity in any case.
    pub fn parse(input: &str) -> Result<Numeric, NumericError> {
        let bad = || {
            (
                "22P02",
                format!("invalid input syntax for type numeric: \"{input}\""),
            )
        };
        let s = input.trim();
        let (negative, unsigned) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if s.eq_ignore_ascii_case("nan") {
            return Ok(Numeric::NaN);
        }
        if unsigned.eq_ignore_ascii_case("infinity") || unsigned.eq_ignore_ascii_case("inf") {
            return Ok(Numeric::Infinity { negative });
        }
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (
                &unsigned[..at],
                unsigned[at + 1..].parse::<i64>().map_err(|_| bad())?,
            ),
            None => (unsigned, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
            return Err(bad());
        }
        let mut digits: BigInt = format!("{whole}{fraction}").parse().map_err(|_| bad())?;
        let mut scale = fraction.len() as i64 - exponent;
        if scale < 0 {
            if -scale > MAX_DISPLAY_SCALE * 128 {
                return Err(overflow());
            }
            digits *= ten_to((-scale) as u32);
            scale = 0;
        }
        if scale > MAX_DISPLAY_SCALE {
            return Err(overflow());
        }
        if negative {
            digits = -digits;
        }
        Ok(Numeric::Finite {
            digits,
            scale: scale as u32,
        })
    }

    /// A double as the numeric it was written as: its shortest decimal text.
    pub fn from_f64(value: f64) -> Numeric {
        if value.is_nan() {
            Numeric::NaN
        } else if value.is_infinite() {
            Numeric::Infinity {
                negative: value < 0.0,
            }
        } else {
            // Display is the shortest text that reads back as the value, never an exponent.
            Numeric::parse(&value.to_string()).unwrap_or(Numeric::integer(0))
        }
    }

    /// The display scale (Postgres' scale(numeric)); 0 for NaN and infinities.
    pub(crate) fn scale(&self) -> u32 {
        match self {
            Numeric::Finite { scale, .. } => *scale,
            _ => 0,
        }
    }

    /// The digits at `scale` (which must not be below the value's own).
    fn digits_at(&self, scale: u32) -> BigInt {
        match self {
            Numeric::Finite { digits, scale: own } => digits * ten_to(scale - own),
            _ => BigInt::zero(),
        }
    }

    /// -1, 0 or 1 (NaN is 0).
    pub(super) fn signum(&self) -> i32 {
        match self {
            Numeric::NaN => 0,
            Numeric::Infinity { negative } => {
                if *negative {
                    -1
                } else {
                    1
                }
            }
            Numeric::Finite { digits, .. } => match digits.sign() {
                Sign::Minus => -1,
                Sign::NoSign => 0,
                Sign::Plus => 1,
            },
        }
    }

    pub fn add(&self, other: &Numeric) -> Numeric {
        match (self, other) {
            (Numeric::NaN, _) | (_, Numeric::NaN) => Numeric::NaN,
            (Numeric::Infinity { negative: a }, Numeric::Infinity { negative: b }) => {
                if a == b {
                    self.clone()
                } else {
                    Numeric::NaN
                }
            }
            (Numeric::Infinity { .. }, _) => self.clone(),
            (_, Numeric::Infinity { .. }) => other.clone(),
            _ => {
                let scale = self.scale().max(other.scale());
                Numeric::Finite {
                    digits: self.digits_at(scale) + other.digits_at(scale),
                    scale,
                }
            }
        }
    }

    pub(crate) fn negate(&self) -> Numeric {
        match self {
            Numeric::NaN => Numeric::NaN,
            Numeric::Infinity { negative } => Numeric::Infinity {
                negative: !negative,
            },
            Numeric::Finite { digits, scale } => Numeric::Finite {
                digits: -digits,
                scale: *scale,
            },
        }
    }

    pub(crate) fn sub(&self, other: &Numeric) -> Numeric {
        self.add(&other.negate())
    }

    pub(crate) fn mul(&self, other: &Numeric) -> Numeric {
        match (self, other) {
            (
                Numeric::Finite {
                    digits: a,
                    scale: s,
                },
                Numeric::Finite {
                    digits: b,
                    scale: t,
                },
            ) => Numeric::Finite {
                digits: a * b,
                scale: s + t,
            },
            (Numeric::NaN, _) | (_, Numeric::NaN) => Numeric::NaN,
            // Infinity times zero is NaN; otherwise the signs multiply.
            _ => match self.signum() * other.signum() {
                0 => Numeric::NaN,
                sign => Numeric::Infinity { negative: sign < 0 },
            },
        }
    }

    /// The quotient at the scale select_div_scale picks, rounded half away from zero.
    pub(crate) fn div(&self, other: &Numeric) -> Result<Numeric, NumericError> {
        match (self, other) {
            (Numeric::NaN, _) | (_, Numeric::NaN) => Ok(Numeric::NaN),
            (_, Numeric::Finite { digits, .. }) if digits.is_zero() => Err(division_by_zero()),
            (Numeric::Infinity { .. }, Numeric::Infinity { .. }) => Ok(Numeric::NaN),
            (Numeric::Infinity { .. }, _) => Ok(Numeric::Infinity {
                negative: self.signum() * other.signum() < 0,
            }),
            (_, Numeric::Infinity { .. }) => Ok(Numeric::integer(0)),
            _ => {
                let scale = division_scale(self, other);
                Ok(self.quotient(other, scale, false))
            }
        }
    }

    /// `self / other` at `scale` places, rounded half away from zero (or cut, when
    /// `truncate`); both finite and `other` not zero.
    fn quotient(&self, other: &Numeric, scale: u32, truncate: bool) -> Numeric {
        // self / other = (a / 10^s) / (b / 10^t); times 10^scale: a·10^(t+scale) / (b·10^s).
        let (
            Numeric::Finite {
                digits: a,
                scale: s,
            },
            Numeric::Finite {
                digits: b,
                scale: t,
            },
        ) = (self, other)
        else {
            return Numeric::NaN;
        };
        let numerator = a * ten_to(t + scale);
        let denominator = b * ten_to(*s);
        let (q, r) = numerator.abs().div_rem(&denominator.abs());
        let q = if !truncate && r * 2u8 >= denominator.abs() {
            q + 1u8
        } else {
            q
        };
        let negative = (numerator.sign() == Sign::Minus) != (denominator.sign() == Sign::Minus);
        Numeric::Finite {
            digits: if negative { -q } else { q },
            scale,
        }
    }

    /// Postgres' numeric `%`: the remainder of a quotient truncated to an integer, at the
    /// larger of the two scales.
    pub(crate) fn rem(&self, other: &Numeric) -> Result<Numeric, NumericError> {
        match (self, other) {
            (Numeric::NaN, _) | (_, Numeric::NaN) => Ok(Numeric::NaN),
            (_, Numeric::Finite { digits, .. }) if digits.is_zero() => Err(division_by_zero()),
            (Numeric::Infinity { .. }, _) => Ok(Numeric::NaN),
            (_, Numeric::Infinity { .. }) => Ok(self.clone()),
            _ => {
                let scale = self.scale().max(other.scale());
                // BigInt's % keeps the dividend's sign, as trunc division does.
                Ok(Numeric::Finite {
                    digits: self.digits_at(scale) % other.digits_at(scale),
                    scale,
                })
            }
        }
    }

    /// Postgres' gcd and lcm on numerics: at the larger scale, never negative; lcm with a
    /// zero is zero. NaN for NaN; infinities have neither (22003, as Postgres says).
    pub(crate) fn gcd_or_lcm(&self, other: &Numeric, lcm: bool) -> Result<Numeric, NumericError> {
        match (self, other) {
            (Numeric::NaN, _) | (_, Numeric::NaN) => Ok(Numeric::NaN),
            (Numeric::Infinity { .. }, _) | (_, Numeric::Infinity { .. }) => Err((
                "22003",
                format!(
                    "cannot compute {} of infinity",
                    if lcm { "lcm" } else { "gcd" }
                ),
            )),
            _ => {
                let scale = self.scale().max(other.scale());
                let (a, b) = (self.digits_at(scale), other.digits_at(scale));
                let digits = if lcm { a.lcm(&b) } else { a.gcd(&b) };
                Ok(Numeric::Finite { digits, scale })
            }
        }
    }

    /// n! for a whole number n (Postgres' factorial(bigint)): 1 for 0, 2201E below.
    pub(crate) fn factorial(n: i64) -> Result<Numeric, NumericError> {
        if n < 0 {
            return Err((
                "2201E",
                "factorial of a negative number is undefined".to_owned(),
            ));
        }
        // numeric's limit: 32177! has more than 131072 digits before the point.
        if n > 32177 {
            return Err(overflow());
        }
        let digits = (2..=n).fold(BigInt::from(1u8), |product, k| product * k);
        Ok(Numeric::Finite { digits, scale: 0 })
    }

    /// Rounded (or cut, when `truncate`) to `places` decimal places; negative places round
    /// to tens, hundreds, ... and leave scale 0, as Postgres' round(numeric, int) does.
    pub fn round(&self, places: i64, truncate: bool) -> Numeric {
        let Numeric::Finite { digits, scale } = self else {
            return self.clone();
        };
        let places = places.clamp(-MAX_DISPLAY_SCALE, MAX_DISPLAY_SCALE);
        if places >= i64::from(*scale) {
            return Numeric::Finite {
                digits: self.digits_at(places as u32),
                scale: places as u32,
            };
        }
        let dropped = (i64::from(*scale) - places) as u32;
        let unit = ten_to(dropped);
        let (mut kept, rest) = digits.abs().div_rem(&unit);
        if !truncate && rest * 2u8 >= unit {
            kept += 1u8;
        }
        if places < 0 {
            kept *= ten_to((-places) as u32);
        }
        Numeric::Finite {
            digits: if digits.sign() == Sign::Minus {
                -kept
            } else {
                kept
            },
            scale: places.max(0) as u32,
        }
    }

    /// The square root at `places` decimal places, rounded half up as numeric.c's sqrt_var
    /// rounds it; the value must not be negative (the callers' variances are not).
    pub(crate) fn sqrt(&self, places: u32) -> Numeric {
        let Numeric::Finite { digits, scale } = self else {
            return self.clone();
        };
        // sqrt(d / 10^s) · 10^(places+1) = sqrt(d · 10^(2·(places+1)) / 10^s); one digit
        // more than kept, floored, decides the rounding exactly.
        let shifted = (digits.abs() * ten_to(2 * (places + 1))) / ten_to(*scale);
        let (root, last) = shifted.sqrt().div_rem(&BigInt::from(10u8));
        let root = if last >= BigInt::from(5u8) {
            root + 1u8
        } else {
            root
        };
        Numeric::Finite {
            digits: root,
            scale: places,
        }
    }

    /// Coerced to numeric(precision, scale) as Postgres stores it: rounded to the scale,
    /// then 22003 when the integer part has more than `precision - scale` digits.
    pub(crate) fn with_typmod(&self, precision: i64, scale: i64) -> Result<Numeric, NumericError> {
        let rounded = self.round(scale, false);
        let Numeric::Finite { digits, scale: s } = &rounded else {
            return match self {
                Numeric::NaN => Ok(Numeric::NaN),
                _ => Err(("22003", "numeric field overflow".to_owned())),
            };
        };
        let whole = digits.abs() / ten_to(*s);
        let whole_digits = if whole.is_zero() {
            0
        } else {
            whole.to_string().len() as i64
        };
        if whole_digits > precision - scale {
            return Err(("22003", "numeric field overflow".to_owned()));
        }
        Ok(rounded)
    }

    /// Postgres' order: NaN equals NaN and sorts above every other value.
    pub(crate) fn compare(&self, other: &Numeric) -> Ordering {
        match (self, other) {
            (Numeric::NaN, Numeric::NaN) => Ordering::Equal,
            (Numeric::NaN, _) => Ordering::Greater,
            (_, Numeric::NaN) => Ordering::Less,
            (Numeric::Finite { .. }, Numeric::Finite { .. }) => {
                let scale = self.scale().max(other.scale());
                self.digits_at(scale).cmp(&other.digits_at(scale))
            }
            _ => {
                let rank = |v: &Numeric| match v {
                    Numeric::Infinity { negative: true } => 0,
                    Numeric::Finite { .. } => 1,
                    Numeric::Infinity { negative: false } => 2,
                    Numeric::NaN => 3,
                };
                rank(self).cmp(&rank(other))
            }
        }
    }

    /// The SQLite number nearest the value, for SQLite to compare and sort a computed
    /// numeric: an integer when whole and within bigint, else the nearest double.
    pub(crate) fn nearest_sqlite_number(&self) -> Result<SqliteNumber, NumericError> {
        match self {
            Numeric::NaN => Err((
                "0A000",
                "NaN numeric values cannot be compared or stored by litescale".to_owned(),
            )),
            Numeric::Infinity { negative } => Ok(SqliteNumber::Real(if *negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })),
            Numeric::Finite { .. } => {
                if let Numeric::Finite { digits, scale: 0 } = &self.normalized()
                    && let Some(i) = digits.to_i64()
                {
                    return Ok(SqliteNumber::Integer(i));
                }
                Ok(SqliteNumber::Real(
                    self.to_string().parse().unwrap_or(f64::NAN),
                ))
            }
        }
    }

    /// The SQLite number equal to the value, for a value written in a statement; 22003
    /// where SQLite holds none (past 15 significant digits), never a rounded one.
    pub(crate) fn to_sqlite_number(&self) -> Result<SqliteNumber, NumericError> {
        let nearest = self.nearest_sqlite_number()?;
        match nearest {
            SqliteNumber::Real(real)
                if real.is_finite() && Numeric::from_f64(real).compare(self) != Ordering::Equal =>
            {
                Err((
                    "22003",
                    format!(
                        "numeric value {self} has more than 15 significant digits, which litescale cannot store or compare exactly"
                    ),
                ))
            }
            exact => Ok(exact),
        }
    }

    /// Without trailing fraction zeros (Postgres' trim_scale).
    pub(crate) fn normalized(&self) -> Numeric {
        let Numeric::Finite { digits, scale } = self else {
            return self.clone();
        };
        let (mut digits, mut scale) = (digits.clone(), *scale);
        let ten = BigInt::from(10u8);
        while scale > 0 && (&digits % &ten).is_zero() {
            digits /= &ten;
            scale -= 1;
        }
        Numeric::Finite { digits, scale }
    }

    /// (weight in groups of four digits, value of the first group), as numeric.c's
    /// select_div_scale reads them; zero is (0, 0).
    fn leading_group(&self) -> (i64, i64) {
        let Numeric::Finite { digits, scale } = self else {
            return (0, 0);
        };
        if digits.is_zero() {
            return (0, 0);
        }
        let text = digits.abs().to_string();
        // The decimal exponent of the first digit: 123.4 → 2, 0.05 → -2.
        let exponent = text.len() as i64 - 1 - i64::from(*scale);
        let weight = exponent.div_euclid(DEC_DIGITS);
        // The group holds the digits of exponents weight*4 .. weight*4+3.
        let take = (exponent - weight * DEC_DIGITS + 1) as usize;
        let first: i64 = text[..take.min(text.len())].parse().unwrap_or(0)
            * 10_i64.pow(take.saturating_sub(text.len()) as u32);
        (weight, first)
    }
}

/// The result scale of `a / b`, as numeric.c's select_div_scale picks it.
fn division_scale(a: &Numeric, b: &Numeric) -> u32 {
    let (weight1, first1) = a.leading_group();
    let (weight2, first2) = b.leading_group();
    let mut qweight = weight1 - weight2;
    if first1 <= first2 {
        qweight -= 1;
    }
    let scale = (MIN_SIG_DIGITS - qweight * DEC_DIGITS)
        .max(i64::from(a.scale()))
        .max(i64::from(b.scale()))
        .clamp(0, MAX_DISPLAY_SCALE);
    scale as u32
}

/// The scale numeric's average has: select_div_scale of the sum by the count.
pub fn average(sum: &Numeric, count: i64) -> Result<Numeric, NumericError> {
    sum.div(&Numeric::integer(count))
}

fn overflow() -> NumericError {
    ("22003", "value overflows numeric format".to_owned())
}

/// A numeric as SQLite holds a number.
#[derive(Debug, PartialEq)]
pub(crate) enum SqliteNumber {
    Integer(i64),
    Real(f64),
}

impl From<SqliteNumber> for rusqlite::types::Value {
    fn from(n: SqliteNumber) -> rusqlite::types::Value {
        match n {
            SqliteNumber::Integer(i) => rusqlite::types::Value::Integer(i),
            SqliteNumber::Real(f) => rusqlite::types::Value::Real(f),
        }
    }
}

impl fmt::Display for Numeric {
    /// numeric_out: every digit, the scale's places kept, no exponent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Numeric::NaN => f.write_str("NaN"),
            Numeric::Infinity { negative: false } => f.write_str("Infinity"),
            Numeric::Infinity { negative: true } => f.write_str("-Infinity"),
            Numeric::Finite { digits, scale } => {
                let sign = if digits.sign() == Sign::Minus {
                    "-"
                } else {
                    ""
                };
                let text = digits.abs().to_string();
                let scale = *scale as usize;
                if scale == 0 {
                    return write!(f, "{sign}{text}");
                }
                let padded = format!("{text:0>width$}", width = scale + 1);
                let (whole, fraction) = padded.split_at(padded.len() - scale);
                write!(f, "{sign}{whole}.{fraction}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Numeric {
        Numeric::parse(s).unwrap()
    }

    #[test]
    fn input_keeps_the_scale_and_output_every_digit() {
        for (input, out) in [
            ("1.50", "1.50"),
            ("  -0.001 ", "-0.001"),
            ("1e3", "1000"),
            ("1.5e-3", "0.0015"),
            (
                "12345678901234567890123456789012345678",
                "12345678901234567890123456789012345678",
            ),
            (".5", "0.5"),
            ("nan", "NaN"),
            ("-Infinity", "-Infinity"),
        ] {
            assert_eq!(n(input).to_string(), out, "{input}");
        }
        for bad in ["", "1.5.5", "abc", "1e", "-"] {
            assert_eq!(Numeric::parse(bad).unwrap_err().0, "22P02", "{bad}");
        }
    }

    #[test]
    fn arithmetic_scales_are_postgres_scales() {
        // Each answer is PostgreSQL 15's.
        let cases = [
            (n("1.00").add(&n("2.000")), "3.000"),
            (n("1.10").mul(&n("2.5")), "2.750"),
            (n("0.1").mul(&n("3")), "0.3"),
            (n("7.0").div(&n("2")).unwrap(), "3.5000000000000000"),
            (n("1").div(&n("3.0")).unwrap(), "0.33333333333333333333"),
            (n("2").div(&n("3")).unwrap(), "0.66666666666666666667"),
            (n("10").div(&n("3")).unwrap(), "3.3333333333333333"),
            (n("100.0").div(&n("7")).unwrap(), "14.2857142857142857"),
            (n("22").div(&n("7")).unwrap(), "3.1428571428571429"),
            (n("8.3200").div(&n("0.0001")).unwrap(), "83200.000000000000"),
            (
                n("99999999999999999999.99").add(&n("0.01")),
                "100000000000000000000.00",
            ),
            (n("-7.5").rem(&n("2")).unwrap(), "-1.5"),
            (n("12.3456").round(2, false), "12.35"),
            (n("-2.5").round(0, false), "-3"),
            (n("1234.5").round(-2, false), "1200"),
            (n("1.999").round(2, true), "1.99"),
        ];
        for (got, want) in cases {
            assert_eq!(got.to_string(), want);
        }
        assert_eq!(n("1").div(&n("0")).unwrap_err().0, "22012");
    }

    #[test]
    fn typmods_round_half_away_and_refuse_overflow() {
        assert_eq!(n("1.005").with_typmod(5, 2).unwrap().to_string(), "1.01");
        assert_eq!(n("123.456").with_typmod(4, 1).unwrap().to_string(), "123.5");
        assert_eq!(n("0.5").with_typmod(1, 0).unwrap().to_string(), "1");
        assert_eq!(n("12345.6").with_typmod(4, 1).unwrap_err().0, "22003");
        assert_eq!(n("99.995").with_typmod(4, 2).unwrap_err().0, "22003");
    }

    #[test]
    fn comparisons_ignore_scale_and_put_nan_last() {
        assert_eq!(n("1.50").compare(&n("1.5")), Ordering::Equal);
        assert_eq!(n("-2").compare(&n("1")), Ordering::Less);
        assert_eq!(n("NaN").compare(&n("Infinity")), Ordering::Greater);
        assert_eq!(n("-Infinity").compare(&n("-1e30")), Ordering::Less);
        assert_eq!(n("Infinity").compare(&n("Infinity")), Ordering::Equal);
    }

    #[test]
    fn doubles_read_as_their_shortest_decimal() {
        assert_eq!(Numeric::from_f64(0.1).to_string(), "0.1");
        assert_eq!(Numeric::from_f64(19.99).mul(&n("3")).to_string(), "59.97");
        assert_eq!(
            n("3.000").to_sqlite_number().unwrap(),
            SqliteNumber::Integer(3)
        );
        assert_eq!(
            n("0.30").to_sqlite_number().unwrap(),
            SqliteNumber::Real(0.3)
        );
        assert_eq!(
            n("0.12345678901234567890")
                .to_sqlite_number()
                .unwrap_err()
                .0,
            "22003"
        );
        assert_eq!(
            n("0.12345678901234567890").nearest_sqlite_number().unwrap(),
            SqliteNumber::Real(0.12345678901234568)
        );
    }
}
