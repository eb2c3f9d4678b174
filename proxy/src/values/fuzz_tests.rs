//! Property tests as a bounded fuzzer over what the proxy decodes from clients itself:
//! parameters in text and binary form for every type, and COPY data, text and CSV.
//! Whatever the bytes, the answer is a value or an error, never a panic.
//! `PROPTEST_CASES` sets a longer hunt; failures found are kept under
//! `proptest-regressions/` and replayed first. (Protocol framing is pgwire's; a panic it
//! had on a short Parse message is a regression test in tests/e2e/malformed.rs.)

use litescale_router::{CopyFormat, PgType, types};
use litescale_shard::SessionZone;
use proptest::prelude::*;

use crate::values::copy_format::RowParser;
use crate::values::decode::decode_param;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

fn copy_format(csv: bool) -> CopyFormat {
    let spec = if csv {
        "COPY t FROM STDIN (FORMAT csv)"
    } else {
        "COPY t FROM STDIN"
    };
    match &litescale_router::plan(spec).expect("plans")[0].kind {
        litescale_router::StatementKind::Copy(c) => c.format.clone(),
        other => panic!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn decoding_parameters_never_panics(
        raw in prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        oid in prop::sample::select(types::catalog_types()),
        binary in any::<bool>(),
    ) {
        let ty = PgType::from_oid(oid.0).unwrap_or(PgType::Text);
        let _ = decode_param(raw.as_deref(), ty, binary, &SessionZone::UTC);
    }

    #[test]
    fn parsing_copy_data_never_panics(
        chunks in prop::collection::vec(prop::collection::vec(
            prop::sample::select(b"a1,\t\n\r\\\"'.N\xff\xc3\xa9".to_vec()), 0..40), 1..5),
        csv in any::<bool>(),
    ) {
        let mut parser = RowParser::new(copy_format(csv));
        for chunk in &chunks {
            if parser.push(chunk).is_err() {
                return Ok(());
            }
        }
        let _ = parser.finish();
    }
}
