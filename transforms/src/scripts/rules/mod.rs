//! The `docker run` rules (`DR…`): the compose rules' checks, for container commands written in
//! scripts, Makefiles, CI pipelines, systemd units and Markdown. They share the compose rules'
//! knowledge lookup ([`crate::needs`]) and its rule: a fix that depends on what the image needs is
//! applied only when that is known, else it is a display-only suggestion.

pub mod daemon_json_cis_settings;
pub mod daemon_json_tcp_without_tls;
pub mod daemon_tcp_without_tls;
pub mod exposed_sensitive_port;
pub mod gitlab_dind_tls_disabled;
pub mod host_namespace;
pub mod missing_cap_drop;
pub mod missing_image_scan;
pub mod missing_no_new_privileges;
pub mod missing_resource_limits;
pub mod privileged_container;
pub mod runs_as_root;
pub mod secret_in_environment;
pub mod security_profile_disabled;
pub mod socket_mount;
pub mod unpinned_image;
pub mod writable_root_filesystem;

use crate::finding::{Finding, Need};
use crate::fix::{Applicability, Fix};
use crate::needs::Needs;
use crate::registry::{Context, Transform};
use crate::source::FileKind;
use crate::text::TextRange;

use super::docker::{runs, DockerRun, Flag};
use super::fragment::{resolve, Fragment};

/// The DR transforms.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    vec![
        &privileged_container::PrivilegedContainer,
        &socket_mount::DockerSocketMount,
        &host_namespace::HostNamespace,
        &missing_no_new_privileges::MissingNoNewPrivileges,
        &missing_cap_drop::MissingCapDrop,
        &writable_root_filesystem::WritableRootFilesystem,
        &runs_as_root::RunsAsRoot,
        &missing_resource_limits::MissingResourceLimits,
        &exposed_sensitive_port::ExposedSensitivePort,
        &secret_in_environment::SecretInEnvironment,
        &unpinned_image::UnpinnedImage,
        &security_profile_disabled::SecurityProfileDisabled,
        &daemon_tcp_without_tls::DaemonTcpWithoutTls,
        &gitlab_dind_tls_disabled::GitlabDindTlsDisabled,
        &daemon_json_tcp_without_tls::DaemonJsonTcpWithoutTls,
        &daemon_json_cis_settings::DaemonJsonCisSettings,
        &missing_image_scan::MissingImageScan,
    ]
}

/// A container command and the text it is in.
pub struct Site<'a> {
    pub frag: &'a Fragment,
    pub run: DockerRun,
}

/// Every container command of the file.
#[must_use]
pub fn sites<'a>(ctx: &Context<'a>) -> Vec<Site<'a>> {
    let Some(file) = super::script(ctx) else {
        return Vec::new();
    };
    file.fragments
        .iter()
        .flat_map(|frag| runs(frag).into_iter().map(move |run| Site { frag, run }))
        .collect()
}

impl Site<'_> {
    /// The image as the command will run it: variables the file assigns are resolved.
    #[must_use]
    pub fn image_text(&self) -> Option<String> {
        let w = self.run.image_word()?;
        if w.value.contains('$') || w.value.contains('%') {
            resolve(&w.value, &self.frag.vars, self.frag.dialect)
        } else {
            Some(w.value.clone())
        }
    }

    /// What is known about the image (the one lookup every rule asks).
    #[must_use]
    pub fn needs(&self, ctx: &Context<'_>) -> Needs {
        let Some(w) = self.run.image_word() else {
            return Needs {
                unknown: Some(if self.run.partial {
                    "the variable holds only the start of the command; the image comes where it is used".into()
                } else {
                    "the command names no image".into()
                }),
                ..Needs::default()
            };
        };
        let written = match self.image_text() {
            Some(t) => t,
            None => w.value.replace("$(", "${").replace(')', "}"),
        };
        let vars = &self.frag.vars;
        let dialect = self.frag.dialect;
        crate::needs::of_reference(ctx.settings, &written, &|name: &str| {
            vars.get(name).and_then(|v| resolve(v, vars, dialect))
        })
    }

    /// The question that makes an unknown fact about the image known.
    #[must_use]
    pub fn question(&self, needs: &Needs, option: &'static str, prompt: String) -> Option<Need> {
        let image = needs.image.as_ref()?;
        let key = match &image.registry {
            Some(r) => format!("{r}/{}", image.repository),
            None => image.repository.clone(),
        };
        Some(Need {
            option,
            key: Some(key),
            prompt,
            default: None,
        })
    }

    /// The `--user` it sets, when that is a non-root user.
    #[must_use]
    pub fn non_root_user(&self) -> Option<String> {
        let u = self.run.last("user")?.text().to_owned();
        (!u.contains('$') && !crate::needs::is_root_user(&u)).then_some(u)
    }

    /// Whether its process is known to run as a non-root user: its own `--user`, or the image's.
    #[must_use]
    pub fn runs_non_root(&self, needs: &Needs) -> bool {
        self.non_root_user().is_some() || (self.run.last("user").is_none() && needs.runs_non_root())
    }

    /// The container paths it mounts (`-v`, `--mount`, `--tmpfs`).
    #[must_use]
    pub fn mount_targets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.run.flags {
            let v = f.text();
            match f.name.as_str() {
                "volume" => {
                    let parts: Vec<&str> = v.split(':').collect();
                    let target = match parts.len() {
                        1 => parts[0],
                        _ => parts[1],
                    };
                    out.push(target.trim_end_matches('/').to_owned());
                }
                "tmpfs" => out.push(v.split(':').next().unwrap_or(v).to_owned()),
                "mount" => {
                    for part in v.split(',') {
                        if let Some((k, val)) = part.split_once('=') {
                            if matches!(k, "target" | "dst" | "destination") {
                                out.push(val.trim_end_matches('/').to_owned());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// Why a rule about what a command lacks does not judge it, if it does not: a command whose
/// flags are not all known is reported without a fix (`Some(Some(why))`); a make variable that
/// only starts a command, or a command without an image, is not judged at all (`None`).
#[must_use]
pub fn absence_judgement(run: &DockerRun) -> Option<Option<String>> {
    if run.partial || run.image.is_none() && run.opaque.is_none() {
        return None;
    }
    Some(run.opaque.clone())
}

/// The finding of a command that is not edited because some of its flags are not known (`why`):
/// what it lacks (`what`: "it", "they") may come from them, so it is only reported.
pub fn not_edited(
    ctx: &Context<'_>,
    site: &Site<'_>,
    rule: (&'static str, &'static str),
    message: String,
    why: &str,
    what: &str,
) -> Finding {
    report(
        ctx,
        site,
        rule,
        site.run.range(),
        format!("{message} (not edited: {why}; {what} may already be set)"),
        None,
    )
}

/// The finding of a DR rule for `site`, with the host's limits applied to the fix: a command in a
/// `sh -c` string, or one that cannot be read with certainty, gets no edit; a Markdown example gets
/// its fix as a display-only suggestion; a script in a YAML file declares the string it changes.
#[must_use]
pub fn report(
    ctx: &Context<'_>,
    site: &Site<'_>,
    (code, name): (&'static str, &'static str),
    range: TextRange,
    message: String,
    fix: Option<Fix>,
) -> Finding {
    let mut message = message;
    let mut fix = fix;
    if let Some(why) = &site.run.frozen {
        message.push_str(&format!(" (reported, not edited: {why})"));
        fix = None;
    }
    if let Some(f) = fix.as_mut() {
        if f.edits.is_empty() {
            fix = None;
        } else if ctx.kind == FileKind::Markdown {
            f.applicability = Applicability::DisplayOnly;
        } else if let Some(path) = &site.frag.yaml_path {
            f.changes = vec![path.clone()];
        }
    }
    if ctx.kind == FileKind::Markdown && fix.is_some() {
        message.push_str(" (documentation: the fix is shown, not applied)");
    }
    if !site.frag.place.is_empty() && ctx.kind != FileKind::Shell {
        message = format!("{message} [{}]", site.frag.place);
    }
    let mut finding = Finding::new(code, name, range, message);
    if let Some(f) = fix {
        finding = finding.with_fix(f);
    }
    finding
}

/// A fix with the given applicability.
#[must_use]
pub fn fix_of(app: Applicability, title: impl Into<String>, edits: Vec<crate::edit::Edit>) -> Fix {
    match app {
        Applicability::Safe => Fix::safe(title, edits),
        Applicability::Unsafe => Fix::unsafe_(title, edits),
        Applicability::DisplayOnly => Fix::display_only(title, edits),
    }
}

/// The edits removing every flag of `flags` from the command, or None when one cannot be removed
/// cleanly.
#[must_use]
pub fn remove_all(text: &str, run: &DockerRun, flags: &[&Flag]) -> Option<Vec<crate::edit::Edit>> {
    flags.iter().map(|f| run.remove_flag(text, f)).collect()
}

/// `A, B and C`.
#[must_use]
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
