//! Golden routing tests: `tests/golden/routes.txt` holds statements and their expected
//! routes under `tests/golden/map.toml`. A changed plan fails with a diff; set
//! UPDATE_GOLDEN=1 to accept the new plans.

use litescale_config::{Config, KeyValue};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

fn params(line: &str) -> Vec<Option<KeyValue>> {
    line.split(',')
        .map(|p| match p.trim() {
            "null" => None,
            n => Some(KeyValue::Int(n.parse().expect("integer parameter"))),
        })
        .collect()
}

#[test]
fn routes_match_the_golden_file() {
    let config: Config =
        toml::from_str(&std::fs::read_to_string(format!("{DIR}/map.toml")).unwrap()).unwrap();
    let map = config.partition_map().unwrap();
    let path = format!("{DIR}/routes.txt");
    let expected = std::fs::read_to_string(&path).unwrap();

    let mut actual = String::new();
    let mut pending: Option<(String, Vec<Option<KeyValue>>)> = None;
    for line in expected.lines() {
        if let Some(sql) = line.strip_prefix("sql: ") {
            pending = Some((sql.to_owned(), Vec::new()));
            actual.push_str(line);
        } else if let Some(p) = line.strip_prefix("params: ") {
            if let Some((_, ps)) = pending.as_mut() {
                *ps = params(p);
            }
            actual.push_str(line);
        } else if line.starts_with("scatter: ") || line.starts_with("split: ") {
            // Regenerated together with the route line above it.
            continue;
        } else if line.starts_with("route: ") {
            let (sql, ps) = pending.take().expect("route: after sql:");
            let planned = litescale_router::plan(&sql).expect("plans");
            let route =
                litescale_router::route(&planned[0], &map, &ps, &litescale_router::NoSchema);
            actual.push_str(&format!("route: {route}"));
            let ctx = litescale_router::SessionContext::default();
            let schema = &litescale_router::NoSchema;
            match litescale_router::split_insert(&planned[0], &map, &ps, schema, &ctx) {
                Some(Ok(parts)) => {
                    for part in parts {
                        actual.push_str(&format!("\nsplit: {}: {}", part.partition, part.sql));
                    }
                }
                Some(Err(why)) => actual.push_str(&format!("\nsplit: refused: {why}")),
                None => {}
            }
            if route == litescale_router::Route::All
                && planned[0].kind == litescale_router::StatementKind::Read
            {
                match litescale_router::scatter(&planned[0], &ctx) {
                    Ok(plan) => actual.push_str(&format!("\nscatter: {plan}")),
                    Err(why) => actual.push_str(&format!("\nscatter: refused: {why}")),
                }
            }
        } else {
            actual.push_str(line);
        }
        actual.push('\n');
    }
    if actual != expected {
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &actual).unwrap();
            return;
        }
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .filter(|(e, a)| e != a)
            .map(|(e, a)| format!("- {e}\n+ {a}"))
            .collect();
        panic!("routes changed:\n{}", diff.join("\n"));
    }
}
