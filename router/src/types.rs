//! The Postgres types litescale speaks on the wire, and how SQLite declared types and SQL
//! type names map onto them.

use sqlparser::ast::{ArrayElemTypeDef, DataType};

/// A Postgres type as it appears on the wire. OIDs are PostgreSQL's own (pg_type.oid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PgType {
    Bool,
    /// Catalog object identifiers (an unsigned 32-bit integer).
    Oid,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Text,
    Varchar,
    Bpchar,
    Bytea,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    Json,
    Jsonb,
    Uuid,
    /// An IPv4 or IPv6 host address, with an optional netmask (`10.0.0.1/8`), kept as text.
    Inet,
    /// A parameter whose type nothing determines; the client sends it as text.
    Unknown,
    /// What a function that answers nothing answers (pg_advisory_lock): an empty value.
    Void,
    /// A type's name as `pg_typeof` answers it (`integer`), kept as text.
    Regtype,
    /// The catalog's identifier type (at most 63 bytes), kept as text.
    Name,
    /// The catalog's one-byte "char" (pg_constraint.contype, pg_class.relkind), kept as text.
    Char,
    // One-dimensional arrays, kept as Postgres' text form `{a,b}`.
    BoolArray,
    Int2Array,
    Int4Array,
    Int8Array,
    Float8Array,
    NumericArray,
    TextArray,
    /// name[]: what array(SELECT attname ...) answers, which Django's introspection reads.
    NameArray,
    UuidArray,
    OidArray,
    VarcharArray,
    BpcharArray,
    Float4Array,
    DateArray,
    TimestampArray,
    TimestamptzArray,
    JsonArray,
    JsonbArray,
    /// pg_index.indkey's type: `1 2`, subscripts from 0.
    Int2Vector,
}

impl PgType {
    pub fn oid(self) -> u32 {
        match self {
            PgType::Bool => 16,
            PgType::Oid => 26,
            PgType::Int2 => 21,
            PgType::Int4 => 23,
            PgType::Int8 => 20,
            PgType::Float4 => 700,
            PgType::Float8 => 701,
            PgType::Numeric => 1700,
            PgType::Text => 25,
            PgType::Varchar => 1043,
            PgType::Bpchar => 1042,
            PgType::Bytea => 17,
            PgType::Date => 1082,
            PgType::Time => 1083,
            PgType::Timestamp => 1114,
            PgType::Timestamptz => 1184,
            PgType::Interval => 1186,
            PgType::Json => 114,
            PgType::Jsonb => 3802,
            PgType::Uuid => 2950,
            PgType::Inet => 869,
            PgType::Unknown => 705,
            PgType::Regtype => 2206,
            PgType::Name => 19,
            PgType::Void => 2278,
            PgType::Char => 18,
            PgType::BoolArray => 1000,
            PgType::Int2Array => 1005,
            PgType::Int4Array => 1007,
            PgType::Int8Array => 1016,
            PgType::Float8Array => 1022,
            PgType::NumericArray => 1231,
            PgType::UuidArray => 2951,
            PgType::TextArray => 1009,
            PgType::NameArray => 1003,
            PgType::OidArray => 1028,
            PgType::VarcharArray => 1015,
            PgType::BpcharArray => 1014,
            PgType::Float4Array => 1021,
            PgType::DateArray => 1182,
            PgType::TimestampArray => 1115,
            PgType::TimestamptzArray => 1185,
            PgType::JsonArray => 199,
            PgType::JsonbArray => 3807,
            PgType::Int2Vector => 22,
        }
    }

    /// The type's name in pg_type (`int4`, `timestamptz`, ...).
    pub fn name(self) -> &'static str {
        match self {
            PgType::Bool => "bool",
            PgType::Oid => "oid",
            PgType::Int2 => "int2",
            PgType::Int4 => "int4",
            PgType::Int8 => "int8",
            PgType::Float4 => "float4",
            PgType::Float8 => "float8",
            PgType::Numeric => "numeric",
            PgType::Text => "text",
            PgType::Varchar => "varchar",
            PgType::Bpchar => "bpchar",
            PgType::Bytea => "bytea",
            PgType::Date => "date",
            PgType::Time => "time",
            PgType::Timestamp => "timestamp",
            PgType::Timestamptz => "timestamptz",
            PgType::Interval => "interval",
            PgType::Json => "json",
            PgType::Jsonb => "jsonb",
            PgType::Uuid => "uuid",
            PgType::Inet => "inet",
            PgType::Unknown => "unknown",
            PgType::Regtype => "regtype",
            PgType::Name => "name",
            PgType::Void => "void",
            PgType::Char => "char",
            PgType::BoolArray => "_bool",
            PgType::Int2Array => "_int2",
            PgType::Int4Array => "_int4",
            PgType::Int8Array => "_int8",
            PgType::Float8Array => "_float8",
            PgType::NumericArray => "_numeric",
            PgType::UuidArray => "_uuid",
            PgType::TextArray => "_text",
            PgType::NameArray => "_name",
            PgType::OidArray => "_oid",
            PgType::VarcharArray => "_varchar",
            PgType::BpcharArray => "_bpchar",
            PgType::Float4Array => "_float4",
            PgType::DateArray => "_date",
            PgType::TimestampArray => "_timestamp",
            PgType::TimestamptzArray => "_timestamptz",
            PgType::JsonArray => "_json",
            PgType::JsonbArray => "_jsonb",
            PgType::Int2Vector => "int2vector",
        }
    }

    /// The element type of an array type.
    pub fn element(self) -> Option<PgType> {
        Some(match self {
            PgType::BoolArray => PgType::Bool,
            PgType::Int2Array | PgType::Int2Vector => PgType::Int2,
            PgType::Int4Array => PgType::Int4,
            PgType::Int8Array => PgType::Int8,
            PgType::Float8Array => PgType::Float8,
            PgType::NumericArray => PgType::Numeric,
            PgType::UuidArray => PgType::Uuid,
            PgType::TextArray => PgType::Text,
            PgType::NameArray => PgType::Name,
            PgType::OidArray => PgType::Oid,
            PgType::VarcharArray => PgType::Varchar,
            PgType::BpcharArray => PgType::Bpchar,
            PgType::Float4Array => PgType::Float4,
            PgType::DateArray => PgType::Date,
            PgType::TimestampArray => PgType::Timestamp,
            PgType::TimestamptzArray => PgType::Timestamptz,
            PgType::JsonArray => PgType::Json,
            PgType::JsonbArray => PgType::Jsonb,
            _ => return None,
        })
    }

    /// The array type of an element type, where litescale has one.
    pub fn array_of(element: PgType) -> Option<PgType> {
        ALL.iter()
            .copied()
            .find(|t| t.element() == Some(element) && *t != PgType::Int2Vector)
            .or(match element {
                PgType::Unknown => Some(PgType::TextArray),
                _ => None,
            })
    }

    pub fn from_oid(oid: u32) -> Option<PgType> {
        ALL.iter().copied().find(|t| t.oid() == oid)
    }
}

const ALL: [PgType; 45] = [
    PgType::Bool,
    PgType::Oid,
    PgType::Int2,
    PgType::Int4,
    PgType::Int8,
    PgType::Float4,
    PgType::Float8,
    PgType::Numeric,
    PgType::Text,
    PgType::Varchar,
    PgType::Bpchar,
    PgType::Bytea,
    PgType::Date,
    PgType::Time,
    PgType::Timestamp,
    PgType::Timestamptz,
    PgType::Interval,
    PgType::Json,
    PgType::Jsonb,
    PgType::Uuid,
    PgType::Inet,
    PgType::Unknown,
    PgType::Regtype,
    PgType::Name,
    PgType::Char,
    PgType::Void,
    PgType::BoolArray,
    PgType::Int2Array,
    PgType::Int4Array,
    PgType::Int8Array,
    PgType::Float8Array,
    PgType::NumericArray,
    PgType::TextArray,
    PgType::NameArray,
    PgType::UuidArray,
    PgType::OidArray,
    PgType::VarcharArray,
    PgType::BpcharArray,
    PgType::Float4Array,
    PgType::DateArray,
    PgType::TimestampArray,
    PgType::TimestamptzArray,
    PgType::JsonArray,
    PgType::JsonbArray,
    PgType::Int2Vector,
];

/// Maps a column's declared type, as SQLite keeps it (`sqlite3_column_decltype`), to the
/// Postgres type a client should see. `None` when the declaration names no type we know, in
/// which case the caller decides from the values.
pub fn from_declared(decl: &str) -> Option<PgType> {
    let upper = decl.trim().to_ascii_uppercase();
    let upper = upper.strip_prefix("PG_CATALOG.").unwrap_or(&upper);
    // Drop a length or precision suffix: VARCHAR(20), NUMERIC(10, 2).
    let base = upper.split('(').next().unwrap_or("").trim();
    let t = match base {
        "BOOL" | "BOOLEAN" => PgType::Bool,
        "OID" => PgType::Oid,
        "SMALLINT" | "INT2" | "SMALLSERIAL" | "SERIAL2" => PgType::Int2,
        "INT" | "INTEGER" | "INT4" | "SERIAL" | "SERIAL4" | "MEDIUMINT" => PgType::Int4,
        "BIGINT" | "INT8" | "BIGSERIAL" | "SERIAL8" => PgType::Int8,
        "REAL" | "FLOAT4" => PgType::Float4,
        "DOUBLE" | "DOUBLE PRECISION" | "FLOAT" | "FLOAT8" => PgType::Float8,
        "NUMERIC" | "DECIMAL" => PgType::Numeric,
        "TEXT" | "CLOB" | "STRING" => PgType::Text,
        "VARCHAR" | "CHARACTER VARYING" | "NVARCHAR" => PgType::Varchar,
        "CHAR" | "CHARACTER" | "BPCHAR" | "NCHAR" => PgType::Bpchar,
        "BLOB" | "BYTEA" => PgType::Bytea,
        "DATE" => PgType::Date,
        "TIME" | "TIME WITHOUT TIME ZONE" => PgType::Time,
        "TIMESTAMP" | "DATETIME" | "TIMESTAMP WITHOUT TIME ZONE" => PgType::Timestamp,
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => PgType::Timestamptz,
        "INTERVAL" => PgType::Interval,
        "JSON" => PgType::Json,
        "JSONB" => PgType::Jsonb,
        "UUID" => PgType::Uuid,
        "INET" => PgType::Inet,
        "NAME" => PgType::Name,
        "REGTYPE" => PgType::Regtype,
        "VOID" => PgType::Void,
        _ => return None,
    };
    Some(t)
}

/// A table column's declared type as a client sees it: [`from_declared`]'s types and
/// their one-dimensional arrays (`TEXT[]` is text[]). Casts and write checks go by
/// `from_declared` alone, as arrays have rules of their own there.
pub fn from_column_declaration(decl: &str) -> Option<PgType> {
    match decl.trim().strip_suffix("[]") {
        Some(element) => PgType::array_of(from_declared(element)?),
        None => from_declared(decl),
    }
}

/// `(type oid, typmod)` of a declared column type, for pg_attribute: the typmod carries
/// VARCHAR/CHAR lengths and NUMERIC precision as Postgres encodes them.
pub fn catalog_of_declared(decl: &str) -> (u32, i32) {
    let t = from_column_declaration(decl).unwrap_or(PgType::Text);
    let args: Vec<i32> = decl
        .trim_end()
        .trim_end_matches("[]")
        .split_once('(')
        .map(|(_, rest)| {
            rest.trim_end_matches(')')
                .split(',')
                .filter_map(|a| a.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let typmod = match (t.element().unwrap_or(t), args.as_slice()) {
        (PgType::Varchar | PgType::Bpchar, [n]) => n + 4,
        (PgType::Numeric, [p]) => (p << 16) + 4,
        (PgType::Numeric, [p, s]) => (p << 16) + s + 4,
        _ => -1,
    };
    (t.oid(), typmod)
}

/// Postgres' `format_type(oid, typmod)`.
/// The OID of the type `format_type` names `name` (a regtype's binary form).
pub fn oid_of_type_name(name: &str) -> Option<u32> {
    ALL.iter()
        .map(|t| t.oid())
        .find(|oid| format_type(*oid, -1).as_deref() == Some(name))
}

pub fn format_type(oid: u32, typmod: i32) -> Option<String> {
    let t = PgType::from_oid(oid)?;
    let with_len = |base: &str| {
        if typmod >= 4 {
            format!("{base}({})", typmod - 4)
        } else {
            base.to_owned()
        }
    };
    if let Some(e) = t.element()
        && t != PgType::Int2Vector
    {
        return Some(format!("{}[]", format_type(e.oid(), typmod)?));
    }
    Some(match t {
        PgType::Bool => "boolean".into(),
        PgType::Int2 => "smallint".into(),
        PgType::Int4 => "integer".into(),
        PgType::Int8 => "bigint".into(),
        PgType::Float4 => "real".into(),
        PgType::Float8 => "double precision".into(),
        PgType::Numeric if typmod >= 4 => {
            let m = typmod - 4;
            format!("numeric({},{})", m >> 16, m & 0xffff)
        }
        PgType::Varchar => with_len("character varying"),
        PgType::Bpchar => with_len("character"),
        PgType::Time => "time without time zone".into(),
        PgType::Timestamp => "timestamp without time zone".into(),
        PgType::Timestamptz => "timestamp with time zone".into(),
        other => other.name().into(),
    })
}

/// Every type, as pg_type lists it: `(oid, typname, typlen, typcategory)`.
pub fn catalog_types() -> Vec<(u32, &'static str, i16, char)> {
    ALL.iter()
        .map(|t| {
            let (len, category) = match t {
                PgType::Bool => (1, 'B'),
                PgType::Int2 => (2, 'N'),
                PgType::Int4 | PgType::Float4 | PgType::Oid => (4, 'N'),
                PgType::Int8 | PgType::Float8 => (8, 'N'),
                PgType::Numeric => (-1, 'N'),
                PgType::Date => (4, 'D'),
                PgType::Time | PgType::Timestamp | PgType::Timestamptz => (8, 'D'),
                PgType::Interval => (16, 'T'),
                PgType::Uuid => (16, 'U'),
                PgType::Json | PgType::Jsonb => (-1, 'U'),
                PgType::Name => (64, 'S'),
                PgType::Char => (1, 'Z'),
                PgType::Void => (4, 'P'),
                PgType::Unknown => (-2, 'X'),
                t if t.element().is_some() => (-1, 'A'),
                _ => (-1, 'S'),
            };
            (t.oid(), t.name(), len, category)
        })
        .collect()
}

/// The element type of an array type (`int[]`, `int ARRAY`); `int[][]` is `int[]`, as
/// Postgres has no type per dimension. `None` for other types.
pub fn array_element(data_type: &DataType) -> Option<&DataType> {
    let DataType::Array(def) = data_type else {
        return None;
    };
    let element = match def {
        ArrayElemTypeDef::SquareBracket(t, _)
        | ArrayElemTypeDef::AngleBracket(t)
        | ArrayElemTypeDef::Parenthesis(t)
        | ArrayElemTypeDef::ParenthesisNotNull(t)
        | ArrayElemTypeDef::Qualified(t, _) => t,
        ArrayElemTypeDef::None => return None,
    };
    array_element(element).or(Some(element))
}

/// The Postgres type a SQL type name (as in a CAST) stands for.
pub fn from_data_type(data_type: &DataType) -> Option<PgType> {
    match data_type {
        DataType::Custom(name, modifiers) if modifiers.is_empty() => {
            from_declared(&catalog_type_name(name))
        }
        _ => from_declared(&data_type.to_string()),
    }
}

/// `pg_catalog."regtype"` → `regtype`; `"char"` keeps its quotes, which tell it from char.
pub fn catalog_type_name(name: &sqlparser::ast::ObjectName) -> String {
    let lowered = name.to_string().to_ascii_lowercase();
    let bare = lowered
        .trim_start_matches("pg_catalog.")
        .trim_start_matches("\"pg_catalog\".");
    match bare {
        "\"char\"" => bare.to_owned(),
        _ => bare.trim_matches('"').to_owned(),
    }
}

/// The name of the type `name` (`t`, `public.t`), folded as Postgres folds names (parse's
/// lexical pass lower-cases unquoted ones before sqlparser reads them: `Mood` is mood,
/// `"Mood"` stays). `None` for a name in another schema.
pub fn public_type_name(name: &sqlparser::ast::ObjectName) -> Option<String> {
    let parts: Vec<&sqlparser::ast::Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
    let ident = match parts.as_slice() {
        [ident] => *ident,
        [schema, ident] if schema.value.eq_ignore_ascii_case("public") => *ident,
        _ => return None,
    };
    Some(ident.value.clone())
}

/// Whether a column's declared type (as SQLite keeps it) is a user-defined type, such as
/// an enum, whose order is its own: [`user_type_name`] for a declaration.
pub fn declares_user_type(decl: &str) -> bool {
    let name = decl.trim().trim_matches('"').to_ascii_lowercase();
    from_column_declaration(decl).is_none()
        && !name.is_empty()
        && !TYPES_KEPT_AS_TEXT.contains(&name.as_str())
        && !name.ends_with("[]")
}

/// Postgres types that are not litescale's but that a column may still declare, kept as
/// the text written (extensions' types, geometry, bit strings, ...): never an enum.
const TYPES_KEPT_AS_TEXT: &[&str] = &[
    "citext",
    "money",
    "xml",
    "tsvector",
    "tsquery",
    "macaddr",
    "macaddr8",
    "cidr",
    "point",
    "line",
    "lseg",
    "box",
    "path",
    "polygon",
    "circle",
    "hstore",
    "ltree",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
    "pg_lsn",
    "txid_snapshot",
    "timetz",
    "varbit",
    "regclass",
    "regtype",
    "regproc",
    "oid",
    "xid",
    "cid",
    "tid",
    "int2vector",
    "oidvector",
    "char",
    "name",
    "unknown",
    "any",
    "record",
];

/// The name of the user-defined type `data_type` names, as Postgres folds it (`Mood` is
/// mood, `"Mood"` stays): a type litescale does not know by name, which may be an enum
/// (CREATE TYPE ... AS ENUM). `None` for litescale's own types and [`TYPES_KEPT_AS_TEXT`].
pub fn user_type_name(data_type: &DataType) -> Option<String> {
    let DataType::Custom(name, modifiers) = data_type else {
        return None;
    };
    if !modifiers.is_empty() || from_data_type(data_type).is_some() {
        return None;
    }
    let folded = public_type_name(name)?;
    (!TYPES_KEPT_AS_TEXT.contains(&folded.as_str()) && !folded.ends_with("serial"))
        .then_some(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_as_postgres_names_them() {
        assert_eq!(from_declared("INTEGER"), Some(PgType::Int4));
        assert_eq!(from_declared("int"), Some(PgType::Int4));
        assert_eq!(from_declared("BIGINT"), Some(PgType::Int8));
        assert_eq!(from_declared("varchar(20)"), Some(PgType::Varchar));
        assert_eq!(from_declared("double precision"), Some(PgType::Float8));
        assert_eq!(from_declared("REAL"), Some(PgType::Float4));
        assert_eq!(from_declared("boolean"), Some(PgType::Bool));
        assert_eq!(from_declared("BYTEA"), Some(PgType::Bytea));
        assert_eq!(from_declared("numeric(10, 2)"), Some(PgType::Numeric));
        assert_eq!(from_declared("widget"), None);
        assert_eq!(from_column_declaration("TEXT[]"), Some(PgType::TextArray));
        assert_eq!(from_column_declaration("INT[]"), Some(PgType::Int4Array));
        assert_eq!(
            from_column_declaration("numeric(6,2)[]"),
            Some(PgType::NumericArray)
        );
        assert_eq!(from_column_declaration("BIGINT"), Some(PgType::Int8));
    }

    #[test]
    fn catalog_type_names_match_postgres() {
        let (oid, typmod) = catalog_of_declared("VARCHAR(20)");
        assert_eq!(format_type(oid, typmod).unwrap(), "character varying(20)");
        let (oid, typmod) = catalog_of_declared("numeric(10, 2)");
        assert_eq!(format_type(oid, typmod).unwrap(), "numeric(10,2)");
        let (oid, typmod) = catalog_of_declared("INT");
        assert_eq!(format_type(oid, typmod).unwrap(), "integer");
        assert_eq!(format_type(1184, -1).unwrap(), "timestamp with time zone");
    }

    #[test]
    fn oids_round_trip() {
        for t in ALL {
            assert_eq!(PgType::from_oid(t.oid()), Some(t));
        }
        assert_eq!(PgType::Int4.oid(), 23);
    }
}
