//! Statements sqlparser does not read, parsed by hand from a piece's tokens straight to a
//! plan: VACUUM, SET CONSTRAINTS, ALTER ... OWNER TO, ALTER SEQUENCE. Each is a leaf on
//! `split` and `lexical`.

pub(crate) mod owner;
pub(crate) mod sequence;
pub(crate) mod set_constraints;
pub(crate) mod vacuum;

use super::{lexical, split};
