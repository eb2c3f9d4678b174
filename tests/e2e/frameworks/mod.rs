//! The frameworks matrix: each framework's program under `tests/frameworks/<name>/` runs
//! against a fresh server, as a project of that framework runs (its own commands, nothing
//! litescale-specific in the application code). A step litescale cannot take yet is named
//! in KNOWN_GAPS, and the program asserts litescale's answer for it (so the test fails the
//! day the answer changes); the same programs pass against PostgreSQL 15 with none.

mod django;
