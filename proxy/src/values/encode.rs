//! SQLite values → Postgres wire values, in text or binary format, as a Postgres server
//! would send a value of the column's type.

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};
use litescale_router::PgType;
use litescale_router::types;
use litescale_shard::{ColumnMeta, Numeric, Rows, Value, arrays, json};
use litescale_shard::{SessionZone, parse_bool};
use pgwire::messages::data::DataRow;

use crate::error::SqlError;
use crate::values::temporal;

/// The type a result column is announced with: its declared type, else the type its
/// expression fixes, else the type of a sample value (simple protocol only, where the
/// values are known before the RowDescription is sent), else text.
/// The type modifier RowDescription carries for a column read from a table: its declared
/// length or precision (`varchar(100)`: 104), -1 for the rest.
pub fn column_typmod(meta: &ColumnMeta) -> i32 {
    meta.decl_type
        .as_deref()
        .map_or(-1, |declared| types::catalog_of_declared(declared).1)
}

pub fn column_type(meta: &ColumnMeta, inferred: Option<PgType>, sample: Option<&Value>) -> PgType {
    // SQLite names a subquery's or CTE's column `BLOB` when its parts have no one affinity
    // (a function's result): a declaration no table made, so the values decide.
    let synthetic_blob = meta.decl_type.as_deref() == Some("BLOB")
        && sample.is_some_and(|v| !matches!(v, Value::Blob(_)));
    meta.decl_type
        .as_deref()
        .filter(|_| !synthetic_blob)
        .and_then(types::from_column_declaration)
        .or(inferred)
        .or(match sample {
            Some(Value::Integer(_)) => Some(PgType::Int8),
            Some(Value::Real(_)) => Some(PgType::Float8),
            Some(Value::Blob(_)) => Some(PgType::Bytea),
            _ => None,
        })
        .unwrap_or(PgType::Text)
}

/// How a declared column's values are shown: CHAR(n) blank-padded to n characters, as
/// Postgres stores them; NUMERIC(p, s) with its s places (`2.50`), which SQLite's numbers
/// do not keep.
#[derive(Clone, Copy)]
pub enum DeclaredForm {
    Padded(usize),
    Scaled(u32),
}

/// Puts every value of declared columns in its column's form.
pub fn shape_declared(rows: &mut Rows) {
    let forms = declared_forms(&rows.columns);
    if forms.iter().all(Option::is_none) {
        return;
    }
    for row in &mut rows.rows {
        shape_row(row, &forms);
    }
}

/// The form of each column, for [`shape_row`].
pub fn declared_forms(columns: &[ColumnMeta]) -> Vec<Option<DeclaredForm>> {
    columns.iter().map(declared_form).collect()
}

pub fn shape_row(row: &mut [Value], forms: &[Option<DeclaredForm>]) {
    for (value, form) in row.iter_mut().zip(forms) {
        match (form, &*value) {
            (Some(DeclaredForm::Padded(n)), Value::Text(s)) => {
                let len = s.chars().count();
                if len < *n
                    && let Value::Text(s) = value
                {
                    s.extend(std::iter::repeat_n(' ', n - len));
                }
            }
            (Some(DeclaredForm::Scaled(places)), Value::Integer(_) | Value::Real(_)) => {
                let number = match &*value {
                    Value::Integer(i) => Numeric::integer(*i),
                    Value::Real(f) => Numeric::from_f64(*f),
                    _ => continue,
                };
                *value = Value::Text(number.round(i64::from(*places), false).to_string());
            }
            _ => {}
        }
    }
}

/// The form a column's declaration gives its values.
fn declared_form(meta: &ColumnMeta) -> Option<DeclaredForm> {
    let decl = meta.decl_type.as_deref()?;
    let (_, typmod) = types::catalog_of_declared(decl);
    match types::from_declared(decl)? {
        PgType::Bpchar => usize::try_from(typmod - 4).ok().map(DeclaredForm::Padded),
        // numeric's typmod is ((precision << 16) | scale) + 4.
        PgType::Numeric if typmod >= 4 => u32::try_from((typmod - 4) & 0xffff)
            .ok()
            .map(DeclaredForm::Scaled),
        _ => None,
    }
}

/// The first non-NULL value of each column, to type columns that have no declared type.
pub fn samples(width: usize, rows: &[Vec<Value>]) -> Vec<Option<&Value>> {
    (0..width)
        .map(|i| {
            rows.iter()
                .map(|r| &r[i])
                .find(|v| !matches!(v, Value::Null))
        })
        .collect()
}

/// A row in each column's format; a timestamptz in text shows in the session's `zone`.
pub fn encode_row(
    row: &[Value],
    types: &[PgType],
    binary: &[bool],
    zone: &SessionZone,
) -> Result<DataRow, SqlError> {
    let mut buf = BytesMut::with_capacity(16 * row.len());
    for (i, value) in row.iter().enumerate() {
        encode_value(&mut buf, value, types[i], binary[i], zone)?;
    }
    Ok(DataRow::new(buf, row.len() as i16))
}

fn encode_value(
    buf: &mut BytesMut,
    v: &Value,
    ty: PgType,
    binary: bool,
    zone: &SessionZone,
) -> Result<(), SqlError> {
    if matches!(v, Value::Null) {
        buf.put_i32(-1);
        return Ok(());
    }
    let at = buf.len();
    buf.put_i32(0);
    if binary {
        encode_binary(buf, v, ty)?;
    } else {
        buf.put_slice(text(v, ty, zone)?.as_bytes());
    }
    let len = (buf.len() - at - 4) as i32;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn mismatch(v: &Value, ty: PgType) -> SqlError {
    SqlError::new(
        "22P02",
        format!(
            "stored value {v:?} cannot be sent as type with OID {}",
            ty.oid()
        ),
    )
}

/// A stored array read with its shape: the text form the shard writes.
fn stored_array(v: &Value, ty: PgType) -> Result<(arrays::Array, PgType), SqlError> {
    let (Value::Text(stored), Some(element)) = (v, ty.element()) else {
        return Err(mismatch(v, ty));
    };
    let array = arrays::Array::parse(stored).map_err(|_| mismatch(v, ty))?;
    Ok((array, element))
}

/// An array re-rendered with each element in its type's text form (`{0,1}` of booleans
/// becomes `{f,t}`), in as many dimensions as it has.
fn array_text(v: &Value, ty: PgType, zone: &SessionZone) -> Result<String, SqlError> {
    let (array, element) = stored_array(v, ty)?;
    let items = array
        .items
        .into_iter()
        .map(|e| match e {
            Some(e) => Ok(Some(text(&Value::Text(e), element, zone)?.into_owned())),
            None => Ok(None),
        })
        .collect::<Result<Vec<_>, SqlError>>()?;
    Ok(arrays::Array { items, ..array }.render())
}

/// Postgres' binary array: dimensions, NULL flag, element type, each dimension's length
/// and lower bound, then each element.
fn array_binary(buf: &mut BytesMut, v: &Value, ty: PgType) -> Result<(), SqlError> {
    let (array, element) = stored_array(v, ty)?;
    let lower = if ty == PgType::Int2Vector { 0 } else { 1 };
    buf.put_i32(array.dims.len() as i32);
    buf.put_i32(array.items.iter().any(Option::is_none) as i32);
    buf.put_u32(element.oid());
    for n in &array.dims {
        buf.put_i32(*n as i32);
        buf.put_i32(lower);
    }
    for item in array.items {
        let value = item.map_or(Value::Null, Value::Text);
        encode_value(buf, &value, element, true, &SessionZone::UTC)?;
    }
    Ok(())
}

fn stored_text(v: &Value, _ty: PgType) -> Option<&str> {
    match v {
        Value::Text(s) => Some(s),
        _ => None,
    }
}

fn uuid_of(v: &Value, ty: PgType) -> Result<[u8; 16], SqlError> {
    match v {
        Value::Text(s) => temporal::parse_uuid(s),
        Value::Blob(b) => b.as_slice().try_into().ok(),
        _ => None,
    }
    .ok_or_else(|| mismatch(v, ty))
}

fn as_i64(v: &Value, ty: PgType) -> Result<i64, SqlError> {
    match v {
        Value::Integer(i) => Ok(*i),
        Value::Real(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(*f as i64),
        // SQLite's integer arithmetic turns to a double past bigint (`9223372036854775807
        // + 1`): Postgres' overflow.
        Value::Real(f) if f.fract() == 0.0 => Err(SqlError::new(
            "22003",
            format!(
                "{} out of range",
                litescale_router::types::format_type(ty.oid(), -1).unwrap_or_default()
            ),
        )),
        Value::Text(s) => s.trim().parse().map_err(|_| mismatch(v, ty)),
        _ => Err(mismatch(v, ty)),
    }
}

fn as_int(v: &Value, ty: PgType) -> Result<i64, SqlError> {
    let i = as_i64(v, ty)?;
    let fits = match ty {
        PgType::Int2 => i16::try_from(i).is_ok(),
        PgType::Int4 => i32::try_from(i).is_ok(),
        PgType::Oid => u32::try_from(i).is_ok(),
        _ => true,
    };
    if fits {
        Ok(i)
    } else {
        Err(SqlError::new(
            "22003",
            format!("value {i} is out of range for its column type"),
        ))
    }
}

fn as_f64(v: &Value, ty: PgType) -> Result<f64, SqlError> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Real(f) => Ok(*f),
        Value::Text(s) => parse_float(s).ok_or_else(|| mismatch(v, ty)),
        _ => Err(mismatch(v, ty)),
    }
}

pub fn parse_float(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" | "inf" | "+infinity" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

fn as_bool(v: &Value, ty: PgType) -> Result<bool, SqlError> {
    match v {
        Value::Integer(i) => Ok(*i != 0),
        Value::Real(f) => Ok(*f != 0.0),
        Value::Text(s) => parse_bool(s).ok_or_else(|| mismatch(v, ty)),
        _ => Err(mismatch(v, ty)),
    }
}

/// Whether a stored value can be sent as `ty`, in text and in binary format: what a stored
/// value of a column of that type must be (value_check.rs enforces it on every write).
/// The binary form reads each value as the text form does, or goes through it, and adds
/// range limits of its own, so a value it can send the text form can send too. It runs
/// once per value written, so its buffer is kept.
pub fn sendable(v: &Value, ty: PgType) -> Result<(), SqlError> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
    }
    SCRATCH.with_borrow_mut(|buf| {
        buf.clear();
        encode_binary(buf, v, ty)
    })
}

/// A value's Postgres text form (COPY's output); `None` for NULL.
pub fn as_text(v: &Value, ty: PgType, zone: &SessionZone) -> Result<Option<String>, SqlError> {
    match v {
        Value::Null => Ok(None),
        v => Ok(Some(text(v, ty, zone)?.into_owned())),
    }
}

/// The text form; only a timestamptz's depends on the session's zone.
fn text<'v>(v: &'v Value, ty: PgType, zone: &SessionZone) -> Result<Cow<'v, str>, SqlError> {
    Ok(match ty {
        PgType::Bool => Cow::Borrowed(if as_bool(v, ty)? { "t" } else { "f" }),
        PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Oid => {
            Cow::Owned(as_int(v, ty)?.to_string())
        }
        PgType::Float8 => Cow::Owned(float_text(as_f64(v, ty)?, 15)),
        PgType::Float4 => Cow::Owned(float_text(as_f64(v, ty)? as f32 as f64, 6)),
        PgType::Bytea => Cow::Owned(hex_bytea(match v {
            Value::Blob(b) => b,
            Value::Text(s) => s.as_bytes(),
            other => return Err(mismatch(other, ty)),
        })),
        PgType::Date => Cow::Owned(temporal::format_date(
            stored_text(v, ty)
                .and_then(|s| temporal::parse_date(s).ok())
                .ok_or_else(|| mismatch(v, ty))?,
        )),
        PgType::Time => Cow::Owned(temporal::format_time(
            stored_text(v, ty)
                .and_then(|s| temporal::parse_time(s).ok())
                .ok_or_else(|| mismatch(v, ty))?,
        )),
        PgType::Timestamp => Cow::Owned(temporal::format_timestamp(
            stored_text(v, ty)
                .and_then(|s| temporal::parse_timestamp(s).ok())
                .ok_or_else(|| mismatch(v, ty))?,
        )),
        PgType::Timestamptz if !zone.is_utc() => Cow::Owned(
            stored_text(v, ty)
                .and_then(|s| zone.timestamptz_output(s))
                .ok_or_else(|| mismatch(v, ty))?,
        ),
        PgType::Timestamptz => Cow::Owned(temporal::format_timestamptz(
            stored_text(v, ty)
                .and_then(|s| temporal::parse_timestamptz(s).ok())
                .ok_or_else(|| mismatch(v, ty))?,
        )),
        PgType::Uuid => Cow::Owned(temporal::format_uuid(&uuid_of(v, ty)?)),
        // An interval column keeps what was written (`2 hours 30 minutes`); Postgres
        // shows its output form (`02:30:00`). A form read here only by the shard's interval
        // reader is shown as it is stored.
        PgType::Interval => match stored_text(v, ty).and_then(temporal::parse_interval) {
            Some((micros, days, months)) => {
                Cow::Owned(temporal::format_interval(micros, days, months))
            }
            None => match v {
                Value::Text(s) => Cow::Borrowed(s.as_str()),
                other => return Err(mismatch(other, ty)),
            },
        },
        PgType::Int2Vector => Cow::Owned(match v {
            Value::Text(s) => s.clone(),
            other => return Err(mismatch(other, ty)),
        }),
        t if t.element().is_some() => Cow::Owned(array_text(v, t, zone)?),
        // jsonb is stored as it was written; Postgres shows it normalised.
        PgType::Jsonb => match v {
            Value::Text(s) => Cow::Owned(
                json::Jsonb::parse(s)
                    .ok_or_else(|| mismatch(v, ty))?
                    .render(),
            ),
            Value::Integer(i) => Cow::Owned(i.to_string()),
            other => return Err(mismatch(other, ty)),
        },
        _ => match v {
            Value::Integer(i) => Cow::Owned(i.to_string()),
            Value::Real(f) if ty == PgType::Numeric => Cow::Owned(f.to_string()),
            Value::Real(f) => Cow::Owned(float_text(*f, 15)),
            Value::Text(s) => Cow::Borrowed(s.as_str()),
            Value::Blob(b) => match std::str::from_utf8(b) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(hex_bytea(b)),
            },
            Value::Null => Cow::Borrowed(""),
        },
    })
}

/// Postgres' float output (shortest text that reads back exactly; exponent form outside
/// 1e-4 ..= 1e<digits>), e.g. `1e+20`, `0.1`, `Infinity`.
pub fn float_text(f: f64, digits: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = if digits == 6 {
        format!("{:e}", f as f32)
    } else {
        format!("{f:e}")
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= digits {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else if digits == 6 {
        (f as f32).to_string()
    } else {
        f.to_string()
    }
}

fn hex_bytea(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 + b.len() * 2);
    s.push_str("\\x");
    for byte in b {
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 15) as usize] as char);
    }
    s
}

fn encode_binary(buf: &mut BytesMut, v: &Value, ty: PgType) -> Result<(), SqlError> {
    match ty {
        PgType::Bool => buf.put_u8(as_bool(v, ty)? as u8),
        PgType::Int2 => buf.put_i16(as_int(v, ty)? as i16),
        PgType::Int4 => buf.put_i32(as_int(v, ty)? as i32),
        PgType::Oid => buf.put_u32(as_int(v, ty)? as u32),
        // A regtype is kept as its name; on the wire in binary it is the type's OID.
        PgType::Regtype => buf.put_u32(
            litescale_router::types::oid_of_type_name(&text(v, ty, &SessionZone::UTC)?)
                .ok_or_else(|| mismatch(v, ty))?,
        ),
        PgType::Int8 => buf.put_i64(as_int(v, ty)?),
        PgType::Float4 => buf.put_f32(as_f64(v, ty)? as f32),
        PgType::Float8 => buf.put_f64(as_f64(v, ty)?),
        PgType::Bytea => match v {
            Value::Blob(b) => buf.put_slice(b),
            Value::Text(s) => buf.put_slice(s.as_bytes()),
            other => return Err(mismatch(other, ty)),
        },
        PgType::Numeric => {
            numeric_binary(buf, &text(v, ty, &SessionZone::UTC)?).ok_or_else(|| mismatch(v, ty))?
        }
        PgType::Jsonb => {
            buf.put_u8(1);
            buf.put_slice(text(v, ty, &SessionZone::UTC)?.as_bytes());
        }
        PgType::Date => buf.put_i32(temporal::date_to_binary(
            stored_text(v, ty)
                .and_then(|s| temporal::parse_date(s).ok())
                .ok_or_else(|| mismatch(v, ty))?,
        )),
        PgType::Time => buf.put_i64(temporal::time_to_binary(
            stored_text(v, ty)
                .and_then(|s| temporal::parse_time(s).ok())
                .ok_or_else(|| mismatch(v, ty))?,
        )),
        PgType::Timestamp => buf.put_i64(
            stored_text(v, ty)
                .and_then(|s| temporal::parse_timestamp(s).ok())
                .and_then(temporal::timestamp_to_binary)
                .ok_or_else(|| mismatch(v, ty))?,
        ),
        PgType::Timestamptz => buf.put_i64(
            stored_text(v, ty)
                .and_then(|s| temporal::parse_timestamptz(s).ok())
                .and_then(|t| temporal::timestamp_to_binary(t.naive_utc()))
                .ok_or_else(|| mismatch(v, ty))?,
        ),
        PgType::Interval => {
            let (micros, days, months) = stored_text(v, ty)
                .and_then(temporal::parse_interval)
                .ok_or_else(|| mismatch(v, ty))?;
            buf.put_i64(micros);
            buf.put_i32(days);
            buf.put_i32(months);
        }
        PgType::Uuid => buf.put_slice(&uuid_of(v, ty)?),
        PgType::Inet => buf.put_slice(&crate::values::inet::to_binary(
            stored_text(v, ty)
                .and_then(crate::values::inet::parse)
                .ok_or_else(|| mismatch(v, ty))?,
        )),
        t if t.element().is_some() => array_binary(buf, v, t)?,
        _ => buf.put_slice(text(v, ty, &SessionZone::UTC)?.as_bytes()),
    }
    Ok(())
}

/// Postgres' binary numeric: base-10000 digits with weight, sign and display scale.
fn numeric_binary(buf: &mut BytesMut, decimal: &str) -> Option<()> {
    let s = decimal.trim();
    if s.eq_ignore_ascii_case("nan") {
        buf.put_slice(&[0, 0, 0, 0, 0xC0, 0, 0, 0]);
        return Some(());
    }
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_part) = s.split_once('.').unwrap_or((s, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int_part = int_part.trim_start_matches('0');
    let dscale = frac_part.len() as i16;
    // Align both parts to groups of four decimal digits around the decimal point.
    let int_pad = (4 - int_part.len() % 4) % 4;
    let frac_pad = (4 - frac_part.len() % 4) % 4;
    let digits: String = "0".repeat(int_pad) + int_part + frac_part + &"0".repeat(frac_pad);
    let mut groups: Vec<i16> = digits
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).ok()?.parse().ok())
        .collect::<Option<_>>()?;
    let mut weight = ((int_pad + int_part.len()) / 4) as i16 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    buf.put_i16(groups.len() as i16);
    buf.put_i16(weight);
    buf.put_u16(if negative && !groups.is_empty() {
        0x4000
    } else {
        0
    });
    buf.put_i16(dscale);
    for g in groups {
        buf.put_i16(g);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text form for a session in UTC.
    fn utc_text(v: &Value, ty: PgType) -> Result<Cow<'_, str>, SqlError> {
        text(v, ty, &SessionZone::UTC)
    }

    #[test]
    fn declared_columns_show_their_padding_and_scale() {
        let column = |decl: &str| ColumnMeta {
            name: "c".into(),
            decl_type: Some(decl.into()),
        };
        let forms = declared_forms(&[
            column("CHAR(4)"),
            column("NUMERIC(10,2)"),
            column("numeric(6, 2)"),
            column("NUMERIC"),
            column("INT"),
        ]);
        let mut row = vec![
            Value::Text("ab".into()),
            Value::Real(1234.5),
            Value::Integer(3),
            Value::Real(1.5),
            Value::Integer(7),
        ];
        shape_row(&mut row, &forms);
        assert_eq!(
            row,
            [
                Value::Text("ab  ".into()),
                Value::Text("1234.50".into()),
                Value::Text("3.00".into()),
                Value::Real(1.5),
                Value::Integer(7),
            ]
        );
    }

    fn text_of(v: Value, ty: PgType) -> String {
        utc_text(&v, ty).unwrap().into_owned()
    }

    #[test]
    fn text_format_matches_postgres() {
        assert_eq!(text_of(Value::Integer(1), PgType::Bool), "t");
        assert_eq!(text_of(Value::Integer(0), PgType::Bool), "f");
        assert_eq!(text_of(Value::Real(0.1), PgType::Float8), "0.1");
        assert_eq!(text_of(Value::Real(1e20), PgType::Float8), "1e+20");
        assert_eq!(text_of(Value::Real(1.5e-7), PgType::Float8), "1.5e-07");
        assert_eq!(
            text_of(Value::Real(123456789012345.0), PgType::Float8),
            "123456789012345"
        );
        assert_eq!(
            text_of(Value::Real(1234567.0), PgType::Float4),
            "1.234567e+06"
        );
        assert_eq!(
            text_of(Value::Real(f64::INFINITY), PgType::Float8),
            "Infinity"
        );
        assert_eq!(text_of(Value::Integer(3), PgType::Float8), "3");
        assert_eq!(
            text_of(Value::Blob(vec![0xde, 0xad]), PgType::Bytea),
            "\\xdead"
        );
        assert_eq!(text_of(Value::Integer(42), PgType::Text), "42");
        assert_eq!(
            text_of(Value::Text("{0,1,NULL}".into()), PgType::BoolArray),
            "{f,t,NULL}"
        );
        assert_eq!(
            text_of(Value::Text("{\"a b\",c}".into()), PgType::TextArray),
            "{\"a b\",c}"
        );
    }

    #[test]
    fn out_of_range_and_mismatched_values_are_errors_not_garbage() {
        assert_eq!(
            utc_text(&Value::Integer(1 << 40), PgType::Int4)
                .unwrap_err()
                .sqlstate,
            "22003"
        );
        assert_eq!(
            utc_text(&Value::Text("abc".into()), PgType::Int8)
                .unwrap_err()
                .sqlstate,
            "22P02"
        );
        let mut buf = BytesMut::new();
        assert!(encode_binary(&mut buf, &Value::Text("x".into()), PgType::Date).is_err());
        let mut buf = BytesMut::new();
        encode_binary(&mut buf, &Value::Text("{1,NULL}".into()), PgType::Int4Array).unwrap();
        assert_eq!(
            buf.as_ref(),
            [
                0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 23, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0,
                1, 255, 255, 255, 255
            ]
        );
        let mut buf = BytesMut::new();
        encode_binary(
            &mut buf,
            &Value::Text("{{1},{2}}".into()),
            PgType::Int4Array,
        )
        .unwrap();
        assert_eq!(
            buf[..28],
            [
                0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1
            ]
        );
        assert_eq!(
            utc_text(&Value::Text("{{t,f}}".into()), PgType::BoolArray).unwrap(),
            "{{t,f}}"
        );
        assert_eq!(
            utc_text(&Value::Integer(3), PgType::Timestamp)
                .unwrap_err()
                .sqlstate,
            "22P02"
        );
    }

    fn numeric(s: &str) -> Vec<u8> {
        let mut b = BytesMut::new();
        numeric_binary(&mut b, s).unwrap();
        b.to_vec()
    }

    #[test]
    fn numeric_binary_matches_postgres_layout() {
        // 12345.678: digits [1, 2345, 6780], weight 1, positive, dscale 3
        assert_eq!(
            numeric("12345.678"),
            [0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 9, 41, 26, 124]
        );
        // -0.05: digits [500], weight -1, negative, dscale 2
        assert_eq!(numeric("-0.05"), [0, 1, 255, 255, 0x40, 0, 0, 2, 1, 244]);
        assert_eq!(numeric("0"), [0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(numeric_binary(&mut BytesMut::new(), "1e5").is_none());
    }
}
