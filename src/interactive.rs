//! `fix --interactive`: the terminal front end of the session state machine in
//! `dockharden_transforms::session`. Questions and previews go to stderr; a file is written only after
//! its accepted fixes verified.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};

use console::{style, Key, Term};
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
    /// Ctrl-C.
    Interrupt,
}

/// Set by the SIGINT handler: Ctrl-C while the terminal is not read key by key (dialoguer's prompts
/// raise SIGINT themselves, and return an `Interrupted` error).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_sigint(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From here on Ctrl-C does not kill the process: the session asks whether to write what was
/// accepted. (Files are written atomically, so even a kill never leaves half a file.)
fn catch_ctrl_c() {
    #[cfg(unix)]
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Whether a prompt ended because of Ctrl-C.
fn is_interrupt(e: &dialoguer::Error) -> bool {
    let dialoguer::Error::IO(io) = e;
    io.kind() == std::io::ErrorKind::Interrupted || interrupted()
}

/// One key, Ctrl-C included (read in raw mode, so it is a key, not a signal).
fn read_key(term: &Term) -> std::io::Result<Key> {
    term.read_key_raw()
}

/// A yes/no question answered by one key; Enter, `n`, Escape and Ctrl-C are no.
fn yes_no(term: &Term, prompt: &str) -> std::io::Result<bool> {
    term.write_str(&format!("{} ", style(prompt).blue().bold()))?;
    loop {
        let yes = match read_key(term)? {
            Key::Char('y' | 'Y') => true,
            Key::Char('n' | 'N') | Key::Enter | Key::Escape | Key::CtrlC => false,
            _ => continue,
        };
        term.write_line(if yes { "y" } else { "n" })?;
        return Ok(yes);
    }
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
    if interrupted() {
        return Ok(Reply::Interrupt);
    }
    let v = match input.interact_text_on(term) {
        Ok(v) => v,
        Err(e) if is_interrupt(&e) => return Ok(Reply::Interrupt),
        Err(e) => return Err(e.into()),
    };
    Ok(match v.as_str() {
        "" => Reply::Answer(Answer::No),
        "d" => Reply::Answer(Answer::SkipRule),
        "q" => Reply::Answer(Answer::Quit),
        _ => Reply::Value(v),
    })
}

/// The whole "Why is this bad?" section of a rule's documentation.
fn whole_why(docs: &str) -> String {
    docs.split_once("## Why is this bad?")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or("").trim().to_owned())
        .unwrap_or_default()
}

/// Where the session is: the file among the files, the question within the file.
#[derive(Clone, Copy)]
struct Progress {
    file: usize,
    files: usize,
    question: usize,
}

fn ask(
    term: &Term,
    q: &Question,
    path: &str,
    session: &Session<'_>,
    progress: Progress,
) -> anyhow::Result<Reply> {
    let f = &q.finding;
    let fix = f.fix.as_ref().expect("questions have fixes");
    let t = registry::find(f.code);
    term.write_line("")?;
    term.write_line(&format!(
        "{} {} {} {}",
        style(format!(
            "[file {}/{}, fix {}]",
            progress.file, progress.files, progress.question
        ))
        .dim(),
        style(format!("{path}:{}:", q.line)).bold(),
        style(f.code).red().bold(),
        style(f.name).bold()
    ))?;
    term.write_line(&f.message)?;
    if let Some(t) = t {
        let why = whole_why(&t.docs());
        let why = if why.is_empty() { t.why() } else { why };
        term.write_line(&format!("{} {why}", style("why:").dim()))?;
    }
    let safety = match fix.applicability {
        Applicability::Safe => style("Safe fix".to_owned()).green().to_string(),
        Applicability::Unsafe => {
            style("Unsafe fix: it may change how the container runs (see `?`)".to_owned())
                .yellow()
                .to_string()
        }
        _ => style("Suggestion, until you give the value it needs".to_owned())
            .yellow()
            .to_string(),
    };
    term.write_line(&format!("{safety}: {}", fix.title))?;
    if q.need.is_some() {
        return ask_value(term, q, session);
    }
    term.write_str(&preview(q, path))?;
    let mut helped = false;
    loop {
        term.write_str(&format!(
            "{} ",
            style("Apply this fix [y,n,a,d,q,?]?").blue().bold()
        ))?;
        // Ctrl-C pressed while no key was being read (the terminal then sends a signal).
        if interrupted() {
            return Ok(Reply::Interrupt);
        }
        let c = match read_key(term)? {
            Key::Char(c) => c,
            Key::CtrlC => {
                term.write_line("^C")?;
                return Ok(Reply::Interrupt);
            }
            _ => continue,
        };
        term.write_line(&c.to_string())?;
        if let Some(a) = Answer::from_key(c) {
            return Ok(Reply::Answer(a));
        }
        if c == '?' {
            // A short help that keeps the preview in view; the rule's documentation on a second `?`.
            if helped {
                if let Some(t) = t {
                    term.write_line(&t.docs())?;
                }
            } else {
                term.write_line("y apply · n skip · a apply all of this rule · d skip all of this rule · q write what was accepted and stop · ? again: the rule's documentation")?;
                helped = true;
            }
        }
    }
}

/// How an answer reads in the configuration file: `[options.limits] memory = "512M"`,
/// `[options] uid = 1000`, `[options.pins] "python" = "3.12-slim"`, an `[[images]]` entry.
fn config_line(option: &str, key: Option<&str>, value: &str) -> String {
    if option == "healthcheck.command" {
        if let Ok(words) = dockharden_transforms::settings::command_words(value) {
            let array = serde_json::to_string(&words)
                .unwrap_or_default()
                .replace("\",\"", "\", \"");
            return format!("`[options.healthcheck] command = {array}`");
        }
    }
    let quoted = |v: &str| {
        if v.parse::<u64>().is_ok() {
            v.to_owned()
        } else {
            format!("{v:?}")
        }
    };
    match (option.split_once('.'), key) {
        (Some(("images", field)), Some(image)) => {
            format!(
                "`[[images]] names = [{image:?}], {field} = {}`",
                quoted(value)
            )
        }
        (Some((table, field)), _) => format!("`[options.{table}] {field} = {}`", quoted(value)),
        (None, Some(k)) => format!("`[options.{option}] {k:?} = {}`", quoted(value)),
        (None, None) => format!("`[options] {option} = {}`", quoted(value)),
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
    allow_dirty: bool,
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
    let files = candidates.len();
    // The dirty-tree guard, as for `fix`: decided on the status before anything is written.
    let git = crate::git::GitStatus::default();
    git.snapshot(candidates.iter().map(|c| c.path.as_path()));
    // Ctrl-C stops the session in this file (None: it was not pressed).
    let mut stopped: Option<String> = None;
    catch_ctrl_c();
    for (file_no, c) in candidates.into_iter().enumerate() {
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
        // `--resolve` (or `resolve = true`): the file's images are looked up as `fix` does, and
        // a failed look-up leaves the file unasked and unchanged.
        let lookups = crate::oci::wanted(args, &config).then(|| {
            let recorder = crate::oci::Recorder::default();
            crate::oci::record(&config, Some(kind), &text, &recorder);
            let refs = recorder.refs.into_inner().expect("recorder");
            let mut l = crate::oci::look_up(
                &refs,
                &crate::oci::options(args, config.file.insecure_registries.clone()),
            );
            l.everywhere = true;
            l
        });
        let table = lookups.as_ref().map(crate::oci::Lookups::resolver);
        let resolver: &dyn dockharden_transforms::settings::ImageResolver = match &table {
            Some(t) => t,
            None => &NoResolver,
        };
        let with_registry;
        let settings = match &lookups {
            Some(l) => {
                with_registry = dockharden_transforms::settings::Settings {
                    update_pins: l.update_pins,
                    read_facts: l.facts.clone(),
                    ..config.file.options.clone()
                };
                &with_registry
            }
            None => &config.file.options,
        };
        let engine = Engine {
            transforms: crate::run::selected_transforms(
                &config,
                &c.path,
                &args.select,
                &args.ignore,
            ),
            settings,
            resolver,
            workspace: &workspace,
            path: Some(&display),
            base_services: base.as_deref(),
        };
        if let Some(t) = &table {
            // The resolver records the look-ups a check asks for: one that failed leaves the file
            // unasked and unchanged, as `fix` leaves it.
            let _ = engine.check(kind, &text);
            let failed = t.failed();
            if !failed.is_empty() {
                eprintln!(
                    "{display}: error: registry look-up failed, file left unchanged: {}",
                    failed.join("; ")
                );
                errors += 1;
                continue;
            }
        }
        let min = if min == Applicability::Unsafe
            && !allow_dirty
            && git.is_dirty(&c.path)
            && !crate::run::dirt_is_ours(&git, &c.path, &engine, kind, &text)
        {
            term.write_line(&format!(
                "{} {display} has uncommitted changes: only its Safe fixes are offered (commit or stash them, or pass --allow-dirty, for the Unsafe ones).",
                style("note:").yellow()
            ))?;
            Applicability::Safe
        } else {
            min
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
        let mut question = 0;
        // Fixes accepted by answering, per rule (the rest of a rule's accepted fixes came from `a`).
        let mut asked: std::collections::HashMap<&'static str, usize> =
            std::collections::HashMap::new();
        // Ctrl-C: stop asking, then ask whether to write this file's accepted fixes.
        let mut cut = false;
        loop {
            if interrupted() {
                cut = true;
                break;
            }
            match session.next_question(&choices) {
                Ok(Some(q)) => {
                    question += 1;
                    let progress = Progress {
                        file: file_no + 1,
                        files,
                        question,
                    };
                    let reply = ask(&term, &q, &display, &session, progress)?;
                    match reply {
                        Reply::Interrupt => {
                            cut = true;
                            break;
                        }
                        Reply::Answer(a) => {
                            if matches!(a, Answer::Yes | Answer::AllOfRule) {
                                *asked.entry(q.finding.code).or_insert(0) += 1;
                            }
                            if matches!(a, Answer::AllOfRule) {
                                term.write_line(&format!(
                                    "{} every later {} fix of this run is applied without asking.",
                                    style("a:").dim(),
                                    q.finding.code
                                ))?;
                            }
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
                            let save = match dialoguer::Confirm::new()
                                .with_prompt(format!(
                                    "Save {} to {}?",
                                    config_line(need.option, need.key.as_deref(), &v),
                                    save_to.display()
                                ))
                                .default(false)
                                .interact_on(&term)
                            {
                                Ok(save) => save,
                                Err(e) if is_interrupt(&e) => {
                                    cut = true;
                                    break;
                                }
                                Err(e) => return Err(e.into()),
                            };
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
                    }
                }
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
        if cut {
            stopped = Some(display.clone());
            // A prompt cut short leaves the cursor hidden.
            let _ = term.show_cursor();
            term.write_line("")?;
            let n = session.accepted().len();
            let write = n > 0
                && yes_no(
                    &term,
                    &format!(
                        "Interrupted. Write the {n} fix{} accepted so far in {display}? [y/N]",
                        if n == 1 { "" } else { "es" }
                    ),
                )?;
            if !write {
                if n > 0 {
                    term.write_line(&format!("{display} is left unchanged."))?;
                }
                break;
            }
        }
        let mut by_rule: std::collections::BTreeMap<&'static str, usize> =
            std::collections::BTreeMap::new();
        for a in session.accepted() {
            *by_rule.entry(a.code).or_insert(0) += 1;
        }
        for (code, n) in by_rule {
            let auto = n.saturating_sub(asked.get(code).copied().unwrap_or(0));
            if auto > 0 {
                term.write_line(&format!(
                    "{} {auto} more {code} fix{} applied in {display} without asking.",
                    style("a:").dim(),
                    if auto == 1 { "" } else { "es" }
                ))?;
            }
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
        if stopped.is_some() {
            break;
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
    if let Some(at) = stopped {
        eprintln!("Interrupted in {at}: the files after it were not reviewed.");
        // As a shell reports a command stopped by Ctrl-C.
        return Ok(130);
    }
    Ok(if errors > 0 { 2 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::config_line;

    /// The save prompt names the key as it is written in `.dockharden.toml`, and what it shows is
    /// what `save_option` writes (loaded back, it is the value typed).
    #[test]
    fn the_save_prompt_shows_the_line_that_is_saved() {
        for (option, key, value, shown) in [
            (
                "limits.memory",
                None,
                "512M",
                "`[options.limits] memory = \"512M\"`",
            ),
            ("limits.pids", None, "200", "`[options.limits] pids = 200`"),
            ("uid", None, "1000", "`[options] uid = 1000`"),
            (
                "pins",
                Some("python"),
                "3.12-slim",
                "`[options.pins] \"python\" = \"3.12-slim\"`",
            ),
            (
                "healthcheck.command",
                None,
                "/app/server health",
                "`[options.healthcheck] command = [\"/app/server\", \"health\"]`",
            ),
            (
                "kubernetes.secret-name",
                None,
                "db",
                "`[options.kubernetes] secret-name = \"db\"`",
            ),
        ] {
            assert_eq!(config_line(option, key, value), shown);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(crate::config::CONFIG_NAME);
            crate::config::save_option(&path, option, key, value).unwrap();
            let saved: toml::Table =
                toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            // The shown line as a file: `[table]` on a line of its own.
            let as_file = shown.trim_matches('`').replacen("] ", "]\n", 1);
            let shown: toml::Table = toml::from_str(&as_file).unwrap();
            assert_eq!(saved, shown, "{as_file}");
        }
    }
}
