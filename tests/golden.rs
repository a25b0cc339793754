//! The golden harness: every case under `golden/<kind>/<CODE>-<name>/` is run through the engine with
//! only its own rule selected, and the harness (not each case) asserts the invariants:
//! - the fix loop converges and the output re-parses (the engine verifies; an error fails the case);
//! - fixing the output again changes nothing (idempotent);
//! - `ok-` cases have no finding of the rule and come out byte-identical;
//! - other cases have at least one finding of the rule;
//! - after the fix, no finding of the rule with an applicable fix is left (check is the negation of
//!   the fixed state);
//! - the rule's declared fix availability holds;
//! - the whole pipeline (every rule, Unsafe fixes on) also converges and is idempotent on the case.
//!
//! Each case has an insta snapshot of its findings and fixed text in `snapshots/` beside it. An
//! optional `<case>.toml` beside the case holds transform options (the `[options]` table of
//! `.dockharden.toml`, as a bare table).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dockharden_transforms::engine::{Engine, FixPolicy};
use dockharden_transforms::fix::Applicability;
use dockharden_transforms::registry::{self, FixAvailability, Transform};
use dockharden_transforms::settings::{NoResolver, Settings};
use dockharden_transforms::source::{self, FileKind};
use dockharden_transforms::text::LineIndex;

pub fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

/// Every case file: (rule dir, case path).
pub fn cases() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let Ok(kinds) = std::fs::read_dir(golden_root()) else {
        return out;
    };
    for kind in kinds.flatten() {
        // `workloads/` holds whole-pipeline cases with their own harness (tests/workloads.rs).
        if !kind.path().is_dir() || kind.file_name() == "workloads" {
            continue;
        }
        let Ok(rules) = std::fs::read_dir(kind.path()) else {
            continue;
        };
        for rule in rules.flatten() {
            if !rule.path().is_dir() {
                continue;
            }
            let Ok(files) = std::fs::read_dir(rule.path()) else {
                continue;
            };
            for f in files.flatten() {
                let p = f.path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if p.is_file()
                    && !name.ends_with(".toml")
                    && !name.ends_with(".md")
                    && !name.starts_with('.')
                {
                    out.push((rule.path(), p));
                }
            }
        }
    }
    out.sort();
    out
}

fn kind_of_dir(kind_dir: &str) -> FileKind {
    FileKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str() == kind_dir)
        .unwrap_or_else(|| panic!("unknown golden kind folder {kind_dir}"))
}

pub fn load_settings(case: &Path) -> Settings {
    let toml_path = case.with_extension("toml");
    let alt = PathBuf::from(format!("{}.toml", case.display()));
    for p in [alt, toml_path] {
        if let Ok(t) = std::fs::read_to_string(&p) {
            let mut table: toml::Table =
                toml::from_str(&t).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            // `[[images]]` entries, as in .dockharden.toml; the rest is the `[options]` table.
            let images: Vec<toml::Table> = table
                .remove("images")
                .map(|v| {
                    v.try_into()
                        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                })
                .unwrap_or_default();
            let mut settings: Settings = toml::Value::Table(table)
                .try_into()
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            settings.images = images
                .into_iter()
                .map(|t| {
                    dockharden_transforms::images::Entry::from_table(
                        t,
                        dockharden_transforms::images::Origin::Config,
                        false,
                    )
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                })
                .collect();
            return settings;
        }
    }
    Settings::default()
}

/// The files beside a case: `<case>.ctx/` (a `.env`, the Dockerfile of a `build:`), so that each case
/// has its own.
pub struct CaseFiles(PathBuf);

impl dockharden_transforms::settings::Workspace for CaseFiles {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(path)).ok()
    }
}

pub fn case_files(case: &Path) -> CaseFiles {
    let stem = case.file_stem().unwrap().to_string_lossy().into_owned();
    CaseFiles(case.with_file_name(format!("{stem}.ctx")))
}

fn render_findings(
    kind: FileKind,
    text: &str,
    findings: &[dockharden_transforms::Finding],
) -> String {
    // (YAML line breaks include a CR alone.)
    let index = if kind == FileKind::Dockerfile {
        LineIndex::new(text)
    } else {
        LineIndex::with_cr_breaks(text)
    };
    let mut s = String::new();
    for f in findings {
        let a = index.line_col(text, f.range.start);
        let b = index.line_col(text, f.range.end);
        let fix = match &f.fix {
            Some(x) => format!("{} fix: {}", x.applicability.as_str(), x.title),
            None => "no fix".into(),
        };
        let _ = writeln!(
            s,
            "{}:{}-{}:{} {} {}: {}\n    ({fix})",
            a.line, a.column, b.line, b.column, f.code, f.name, f.message
        );
    }
    s
}

/// Run one case; returns the snapshot text.
fn run_case(rule_dir: &Path, case: &Path) -> String {
    let kind_dir = rule_dir
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let kind = kind_of_dir(&kind_dir);
    let rule_dir_name = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
    let code = rule_dir_name.split('-').next().unwrap().to_owned();
    let transform: &dyn Transform =
        registry::find(&code).unwrap_or_else(|| panic!("{}: no rule {code}", rule_dir.display()));
    assert!(
        transform.applies_to(kind),
        "{}: rule {code} is not a {kind} rule",
        case.display()
    );
    assert_eq!(
        format!("{}-{}", transform.code(), transform.name()),
        rule_dir_name,
        "folder name must be CODE-name"
    );
    let text = std::fs::read_to_string(case).unwrap();
    let settings = load_settings(case);
    let case_name = case.file_name().unwrap().to_string_lossy().into_owned();
    let ok_case = case_name.starts_with("ok-");
    let path_str = case.to_string_lossy().into_owned();
    let files = case_files(case);
    let engine = Engine {
        transforms: vec![transform],
        settings: &settings,
        resolver: &NoResolver,
        workspace: &files,
        path: Some(&path_str),
        base_services: None,
    };
    let policy = FixPolicy {
        min_applicability: Applicability::Unsafe,
    };

    let findings = engine
        .check(kind, &text)
        .unwrap_or_else(|e| panic!("{}: does not parse: {e}", case.display()));
    let own: Vec<_> = findings.iter().filter(|f| f.code == code).collect();
    if ok_case {
        assert!(
            own.is_empty(),
            "{}: ok- case has findings:\n{}",
            case.display(),
            render_findings(kind, &text, &findings)
        );
    } else {
        assert!(
            !own.is_empty(),
            "{}: case has no {code} finding",
            case.display()
        );
    }
    for f in &own {
        let applicable = f
            .fix
            .as_ref()
            .is_some_and(|x| x.applicability > Applicability::DisplayOnly);
        match transform.fix_availability() {
            FixAvailability::Always => assert!(
                applicable,
                "{}: {code} declares Always but a finding has no applicable fix",
                case.display()
            ),
            FixAvailability::None => assert!(
                !applicable,
                "{}: {code} declares no fix but offers one",
                case.display()
            ),
            FixAvailability::Sometimes => {}
        }
    }
    let outcome = engine
        .fix(kind, &text, policy)
        .unwrap_or_else(|e| panic!("{}: fix failed: {e}", case.display()));
    if ok_case {
        assert_eq!(outcome.text, text, "{}: ok- case changed", case.display());
    }
    source::parse(kind, &outcome.text)
        .unwrap_or_else(|e| panic!("{}: fixed output does not parse: {e}", case.display()));
    let again = engine
        .fix(kind, &outcome.text, policy)
        .unwrap_or_else(|e| panic!("{}: second fix failed: {e}", case.display()));
    assert_eq!(
        again.text,
        outcome.text,
        "{}: not idempotent",
        case.display()
    );
    for f in &outcome.remaining {
        if f.code == code {
            assert!(
                f.fix
                    .as_ref()
                    .is_none_or(|x| x.applicability == Applicability::DisplayOnly),
                "{}: after the fix, {code} still offers an applicable fix: {}",
                case.display(),
                f.message
            );
        }
    }
    // The whole pipeline on the same case.
    let all = Engine {
        transforms: registry::all(),
        settings: &settings,
        resolver: &NoResolver,
        workspace: &files,
        path: Some(&path_str),
        base_services: None,
    };
    let full = all
        .fix(kind, &text, policy)
        .unwrap_or_else(|e| panic!("{}: full pipeline failed: {e}", case.display()));
    let full2 = all
        .fix(kind, &full.text, policy)
        .unwrap_or_else(|e| panic!("{}: full pipeline (2nd) failed: {e}", case.display()));
    assert_eq!(
        full2.text,
        full.text,
        "{}: full pipeline not idempotent",
        case.display()
    );

    let mut snap = String::new();
    let _ = writeln!(
        snap,
        "# findings\n{}",
        render_findings(kind, &text, &findings)
    );
    let _ = writeln!(
        snap,
        "# fixed ({} round(s), unsafe fixes on)",
        outcome.rounds
    );
    if outcome.text == text {
        snap.push_str("(unchanged)\n");
    } else {
        snap.push_str(&outcome.text.replace('\r', "␍"));
    }
    snap
}

#[test]
fn golden_cases() {
    let cases = cases();
    assert!(!cases.is_empty(), "no golden cases found");
    for (rule_dir, case) in &cases {
        let snap = run_case(rule_dir, case);
        let name = case
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace('.', "_");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(rule_dir.join("snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(case);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, snap));
    }
}

#[test]
fn every_rule_has_golden_cases() {
    let cases = cases();
    let mut missing = Vec::new();
    for t in registry::all() {
        let dir = format!("{}-{}", t.code(), t.name());
        let pos = cases.iter().any(|(r, c)| {
            r.ends_with(&dir) && !c.file_name().unwrap().to_string_lossy().starts_with("ok-")
        });
        let neg = cases.iter().any(|(r, c)| {
            r.ends_with(&dir) && c.file_name().unwrap().to_string_lossy().starts_with("ok-")
        });
        if !pos || !neg {
            missing.push(dir);
        }
    }
    assert!(
        missing.is_empty(),
        "rules without a positive and an ok- golden case: {missing:?}"
    );
}

#[test]
fn every_rule_has_docs_in_the_template() {
    for t in registry::all() {
        let d = t.docs();
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Fix safety",
            "## Options",
            "## References",
        ] {
            assert!(d.contains(section), "{} docs lack `{section}`", t.code());
        }
        assert!(!t.why().is_empty(), "{}: empty why line", t.code());
    }
}
