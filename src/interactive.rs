//! `fix --interactive`: the terminal front end of the session state machine in
//! `dockharden_transforms::session`. Questions and previews go to stderr; a file is written only after
//! its accepted fixes verified.

use std::io::IsTerminal as _;

use console::{style, Term};
use dockharden_transforms::engine::Engine;
use dockharden_transforms::fix::Applicability;
use dockharden_transforms::registry;
use dockharden_transforms::session::{Answer, Question, RuleChoices, Session};
use dockharden_transforms::settings::NoResolver;

use crate::cli::CommonArgs;
use crate::config::ConfigResolver;

/// The advice printed when there is no terminal.
pub const NO_TTY: &str =
    "`fix --interactive` needs a terminal on standard input and standard error.\n\
In CI use `dockharden fix --check` (prints the diff, exit 1 when something would change);\n\
to apply fixes without questions use `dockharden fix` (add --unsafe-fixes for Unsafe ones).";

fn preview(q: &Question, path: &str) -> String {
    let diff = similar::TextDiff::from_lines(&q.before, &q.after);
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(2).iter_hunks() {
        out.push_str(&format!("{}\n", style(hunk.header()).cyan()));
        for change in hunk.iter_changes() {
            let line = change.to_string_lossy();
            let line = line.trim_end_matches(['\n', '\r']);
            match change.tag() {
                similar::ChangeTag::Delete => {
                    out.push_str(&format!("{}\n", style(format!("-{line}")).red()))
                }
                similar::ChangeTag::Insert => {
                    out.push_str(&format!("{}\n", style(format!("+{line}")).green()))
                }
                similar::ChangeTag::Equal => out.push_str(&format!(" {line}\n")),
            }
        }
    }
    if out.is_empty() {
        out = format!("(no textual change in {path})\n");
    }
    out
}

/// What the user answered to a question.
enum Reply {
    Answer(Answer),
    /// A value for the question's `need`.
    Value(String),
}

/// Ask for the value a display-only fix needs, with the default and validation.
fn ask_value(term: &Term, q: &Question, session: &Session<'_>) -> anyhow::Result<Reply> {
    let need = q.need.as_ref().expect("value question");
    term.write_line(&format!(
        "{} this fix needs a value only you know: {}",
        style("?").yellow().bold(),
        need.prompt
    ))?;
    term.write_line(&format!(
        "{}",
        style("(empty answer: skip; `d`: skip this rule; `q`: stop)").dim()
    ))?;
    let settings = session.settings().clone();
    let option = need.option;
    let key = need.key.clone();
    let mut input = dialoguer::Input::<String>::new()
        .with_prompt(format!(
            "{option}{}",
            key.as_deref().map(|k| format!(".{k}")).unwrap_or_default()
        ))
        .allow_empty(true)
        .validate_with(move |v: &String| -> Result<(), String> {
            if v.is_empty() || v == "d" || v == "q" {
                return Ok(());
            }
            settings.clone().set(option, key.as_deref(), v)
        });
    if let Some(d) = &need.default {
        input = input.default(d.clone());
    }
    let v = input.interact_text_on(term)?;
    Ok(match v.as_str() {
        "" => Reply::Answer(Answer::No),
        "d" => Reply::Answer(Answer::SkipRule),
        "q" => Reply::Answer(Answer::Quit),
        _ => Reply::Value(v),
    })
}

fn ask(term: &Term, q: &Question, path: &str, session: &Session<'_>) -> anyhow::Result<Reply> {
    let f = &q.finding;
    let fix = f.fix.as_ref().expect("questions have fixes");
    let t = registry::find(f.code);
    term.write_line("")?;
    term.write_line(&format!(
        "{} {} {}",
        style(format!("{path}:{}:", q.line)).bold(),
        style(f.code).red().bold(),
        style(f.name).bold()
    ))?;
    term.write_line(&f.message)?;
    if let Some(t) = t {
        term.write_line(&format!("{} {}", style("why:").dim(), t.why()))?;
    }
    let safety = match fix.applicability {
        Applicability::Safe => style("Safe fix".to_owned()).green().to_string(),
        _ => style("Unsafe fix: it may change how the container runs (see `?`)".to_owned())
            .yellow()
            .to_string(),
    };
    term.write_line(&format!("{safety}: {}", fix.title))?;
    if q.need.is_some() {
        return ask_value(term, q, session);
    }
    term.write_str(&preview(q, path))?;
    loop {
        term.write_str(&format!(
            "{} ",
            style("Apply this fix [y,n,a,d,q,?]?").blue().bold()
        ))?;
        let c = term.read_char()?;
        term.write_line(&c.to_string())?;
        if let Some(a) = Answer::from_key(c) {
            return Ok(Reply::Answer(a));
        }
        if c == '?' {
            term.write_line("y - apply this fix\nn - skip this fix\na - apply this fix and all later fixes of this rule\nd - skip this fix and all later fixes of this rule\nq - write what was accepted and stop\n? - this help and the rule's documentation\n")?;
            if let Some(t) = t {
                term.write_line(&t.docs())?;
            }
        }
    }
}

/// Run the interactive session over the inputs; returns the exit code.
///
/// # Errors
/// Bad configuration or terminal I/O errors.
pub fn run(
    args: &CommonArgs,
    unsafe_fixes: Option<bool>,
    write: crate::files::WriteOptions,
) -> anyhow::Result<u8> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        eprintln!("dockharden: error: {NO_TTY}");
        return Ok(2);
    }
    if args.stdin_filename.is_some() {
        anyhow::bail!(
            "--interactive reads the terminal; it cannot be combined with --stdin-filename"
        );
    }
    let resolver = ConfigResolver::new(args.config.as_deref(), args.isolated)?;
    let (candidates, skipped) = crate::candidates(args, &resolver)?;
    let term = Term::stderr();
    let mut choices = RuleChoices::default();
    let (mut applied, mut files_changed, mut errors) = (0usize, 0usize, skipped.len());
    for s in &skipped {
        eprintln!("{}: error: {}", s.path.display(), s.reason);
    }
    let min = if unsafe_fixes == Some(false) {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    for c in candidates {
        if choices.quit {
            break;
        }
        if c.template.is_some() {
            continue;
        }
        let display = crate::display_path(&c.path);
        let text = match crate::files::read_text(&c.path) {
            Ok(t) => t,
            Err(e) => {
                if c.explicit || c.kind.is_some() {
                    eprintln!("{display}: error: {}", e.message);
                    errors += 1;
                }
                continue;
            }
        };
        let Some(kind) = crate::run::resolve_kind(c.kind, &text) else {
            continue;
        };
        if let Some((range, e)) = dockharden_transforms::suppression::unknown_codes(&text)
            .into_iter()
            .next()
        {
            let lc = dockharden_transforms::text::line_col(&text, range.start);
            eprintln!(
                "{display}:{}:{}: error: suppression comment: {e}",
                lc.line, lc.column
            );
            errors += 1;
            continue;
        }
        let config = resolver.for_path(&c.path)?;
        let base = if kind == dockharden_transforms::source::FileKind::Compose {
            crate::run::compose_base_services(&c.path)
        } else {
            None
        };
        let workspace = crate::workspace::FsWorkspace::beside(&c.path);
        let engine = Engine {
            transforms: crate::run::selected_transforms(
                &config,
                &c.path,
                &args.select,
                &args.ignore,
            ),
            settings: &config.file.options,
            resolver: &NoResolver,
            workspace: &workspace,
            path: Some(&display),
            base_services: base.as_deref(),
        };
        let mut session = match Session::new(&engine, kind, &text, min) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{display}: error: {e}");
                errors += 1;
                continue;
            }
        };
        let mut failed = false;
        loop {
            match session.next_question(&choices) {
                Ok(Some(q)) => match ask(&term, &q, &display, &session)? {
                    Reply::Answer(a) => {
                        if let Err(e) = session.answer(a, &mut choices) {
                            eprintln!("{display}: error: {e}");
                            failed = true;
                            break;
                        }
                    }
                    Reply::Value(v) => {
                        let need = q.need.clone().expect("value question");
                        if let Err(e) = session.provide(&v) {
                            eprintln!("{display}: {e}");
                            continue;
                        }
                        let save_to = config.source.clone().unwrap_or_else(|| {
                            std::path::PathBuf::from(crate::config::CONFIG_NAME)
                        });
                        let save = dialoguer::Confirm::new()
                            .with_prompt(format!(
                                "Save {} = {v} to {}?",
                                need.option,
                                save_to.display()
                            ))
                            .default(false)
                            .interact_on(&term)?;
                        if save {
                            if let Err(e) = crate::config::save_option(
                                &save_to,
                                need.option,
                                need.key.as_deref(),
                                &v,
                            ) {
                                eprintln!("dockharden: error: cannot save the option: {e:#}");
                            }
                        }
                    }
                },
                Ok(None) => break,
                Err(e) => {
                    eprintln!("{display}: error: {e}");
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            errors += 1;
            continue;
        }
        if session.text() != text {
            match crate::files::write_atomic_with(&c.path, &text, session.text(), write) {
                Ok(()) => {
                    files_changed += 1;
                    applied += session.accepted().len();
                }
                Err(e) => {
                    eprintln!("{display}: error: cannot write: {e}");
                    errors += 1;
                }
            }
        }
    }
    eprintln!(
        "Applied {applied} fix{} in {files_changed} file{}{}.",
        if applied == 1 { "" } else { "es" },
        if files_changed == 1 { "" } else { "s" },
        if errors > 0 {
            format!(" ({errors} with errors)")
        } else {
            String::new()
        }
    );
    Ok(if errors > 0 { 2 } else { 0 })
}
