//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "dockharden",
    version = env!("DOCKHARDEN_LONG_VERSION"),
    about = "Rewrite Dockerfiles, docker-compose files and Kubernetes manifests into hardened configuration, keeping every other byte.",
    after_help = "Exit status: 0 no findings (check) or success (fix); 1 findings (check) or changes pending (fix --check); 2 error; 130 fix --interactive stopped with Ctrl-C."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report findings, fixable or not. Exit 0 when none, 1 when any.
    Check(CheckArgs),
    /// Apply fixes in place (or show them with --diff / --check).
    Fix(FixArgs),
    /// List every rule: code, name, file kind and fix availability.
    Rules(RulesArgs),
    /// Show the documentation of a rule.
    Explain(ExplainArgs),
    /// Show what dockharden knows about an image (its user, capabilities, writable paths, ...)
    /// and the upstream evidence of each fact.
    ExplainImage(ExplainImageArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    ///
    /// Generated from these options. Bash: `dockharden completions bash >
    /// ~/.local/share/bash-completion/completions/dockharden`; zsh: into a folder of `$fpath` as
    /// `_dockharden`; fish: `dockharden completions fish > ~/.config/fish/completions/dockharden.fish`;
    /// PowerShell: `dockharden completions powershell | Out-String | Invoke-Expression` in
    /// `$PROFILE`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff).
    ///
    /// Generated from these options: `dockharden man > dockharden.1`, then `man -l dockharden.1`,
    /// or install it as `man1/dockharden.1` under a folder of `manpath`.
    Man,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to generate the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ExplainImageArgs {
    /// Image reference (e.g. `postgres:16-alpine`, `ghcr.io/acme/agent:1`).
    pub image: String,
    /// Configuration file whose `[[images]]` entries are laid over the built-in knowledge
    /// (default: `.dockharden.toml` found upward from the current directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore configuration files: only the built-in knowledge.
    #[arg(long)]
    pub isolated: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Files or directories to process (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Treat the given files (or stdin) as this kind instead of detecting it.
    #[arg(long, value_parser = [
        "dockerfile", "compose", "kubernetes", "k8s", "shell", "makefile", "github-actions",
        "gitlab-ci", "systemd", "daemon-json", "markdown",
    ])]
    pub kind: Option<String>,
    /// Read the file from standard input and treat it as NAME.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<PathBuf>,
    /// Use this configuration file instead of discovering `.dockharden.toml`.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    pub isolated: bool,
    /// Only run these rules (codes or code prefixes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub select: Vec<String>,
    /// Do not run these rules (codes or code prefixes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub ignore: Vec<String>,
    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Write the report (findings, diff, JSON, SARIF, annotations) to FILE instead of standard
    /// output. With `--stdin-filename`, the fixed text still goes to standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Also write the run's summary (files, findings and fixes per rule, time) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Look images up in their registries (the only network use) and in the local Docker Engine
    /// (`DOCKER_HOST` or /var/run/docker.sock): pin references to `tag@sha256:digest`, report
    /// stale pins, read the config and entrypoint script of images the knowledge base does not
    /// know. Also `resolve = true` in the configuration.
    #[arg(long)]
    pub resolve: bool,
    /// Resolve from the look-up cache only, never asking a registry.
    #[arg(long)]
    pub offline: bool,
    /// Fix stale pins (a pinned tag that now points to another digest), not only report them.
    #[arg(long)]
    pub update_pins: bool,
    /// Reach this registry over plain HTTP (loopback registries always are). Repeatable.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
    /// Cached look-ups younger than this many seconds are used without asking the registry.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub cache_max_age: u64,
    /// Also print the number of findings (and fixes) per rule.
    #[arg(long)]
    pub statistics: bool,
    /// Print only what the mode must print: findings (check), the diff (fix --diff / --check),
    /// errors; no summary.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// `check` exits 1 only for findings of this severity or higher (all are still reported);
    /// like hadolint's `--failure-threshold` and trivy's `--severity`.
    #[arg(long, value_name = "LEVEL", value_parser = ["low", "medium", "high", "critical"])]
    pub severity_threshold: Option<String>,
    /// Also print how long the run took.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Add a `# dockharden: ignore=CODE` comment above every line with findings (a baseline, like
    /// ruff's `--add-noqa`), so that the gate can be turned on today; writes the files.
    #[arg(long, conflicts_with_all = ["stdin_filename"])]
    pub add_suppressions: bool,
}

#[derive(Args, Debug)]
pub struct FixArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print a unified diff of the fixes instead of writing; exit 0.
    #[arg(long, conflicts_with = "check")]
    pub diff: bool,
    /// Print a unified diff and exit 1 when anything would change; write nothing (the CI gate).
    #[arg(long)]
    pub check: bool,
    /// Also apply Unsafe fixes (fixes that change runtime behaviour).
    #[arg(long, overrides_with = "no_unsafe_fixes")]
    pub unsafe_fixes: bool,
    /// Apply only Safe fixes even when the configuration enables Unsafe ones.
    #[arg(long, overrides_with = "unsafe_fixes")]
    pub no_unsafe_fixes: bool,
    /// Write Unsafe fixes even into files with uncommitted changes in a git work tree.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Also write files without write permission and files with several hard links (replaced by a
    /// new file, which splits the links).
    #[arg(long)]
    pub force_write: bool,
    /// Review each fix: show it and ask yes / no / all / skip rule / quit (needs a terminal).
    #[arg(long, short = 'i', conflicts_with_all = ["diff", "check"])]
    pub interactive: bool,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Rule code (e.g. DF001) or name.
    pub rule: String,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
