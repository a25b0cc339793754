use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::{mask_secret, Finding};
use crate::fix::Applicability;
use crate::knowledge::is_hardcoded_secret;
use crate::registry::{Check, Context};

use super::{fix_of, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags `-e NAME=value` / `--env NAME=value` flags whose name looks like a credential
    /// (`*_PASSWORD`, `*_TOKEN`, `*_SECRET`, `API_KEY`, ...) or whose value looks like one (a
    /// private key, a known token format), when the value is a literal: `-e PASSWORD=$PASSWORD`
    /// and `-e PASSWORD` (passed through from the caller's environment) are fine, as are switches
    /// such as `MYSQL_ALLOW_EMPTY_PASSWORD=yes`. The suggestion replaces `NAME=value` by `NAME`,
    /// which takes the value from the environment of whoever runs the command.
    ///
    /// ## Why is this bad?
    /// A password written in a script is in every clone of the repository and its history, in the shell history and `ps` output of the host, and in the container's environment where `docker inspect` shows it.
    ///
    /// ## Example
    /// ```sh
    /// docker run -d -e POSTGRES_PASSWORD=hunter2 postgres:16
    /// ```
    /// is shown with this suggestion (not applied):
    /// ```sh
    /// docker run -d -e POSTGRES_PASSWORD postgres:16
    /// ```
    /// and `export POSTGRES_PASSWORD=...` (from a secret store) before the command; with Docker
    /// Swarm or Compose, a secret file (`POSTGRES_PASSWORD_FILE=/run/secrets/...`) is better still.
    ///
    /// ## Fix safety
    /// Display only: the command no longer works until the variable is exported, and where the
    /// secret should come from (a CI secret, a password manager, an `--env-file` kept out of the
    /// repository) is for a human to decide. Values are masked in every message.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT embed secrets in environment variables" and "Avoid hardcoded credentials
    /// in container configurations". CIS Docker Benchmark v1.7 4.10; compose equivalent DC011.
    pub struct SecretInEnvironment => "DR010", "secret-in-environment", group Scripts, Sometimes;
}

impl Check for SecretInEnvironment {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            for f in run.flags_named("env") {
                let Some((name, value)) = f.text().split_once('=') else {
                    continue;
                };
                if name.is_empty() || !is_hardcoded_secret(name, value) {
                    continue;
                }
                // A variable the script sets from its environment is not a literal.
                let raw = f
                    .value
                    .as_ref()
                    .map(|v| run.words[v.word].raw.as_str())
                    .unwrap_or("");
                if raw.contains('$') && !raw.starts_with('\'') {
                    continue;
                }
                let range = run.flag_range(f);
                let message = format!(
                    "`{name}` is set to a literal credential (`{name}={}`): it is in the repository, the shell history and `docker inspect`. Pass it from the environment (`-e {name}`) or use a secret file",
                    mask_secret(value)
                );
                let edit = f.value.as_ref().and_then(|v| {
                    let w = &run.words[v.word];
                    let r = w.file?;
                    if !run.editable() {
                        return None;
                    }
                    if v.inline {
                        // `--env=NAME=value` / `-eNAME=value`: keep what precedes the value.
                        let k = w.raw.find(&format!("{name}="))?;
                        Some(Edit::replace(
                            crate::text::TextRange::new(r.start + k, r.end),
                            name,
                        ))
                    } else {
                        Some(Edit::replace(r, name))
                    }
                });
                let fix = edit.map(|e| {
                    fix_of(
                        Applicability::DisplayOnly,
                        format!("Pass `{name}` from the environment"),
                        vec![e],
                    )
                });
                out.push(report(
                    ctx,
                    &site,
                    (Self::CODE, Self::NAME),
                    range,
                    message,
                    fix,
                ));
            }
        }
        out
    }
}
