//! Postgres aggregates SQLite lacks, other than numeric's exact sum/avg/variance
//! (`numeric/`): those that take values as they are (`values`: bit_and/or/xor,
//! string_agg of distinct values, the ordered-set aggregates) and the double precision
//! statistics (`statistics`: float variance, corr, covar_*, regr_*). Each registers its
//! own; neither knows the other.

mod statistics;
mod values;

pub(crate) fn register(c: &rusqlite::Connection) -> rusqlite::Result<()> {
    statistics::register(c)?;
    values::register(c)
}
