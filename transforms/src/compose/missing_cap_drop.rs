use crate::compose::model::{
    declared_container_ports, finish_edits, hardenable_services, is_partial, is_windows,
    list_state, ordered_edits, plan_append, quote_names, scalar_items, services_phrase, yaml,
    ListState, Plan, Service,
};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::{Fix, SemanticPath};
use crate::knowledge::normalize_cap;
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::{Sequence, YamlFile};

declare_transform! {
    /// ## What it does
    /// Flags services whose `cap_drop` (as merge keys define it: an inherited `cap_drop` counts)
    /// does not contain `ALL`, and adds it: `cap_drop: [ALL]` as a new key (block or flow style, as
    /// the service writes its lists), or `ALL` appended to an existing `cap_drop`. The service's own
    /// `cap_add` is kept (Docker applies `cap_add` after `cap_drop`), and what the image is known
    /// to need is added back to `cap_add`: the `cap-add` of its knowledge-base entry (cited from its
    /// entrypoint: CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID for postgres, which chowns its data
    /// and switches users with gosu; NET_BIND_SERVICE for caddy, whose binary has the file
    /// capability), or of the configuration (`[[images]]` `cap-add`, or the `capabilities`
    /// option), plus NET_BIND_SERVICE when a process running as root listens on a container port
    /// below 1024. A capability the service drops explicitly is not added back. See
    /// `dockharden explain-image NAME`.
    ///
    /// ## Why is this bad?
    /// A container keeps 14 Linux capabilities by default (NET_RAW, DAC_OVERRIDE, SETUID, MKNOD, SYS_CHROOT, ...) that an attacker who gets code execution can use; most services need none or a few.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db:
    ///     image: postgres:16
    ///     volumes:
    ///       - db-data:/var/lib/postgresql/data
    ///   web:
    ///     image: nginx:1.27
    ///     ports: ["8080:80"]
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   db:
    ///     image: postgres:16
    ///     volumes:
    ///       - db-data:/var/lib/postgresql/data
    ///     cap_drop:
    ///       - ALL
    ///     cap_add:
    ///       - CHOWN
    ///       - SETUID
    ///       - SETGID
    ///       - DAC_OVERRIDE
    ///       - FOWNER
    ///   web:
    ///     image: nginx:1.27
    ///     ports: ["8080:80"]
    ///     cap_drop: [ALL]
    ///     cap_add: [CHOWN, SETUID, SETGID, NET_BIND_SERVICE, DAC_OVERRIDE]
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when what the image needs is known (no guessing): from the
    /// configuration, the service's own `build:` Dockerfile (a non-root `USER` of its own on a known
    /// base), the knowledge base, or with `--resolve` the image itself (the entrypoint script
    /// read from its layers, in its registry or the local Docker Engine, when every step of it is
    /// understood). A runtime image that runs whatever command it is given
    /// (python, node, debian) running as root, an image nobody knows, or a build whose base or
    /// entrypoint is unknown get a display-only suggestion, and `fix --interactive` asks which
    /// capabilities the image needs (and can save the answer as an `[[images]]` entry). A
    /// process that uses a capability the knowledge base does not name (a feature such as `ping`)
    /// fails with "Operation not permitted": add it to `cap_add`. With `privileged: true`
    /// the container gets every capability whatever `cap_drop` says (see DC004); the key is added
    /// anyway, so the service is hardened once `privileged` goes.
    ///
    /// Anchors: when the `cap_drop` list comes from an anchor (`<<: *defaults`) that only services
    /// (and `x-` blocks) use, `ALL` is appended to the shared list once, since every one of them
    /// needs it, and each service gets its own add-backs. When the list is also used elsewhere, the
    /// service gets an own `cap_drop` that repeats the inherited items (an own key replaces a merged
    /// one). A missing `cap_drop` is always added to the service mapping, never to a shared anchor.
    /// A service mapping that is itself an anchor other services use without their own
    /// `cap_drop` gets no fix until they have one (the next round), and a `cap_add` that cannot be
    /// extended losslessly makes the fix display-only. A service with no `image`, `build` or
    /// `extends` (an entry of an override file) gets a display-only fix: what it runs, hence what
    /// to add back, is decided in the file that defines it, and compose joins the `cap_drop` /
    /// `cap_add` lists of both files. Windows containers (no Linux capabilities) and `provider:`
    /// services (no container) are skipped.
    ///
    /// ## Options
    /// `capabilities`: image name (as written, or its short name such as `postgres`) → list of
    /// capabilities to add back, for images the built-in table does not know:
    /// ```toml
    /// [options.capabilities]
    /// "ghcr.io/acme/worker" = ["CHOWN", "SETUID", "SETGID"]
    /// ```
    ///
    /// ## References
    /// Guideline: "Drop all capabilities (`--cap-drop all`) and add only required ones
    /// (`--cap-add`)". CIS Docker Benchmark v1.7 5.4 (restrict Linux kernel capabilities),
    /// compose-lint CL-0006.
    pub struct MissingCapDrop => "DC002", "missing-cap-drop", Compose, Sometimes;
}

fn normalized(seq: &Sequence) -> Vec<String> {
    scalar_items(seq)
        .into_iter()
        .flatten()
        .map(|s| normalize_cap(&s))
        .collect()
}

/// The lowest container port below 1024 the service declares.
fn low_port(svc: &Service) -> Option<u16> {
    declared_container_ports(svc)
        .into_iter()
        .filter(|(first, _, _)| *first < 1024)
        .map(|(first, _, _)| first)
        .min()
}

/// What a service needs back after `cap_drop: [ALL]`, as far as it is known.
enum Back {
    /// These capabilities (possibly none), each with why.
    Known(Vec<(String, String)>),
    /// Unknown: why, and the question that would make it known.
    Unknown(String, Option<crate::finding::Need>),
}

/// The `capabilities` option for the image (name as written, or short name).
fn configured_caps<'s>(
    settings: &'s crate::settings::Settings,
    image: Option<&crate::knowledge::ImageName>,
) -> Option<&'s Vec<String>> {
    let image = image?;
    let written = match &image.registry {
        Some(r) => format!("{r}/{}", image.repository),
        None => image.repository.clone(),
    };
    settings
        .capabilities
        .get(&written)
        .or_else(|| settings.capabilities.get(&image.short()))
}

/// The capabilities to add back for `svc` that its `cap_add` does not already grant and its
/// `cap_drop` does not explicitly drop; unknown when neither the configuration, the image's own
/// build nor the knowledge base says what its process needs.
fn add_backs(ctx: &Context<'_>, svc: &Service) -> Back {
    let granted = match list_state(svc, "cap_add") {
        ListState::Seq { seq, .. } => normalized(&seq),
        _ => Vec::new(),
    };
    let dropped = match list_state(svc, "cap_drop") {
        ListState::Seq { seq, .. } => normalized(&seq),
        _ => Vec::new(),
    };
    if granted.iter().any(|c| c == "ALL") {
        return Back::Known(Vec::new());
    }
    let needs = svc.needs(ctx);
    let non_root =
        svc.own_non_root_user().is_some() || (svc.str("user").is_none() && needs.runs_non_root());
    let facts = needs.facts();
    let mut caps: Vec<(String, String)> = Vec::new();
    if let Some(list) = configured_caps(ctx.settings, needs.image.as_ref()) {
        for c in list {
            caps.push((normalize_cap(c), "the `capabilities` option".to_owned()));
        }
    } else if svc.own_non_root_user().is_some()
        && facts.switch_user.as_deref().is_some_and(|s| s != "none")
        && facts
            .user
            .as_deref()
            .is_some_and(crate::needs::is_root_user)
    {
        // Started as a non-root user, the entrypoint skips what it does as root (fixing
        // ownership, switching users): none of the capabilities of the root start are needed.
    } else if let Some(list) = &facts.cap_add {
        if facts.kind.as_deref() == Some("runtime") && !non_root {
            let why = format!(
                "`{}` runs whatever command it is given, as root here, so what the application needs is unknown",
                needs.subject
            );
            return Back::Unknown(why, question(svc, &needs));
        }
        let why = match facts.switch_user.as_deref() {
            Some(how) if how != "none" && !non_root => format!(
                "its entrypoint starts as root and switches users ({how}): {}",
                needs.source
            ),
            _ => needs.source.clone(),
        };
        for c in list {
            caps.push((normalize_cap(c), why.clone()));
        }
    } else {
        let why = needs.unknown.clone().unwrap_or_else(|| {
            format!(
                "what `{}` needs is not known ({})",
                needs.subject,
                if needs.source.is_empty() {
                    "no knowledge".to_owned()
                } else {
                    needs.source.clone()
                }
            )
        });
        return Back::Unknown(why, question(svc, &needs));
    }
    if !non_root {
        if let Some(p) = low_port(svc) {
            caps.push((
                "NET_BIND_SERVICE".to_owned(),
                format!("it listens on port {p}, below 1024"),
            ));
        }
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (cap, why) in caps {
        if !cap.is_empty()
            && !granted.contains(&cap)
            && !dropped.contains(&cap)
            && !out.iter().any(|(c, _)| *c == cap)
        {
            out.push((cap, why));
        }
    }
    Back::Known(out)
}

fn question(svc: &Service, needs: &crate::needs::Needs) -> Option<crate::finding::Need> {
    svc.image_question(
        needs,
        "images.cap-add",
        format!(
            "Capabilities `{}` needs back after `cap_drop: [ALL]` (`none`, or e.g. CHOWN, SETUID, SETGID when its entrypoint starts as root and switches users with gosu, su-exec or setpriv)",
            needs.subject
        ),
    )
}

/// "CHOWN, SETUID (why); NET_BIND_SERVICE (why)".
fn describe(caps: &[(String, String)]) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (cap, why) in caps {
        match groups.iter_mut().find(|(w, _)| w == why) {
            Some((_, v)) => v.push(cap),
            None => groups.push((why.clone(), vec![cap])),
        }
    }
    groups
        .iter()
        .map(|(why, caps)| format!("{} ({why})", caps.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

struct Unit {
    services: Vec<Service>,
    plan: Result<Plan, String>,
    range: TextRange,
    /// The service had a `cap_drop` (own or inherited) without ALL.
    existing: bool,
}

fn units(file: &YamlFile, all: &[Service]) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for svc in all {
        if is_windows(svc) {
            continue;
        }
        let (existing, range) = match list_state(svc, "cap_drop") {
            ListState::Seq { seq, entry, .. } => {
                if normalized(&seq).iter().any(|c| c == "ALL") {
                    continue;
                }
                (true, entry.key_range())
            }
            ListState::Other => continue,
            ListState::Null(entry, _) => (true, entry.key_range()),
            ListState::Absent => (false, svc.key_range()),
        };
        let plan = plan_append(file, svc, all, "cap_drop", &["ALL".to_owned()], true);
        if let Ok(p) = &plan {
            if p.shared {
                if let Some(u) = out
                    .iter_mut()
                    .find(|u| u.plan.as_ref().is_ok_and(|q| q.edits == p.edits))
                {
                    u.services.push(svc.clone());
                    continue;
                }
            }
        }
        out.push(Unit {
            services: vec![svc.clone()],
            plan,
            range,
            existing,
        });
    }
    out
}

impl Check for MissingCapDrop {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = hardenable_services(ctx, file);
        units(file, &all)
            .into_iter()
            .map(|unit| self.finding(ctx, file, &all, unit))
            .collect()
    }
}

impl MissingCapDrop {
    fn finding(&self, ctx: &Context<'_>, file: &YamlFile, all: &[Service], unit: Unit) -> Finding {
        let names: Vec<String> = match &unit.plan {
            Ok(p) if p.shared => p.services.clone(),
            _ => unit.services.iter().map(|s| s.name.clone()).collect(),
        };
        let what = if unit.existing {
            format!(
                "{} without ALL",
                services_phrase(&names, "has a `cap_drop`", "share a `cap_drop`")
            )
        } else {
            format!(
                "{} Docker's default capabilities (no `cap_drop`)",
                services_phrase(&names, "keeps", "keep")
            )
        };
        let mut notes = Vec::new();
        let mut plans: Vec<Plan> = Vec::new();
        let mut changes: Vec<SemanticPath> = Vec::new();
        let mut refused: Vec<String> = Vec::new();
        let mut added_any = Vec::new();
        if let Ok(p) = &unit.plan {
            plans.push(p.clone());
            changes.extend(p.changes.clone());
        }
        let mut unknown: Vec<String> = Vec::new();
        let mut asks: Vec<crate::finding::Need> = Vec::new();
        for svc in &unit.services {
            if is_partial(svc) {
                // What it runs is defined elsewhere: see the display-only note below.
                continue;
            }
            let prefix = if unit.services.len() > 1 {
                format!("`{}`: ", svc.name)
            } else {
                String::new()
            };
            let caps = match add_backs(ctx, svc) {
                Back::Known(caps) => caps,
                Back::Unknown(why, need) => {
                    unknown.push(format!("{prefix}{why}"));
                    asks.extend(need);
                    continue;
                }
            };
            if caps.is_empty() {
                notes.push(format!("{prefix}nothing needs to be added back"));
                continue;
            }
            notes.push(format!("{prefix}adds back {}", describe(&caps)));
            let values: Vec<String> = caps.iter().map(|(c, _)| c.clone()).collect();
            added_any.extend(values.iter().cloned());
            match plan_append(file, svc, all, "cap_add", &values, false) {
                Ok(p) => {
                    changes.extend(p.changes.clone());
                    plans.push(p);
                }
                Err(why) => refused.push(format!("`cap_add` of `{}`: {why}", svc.name)),
            }
        }
        if unit.services.iter().any(|s| {
            s.str("privileged")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        }) {
            notes
                .push("`privileged: true` overrides `cap_drop` until it is removed (DC004)".into());
        }
        let mut message = format!("{what}: drop ALL and add back only what is needed");
        if !notes.is_empty() {
            message.push_str(&format!("; {}", notes.join("; ")));
        }
        let finding_range = unit.range;
        let plan = match unit.plan {
            Ok(p) => p,
            Err(why) => {
                message.push_str(&format!(" (no automatic fix: {why})"));
                return Finding::new(Self::CODE, Self::NAME, finding_range, message);
            }
        };
        added_any.dedup();
        let mut title = if unit.existing {
            "Add `ALL` to `cap_drop`".to_owned()
        } else {
            "Add `cap_drop: [ALL]`".to_owned()
        };
        if !added_any.is_empty() {
            let mut uniq: Vec<String> = Vec::new();
            for c in added_any {
                if !uniq.contains(&c) {
                    uniq.push(c);
                }
            }
            title.push_str(&format!(" and add back {} to `cap_add`", uniq.join(", ")));
        }
        if plan.shared {
            title.push_str(&format!(" (shared by {})", quote_names(&names)));
        }
        let edits = finish_edits(
            file.text(),
            ordered_edits(&plans.iter().collect::<Vec<_>>()),
        );
        changes.sort();
        changes.dedup();
        let partial: Vec<String> = unit
            .services
            .iter()
            .filter(|s| is_partial(s))
            .map(|s| s.name.clone())
            .collect();
        let fix = if !unknown.is_empty() {
            message.push_str(&format!(
                " (display only: what it needs back is unknown: {}; an entrypoint that starts as root and switches users (gosu, su-exec, setpriv) needs at least CHOWN, SETUID and SETGID; say what it needs with `cap-add` in an `[[images]]` entry of .dockharden.toml, or answer in `fix --interactive`)",
                unknown.join("; ")
            ));
            let fix = Fix::display_only(title, edits).with_changes(changes);
            let finding =
                Finding::new(Self::CODE, Self::NAME, finding_range, message).with_fix(fix);
            return match asks.into_iter().next().filter(|_| unit.services.len() == 1) {
                Some(need) => finding.with_need(need),
                None => finding,
            };
        } else if !partial.is_empty() {
            message.push_str(&format!(
                " (display only: {} defines no image here (an override or a fragment), so the capabilities to add back are unknown; fix the file that defines the image)",
                quote_names(&partial)
            ));
            Fix::display_only(title, edits)
        } else if refused.is_empty() {
            Fix::unsafe_(title, edits)
        } else {
            message.push_str(&format!(" (display only: {})", refused.join("; ")));
            Fix::display_only(title, edits)
        };
        Finding::new(Self::CODE, Self::NAME, finding_range, message)
            .with_fix(fix.with_changes(changes))
    }
}
