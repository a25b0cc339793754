//! The JSON schemas in `schemas/` against real output and real configurations: runs
//! `tests/scripts/schema_check.py` (Python's `jsonschema`, which `.ci/run` installs) with the built
//! binary. The schema's keys are checked against the configuration types in `src/config.rs`.

use std::process::Command;

use crate::cli::BIN;

#[test]
fn schemas_validate_real_reports_and_configurations_and_refuse_what_the_tool_refuses() {
    let has_jsonschema = Command::new("python3")
        .args(["-c", "import jsonschema, tomllib"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_jsonschema {
        eprintln!("python3 with jsonschema not found: the schema validation is left to .ci/run");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let o = Command::new("python3")
        .arg(format!("{root}/tests/scripts/schema_check.py"))
        .args(["--bin", BIN, "--root", root])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("knowledge entries"), "{out}");
}
