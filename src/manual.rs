//! `dockharden completions SHELL` and `dockharden man`: shell completion scripts and the manual page,
//! both generated from the clap definitions in `cli.rs`, so they list exactly the commands and
//! options the parser takes.

use clap::CommandFactory as _;
use roff::{bold, italic, roman, Inline, Roff};

use crate::cli::Cli;

const NAME: &str = "dockharden";

/// The completion script for `shell`.
#[must_use]
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, NAME, &mut out);
    out
}

/// One page for the whole program: NAME, SYNOPSIS, DESCRIPTION, then each command with its usage,
/// description and options (as ripgrep's single page), EXIT STATUS, FILES and VERSION.
///
/// # Errors
/// Writing to the buffer (does not happen).
pub fn man() -> std::io::Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = clap_mangen::Man::new(cmd.clone())
        .date(commit_date())
        .manual("dockharden manual");
    let mut head = Vec::new();
    page.render_title(&mut head)?;
    page.render_name_section(&mut head)?;
    page.render_synopsis_section(&mut head)?;

    let mut roff = Roff::new();
    // No hyphenation: option names must stay whole to be searched for and copied.
    roff.control("nh", []);
    roff.control("SH", ["DESCRIPTION"]);
    roff.text([roman(
        "dockharden reads Dockerfiles, docker-compose files, Kubernetes manifests, shell scripts, \
         Makefiles, CI pipelines, systemd units, daemon.json and Markdown, reports what weakens \
         the containers they describe, and fixes it with byte-range edits on the original text: \
         comments, indentation, quoting and line endings outside the edits stay as they were.",
    )]);
    roff.text([
        roman("Safe fixes are applied by "),
        bold("dockharden fix"),
        roman("; fixes that change runtime behaviour need "),
        bold("--unsafe-fixes"),
        roman("; fixes that need a value only a human knows are shown, or asked for by "),
        bold("fix --interactive"),
        roman("."),
    ]);

    roff.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        command_section(&mut roff, sub);
    }

    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in [
        (
            "0",
            "no findings (check), success (fix, fix --diff), nothing would change (fix --check)",
        ),
        (
            "1",
            "findings (check; with --severity-threshold, findings at or above it), changes pending (fix --check)",
        ),
        (
            "2",
            "an error: bad arguments or configuration, a file that cannot be read or parsed, a fix that does not verify",
        ),
        (
            "130",
            "fix --interactive stopped with Ctrl-C (after asking whether to write the fixes accepted so far)",
        ),
    ] {
        roff.control("TP", []);
        roff.text([bold(code)]);
        roff.text([roman(meaning)]);
    }

    roff.control("SH", ["FILES"]);
    roff.control("TP", []);
    roff.text([bold(crate::config::CONFIG_NAME)]);
    roff.text([roman(
        "The configuration, found upward from each file (the nearest wins); --config FILE uses \
         one file for everything, --isolated none. Unknown keys are an error. Its JSON schema is \
         schemas/dockharden-config.schema.json in the source repository.",
    )]);

    roff.control("SH", ["VERSION"]);
    roff.text([roman(env!("DOCKHARDEN_LONG_VERSION"))]);

    roff.control("SH", ["SEE ALSO"]);
    roff.text([
        roman("dockharden rules"),
        roman(" lists the rules; "),
        roman("dockharden explain CODE"),
        roman(" prints a rule's documentation."),
    ]);
    roff.to_writer(&mut head)?;
    // Each rendered part starts with the same two lines that define the quote string: keep the
    // first ones.
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in String::from_utf8_lossy(&head).lines() {
        if (line.starts_with(".ie ") || line.starts_with(".el ")) && !seen.insert(line.to_owned()) {
            continue;
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

/// The date of the commit the binary was built from (the page's date), `-` when not known.
fn commit_date() -> &'static str {
    let long = env!("DOCKHARDEN_LONG_VERSION");
    long.trim_end_matches(')')
        .rsplit(' ')
        .next()
        .filter(|d| d.len() == 10 && d.as_bytes()[4] == b'-' && d.as_bytes()[7] == b'-')
        .unwrap_or("-")
}

/// A `.SS` subsection for one command: usage, description, options.
fn command_section(roff: &mut Roff, sub: &clap::Command) {
    let full = format!("{NAME} {}", sub.get_name());
    roff.control("SS", [full.as_str()]);
    let mut sub = sub.clone().bin_name(&full);
    let usage = sub.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    roff.text([
        bold(full.as_str()),
        roman(usage.strip_prefix(&full).unwrap_or(usage)),
    ]);
    if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
        for para in about.to_string().split("\n\n") {
            roff.control("PP", []);
            roff.text([roman(para.replace('\n', " "))]);
        }
    }
    let args: Vec<&clap::Arg> = sub.get_arguments().filter(|a| !a.is_hide_set()).collect();
    if args.is_empty() {
        return;
    }
    roff.control("PP", []);
    roff.text([bold("Options:")]);
    for arg in args {
        roff.control("TP", []);
        roff.text(arg_header(arg));
        let mut body: Vec<Inline> = Vec::new();
        if let Some(help) = arg.get_long_help().or_else(|| arg.get_help()) {
            body.push(roman(help.to_string().replace('\n', " ")));
        }
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() && arg.get_action().takes_values() {
            body.push(roman(format!(" [default: {}]", defaults.join(", "))));
        }
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_owned())
            .collect();
        if !values.is_empty() {
            body.push(roman(format!(" [possible values: {}]", values.join(", "))));
        }
        if !body.is_empty() {
            roff.text(body);
        }
    }
}

/// `-q, --quiet`, `--format FORMAT`, `PATHS...`.
fn arg_header(arg: &clap::Arg) -> Vec<Inline> {
    let value = || {
        arg.get_value_names()
            .and_then(|v| v.first())
            .map_or_else(|| arg.get_id().as_str().to_uppercase(), ToString::to_string)
    };
    let mut out = Vec::new();
    if arg.is_positional() {
        out.push(italic(value()));
        if matches!(arg.get_num_args(), Some(n) if n.max_values() > 1) {
            out.push(roman("..."));
        }
        return out;
    }
    if let Some(s) = arg.get_short() {
        out.push(bold(format!("-{s}")));
        out.push(roman(", "));
    }
    if let Some(l) = arg.get_long() {
        out.push(bold(format!("--{l}")));
    }
    if arg.get_action().takes_values() {
        out.push(roman(" "));
        out.push(italic(value()));
    }
    out
}
