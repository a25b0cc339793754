use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::knowledge::normalize_cap;
use crate::registry::{Check, Context};

use super::{absence_judgement, fix_of, not_edited, report, sites, Site};

declare_transform! {
    /// ## What it does
    /// Flags container commands without `--cap-drop ALL` (any case) and adds it before the image,
    /// with a `--cap-add` for each capability the image is known to need back: the `cap-add` of its
    /// knowledge-base entry (cited from its entrypoint: CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID
    /// for postgres, which chowns its data and switches users with gosu), of an `[[images]]`
    /// entry, or of the `capabilities` option, plus NET_BIND_SERVICE when a process running as
    /// root publishes a container port below 1024 (`-p 80:80`). The command's own `--cap-add`
    /// flags are kept (Docker applies `--cap-add` after `--cap-drop`); a capability it drops
    /// explicitly is not added back.
    ///
    /// ## Why is this bad?
    /// A container keeps 14 Linux capabilities by default (NET_RAW, DAC_OVERRIDE, SETUID, MKNOD, SYS_CHROOT, ...) that an attacker who gets code execution can use; most containers need none or a few.
    ///
    /// ## Example
    /// ```sh
    /// docker run -d --name db -v pgdata:/var/lib/postgresql/data postgres:16
    /// ```
    /// becomes
    /// ```sh
    /// docker run -d --name db -v pgdata:/var/lib/postgresql/data --cap-drop ALL --cap-add CHOWN --cap-add DAC_OVERRIDE --cap-add FOWNER --cap-add SETGID --cap-add SETUID postgres:16
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when what the image needs is known (no guessing): from the
    /// configuration, the knowledge base, or with `--resolve` the image's entrypoint script. A runtime image that runs whatever command it is given
    /// (python, node, debian) as root, or an image nobody knows, gets a display-only suggestion and
    /// `fix --interactive` asks which capabilities it needs. A process that uses a capability
    /// nobody named (`ping` needs NET_RAW) fails with "Operation not permitted": add it with
    /// `--cap-add`. A command whose flags are not all known (`$DOCKER_OPTS`) is reported without a
    /// fix.
    ///
    /// ## Options
    /// `capabilities`: image name → capabilities to add back, for images the knowledge base does
    /// not know (`[options.capabilities] "ghcr.io/acme/worker" = ["CHOWN"]`).
    ///
    /// ## References
    /// Guideline: "Drop all capabilities (`--cap-drop all`) and add only required ones
    /// (`--cap-add`)". CIS Docker Benchmark v1.7 5.4; compose equivalent DC002.
    pub struct MissingCapDrop => "DR005", "missing-cap-drop", group Scripts, Sometimes;
}

/// The container ports below 1024 it publishes.
fn low_ports(site: &Site<'_>) -> Vec<u16> {
    site.run
        .flags_named("publish")
        .filter_map(|f| {
            let spec = f.text().split('/').next().unwrap_or("");
            let port = spec.rsplit(':').next()?;
            let first = port.split('-').next()?;
            first.parse::<u16>().ok()
        })
        .filter(|p| *p < 1024)
        .collect()
}

impl Check for MissingCapDrop {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            let Some(opaque) = absence_judgement(run) else {
                continue;
            };
            let dropped: Vec<String> = run
                .flags_named("cap-drop")
                .flat_map(|f| f.text().split(',').map(normalize_cap).collect::<Vec<_>>())
                .collect();
            if dropped.iter().any(|c| c == "ALL") {
                continue;
            }
            let range = run.range();
            let mut message = "The container keeps Docker's default capabilities (no `--cap-drop ALL`): drop ALL and add back only what is needed".to_owned();
            if let Some(why) = opaque {
                out.push(not_edited(
                    ctx,
                    &site,
                    (Self::CODE, Self::NAME),
                    message,
                    &why,
                    "it",
                ));
                continue;
            }
            let granted: Vec<String> = run
                .flags_named("cap-add")
                .flat_map(|f| f.text().split(',').map(normalize_cap).collect::<Vec<_>>())
                .collect();
            let needs = site.needs(ctx);
            let non_root = site.runs_non_root(&needs);
            let facts = needs.facts();
            let mut unknown = None;
            let mut caps: Vec<(String, String)> = Vec::new();
            let configured = needs.image.as_ref().and_then(|image| {
                let written = match &image.registry {
                    Some(r) => format!("{r}/{}", image.repository),
                    None => image.repository.clone(),
                };
                ctx.settings
                    .capabilities
                    .get(&written)
                    .or_else(|| ctx.settings.capabilities.get(&image.short()))
            });
            if granted.iter().any(|c| c == "ALL") {
                // Everything is added back anyway.
            } else if let Some(list) = configured {
                for c in list {
                    caps.push((normalize_cap(c), "the `capabilities` option".into()));
                }
            } else if let Some(list) = &facts.cap_add {
                if facts.kind.as_deref() == Some("runtime") && !non_root {
                    unknown = Some(format!(
                        "`{}` runs whatever command it is given, as root here, so what the application needs is unknown",
                        needs.subject
                    ));
                } else {
                    let why = needs.source.clone();
                    for c in list {
                        caps.push((normalize_cap(c), why.clone()));
                    }
                }
            } else {
                unknown = Some(
                    needs
                        .unknown
                        .clone()
                        .unwrap_or_else(|| format!("what `{}` needs is not known", needs.subject)),
                );
            }
            if !non_root && !granted.iter().any(|c| c == "ALL") {
                if let Some(p) = low_ports(&site).into_iter().min() {
                    caps.push((
                        "NET_BIND_SERVICE".into(),
                        format!("it listens on port {p}, below 1024"),
                    ));
                }
            }
            let mut add: Vec<(String, String)> = Vec::new();
            for (c, why) in caps {
                if !c.is_empty()
                    && !granted.contains(&c)
                    && !dropped.contains(&c)
                    && !add.iter().any(|(x, _)| *x == c)
                {
                    add.push((c, why));
                }
            }
            let mut flags = vec![run.flag_text("cap-drop", Some("ALL"))];
            flags.extend(add.iter().map(|(c, _)| run.flag_text("cap-add", Some(c))));
            let mut title = "Add `--cap-drop ALL`".to_owned();
            if !add.is_empty() {
                let names: Vec<String> = add.iter().map(|(c, _)| c.clone()).collect();
                title.push_str(&format!(" and `--cap-add` {}", names.join(", ")));
                let mut groups: Vec<(String, Vec<String>)> = Vec::new();
                for (c, why) in &add {
                    match groups.iter_mut().find(|(w, _)| w == why) {
                        Some((_, v)) => v.push(c.clone()),
                        None => groups.push((why.clone(), vec![c.clone()])),
                    }
                }
                let described: Vec<String> = groups
                    .iter()
                    .map(|(why, cs)| format!("{} ({why})", cs.join(", ")))
                    .collect();
                message.push_str(&format!("; adds back {}", described.join("; ")));
            } else if unknown.is_none() {
                message.push_str(&format!(
                    "; nothing needs to be added back{}",
                    needs.because()
                ));
            }
            if run.is_on("privileged") {
                message.push_str(
                    "; `--privileged` overrides `--cap-drop` until it is removed (DR001)",
                );
            }
            let app = match &unknown {
                Some(why) => {
                    message.push_str(&format!(
                        " (display only: what it needs back is unknown: {why}; an entrypoint that starts as root and switches users (gosu, su-exec, setpriv) needs at least CHOWN, SETUID and SETGID; say what it needs with `cap-add` in an `[[images]]` entry of .dockharden.toml, or answer in `fix --interactive`)"
                    ));
                    Applicability::DisplayOnly
                }
                None => Applicability::Unsafe,
            };
            let fix = run
                .insert_before_image(ctx.text, &flags)
                .map(|e| fix_of(app, title, vec![e]));
            let mut f = report(ctx, &site, (Self::CODE, Self::NAME), range, message, fix);
            if unknown.is_some() {
                if let Some(need) = site.question(
                    &needs,
                    "images.cap-add",
                    format!(
                        "Capabilities `{}` needs back after `--cap-drop ALL` (`none`, or e.g. CHOWN, SETUID, SETGID when its entrypoint starts as root and switches users)",
                        needs.subject
                    ),
                ) {
                    f = f.with_need(need);
                }
            }
            out.push(f);
        }
        out
    }
}
