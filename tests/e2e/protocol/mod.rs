//! The wire protocol as clients speak it: simple and extended queries, COPY, cancel, error
//! answers, every type in both formats, malformed messages, lanes. Not SQL semantics.

mod cancel;
mod copy;
mod errors;
mod extended;
mod lanes;
mod malformed;
mod simple;
mod types;
