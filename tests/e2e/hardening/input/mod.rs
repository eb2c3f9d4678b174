//! Hostile statements and values: deep expressions, long texts, lexical forms, parameters,
//! values a column's type refuses, partition hints, TEMP objects, internal tables, fuzzing.

mod fuzz;
mod hints;
mod internal;
mod params;
mod planning;
mod syntax;
mod temp;
mod types;
