use crate::declare_transform;
use crate::finding::{Finding, Need};
use crate::fix::Applicability;
use crate::knowledge::normalize_cap;
use crate::kubernetes::image;
use crate::kubernetes::model::{editable_node, yaml, Container};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::volumes::like_items;
use crate::kubernetes::{attach, container_refusal, make_fix};
use crate::registry::{Check, Context};
use crate::yaml::{Node, Sequence};

declare_transform! {
    /// ## What it does
    /// Flags containers and init containers whose `securityContext.capabilities.drop` does not
    /// contain `ALL`, and adds it, keeping every capability already listed under `add` and adding
    /// back what the image needs: the `[options.capabilities]` option for the image, else its `cap-add`
    /// from the configuration's `[[images]]` or the knowledge base (CHOWN, SETUID, SETGID, ... for
    /// an entrypoint that starts as root and switches users with gosu; NET_BIND_SERVICE for a
    /// binary with that file capability, such as CoreDNS or the ingress-nginx controller, which
    /// cannot even be executed without it in the bounding set), plus NET_BIND_SERVICE for a root
    /// process with a container port below 1024. A container started as its own user gets nothing
    /// back for an entrypoint that only needs its capabilities to switch users; a capability the
    /// container drops explicitly is not added back. Ephemeral containers are reported only;
    /// Windows pods and images are skipped.
    ///
    /// ## Why is this bad?
    /// Without `drop: [ALL]` a container keeps the runtime's default capabilities (CHOWN, DAC_OVERRIDE, FOWNER, SETUID, SETGID, NET_RAW, ...), which an attacker can use to read any file, spoof packets or escalate.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: db
    ///     image: postgres:16
    /// ```
    /// becomes
    /// ```yaml
    /// containers:
    ///   - name: db
    ///     image: postgres:16
    ///     securityContext:
    ///       capabilities:
    ///         drop:
    ///           - ALL
    ///         add:
    ///           - CHOWN
    ///           - DAC_OVERRIDE
    ///           - FOWNER
    ///           - SETGID
    ///           - SETUID
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when what the image needs back is known (the configuration, the
    /// knowledge base, or with `--resolve` the image's entrypoint script). For an image that is
    /// not known, or known without `cap-add`, or that runs whatever command it is given as root
    /// (python, node), the fix is display-only (`drop: [ALL]` alone is shown) and
    /// `fix --interactive` asks which capabilities it needs, saving them as `cap-add` in an
    /// `[[images]]` entry of `.dockharden.toml`. Even when applied, a feature the knowledge base
    /// does not cover can need one more (`ping` without NET_RAW); read the logs for "Operation not
    /// permitted". Existing `add` entries are kept (Polaris' fix drops them; that breaks the
    /// workload); an existing `drop` list gets `ALL` appended.
    ///
    /// ## Options
    /// `[options.capabilities]`: image name → capabilities to add back after `drop: [ALL]`, instead of
    /// what the knowledge base says (`"nginx" = ["CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE"]`).
    /// `[[images]]` entries with `cap-add` describe images the knowledge base does not know.
    ///
    /// ## References
    /// Guideline: "Drop all capabilities (`--cap-drop all`) and add only required ones". Kubernetes
    /// Pod Security Standards (restricted), checkov CKV_K8S_28 and CKV_K8S_37.
    pub struct CapabilitiesNotDropped => "K8S003", "capabilities-not-dropped", Kubernetes, Sometimes;
}

/// The capability names of a list (`CAP_` prefix dropped, upper case).
fn names(seq: Option<&Sequence>) -> Vec<String> {
    seq.map(|s| {
        s.items()
            .iter()
            .filter_map(|i| i.value().resolve())
            .filter_map(|v| v.as_str().map(normalize_cap))
            .collect()
    })
    .unwrap_or_default()
}

/// What a container needs back after `drop: [ALL]`.
enum Back {
    /// These capabilities (possibly none), with where that is known from.
    Known(Vec<String>, String),
    /// Not known: why, and the question that would tell.
    Unknown(String, Option<Need>),
}

fn question(c: &Container, needs: &crate::needs::Needs) -> Option<Need> {
    c.image_question(
        needs,
        "images.cap-add",
        format!(
            "Capabilities `{}` needs back after `drop: [ALL]` (`none`, or e.g. CHOWN, SETUID, SETGID when its entrypoint starts as root and switches users with gosu, su-exec or setpriv)",
            needs.subject
        ),
    )
}

/// The capabilities `c` needs that its `add` list does not grant and its `drop` list does not
/// name explicitly: the `[options.capabilities]` option for its image, else the image's `cap-add`, plus
/// NET_BIND_SERVICE for a root process with a container port below 1024.
fn add_backs(c: &Container, ctx: &Context<'_>, granted: &[String], dropped: &[String]) -> Back {
    if granted.iter().any(|g| g == "ALL") {
        return Back::Known(Vec::new(), String::new());
    }
    let needs = c.needs(ctx);
    let non_root = image::runs_non_root(c, &needs);
    let (mut caps, source) = if let Some(list) = c.configured_capabilities(ctx.settings) {
        (list, " (the `[options.capabilities]` option)".to_owned())
    } else {
        let facts = needs.facts();
        match &facts.cap_add {
            Some(_) if image::runtime(&facts) && !non_root => {
                return Back::Unknown(
                    format!(
                        "`{}` runs whatever command it is given, as root here, so what the application needs is unknown",
                        needs.subject
                    ),
                    question(c, &needs),
                );
            }
            Some(_) if image::switches(&facts) && c.runs_as_non_root() => {
                // Its entrypoint needs them only when it starts as root, to switch users.
                return Back::Known(
                    Vec::new(),
                    format!(
                        " (`{}` needs them only to switch users when it starts as root{})",
                        needs.subject,
                        needs.because()
                    ),
                );
            }
            Some(list) => (list.clone(), needs.because()),
            None => {
                let why = needs.unknown.clone().unwrap_or_else(|| {
                    format!(
                        "what `{}` needs back is not known{}",
                        needs.subject,
                        needs.because()
                    )
                });
                return Back::Unknown(why, question(c, &needs));
            }
        }
    };
    if !non_root && c.container_ports().iter().any(|p| (1..1024).contains(p)) {
        // A root process binds a port below 1024 with this capability.
        caps.push("NET_BIND_SERVICE".to_owned());
    }
    let mut out: Vec<String> = Vec::new();
    for cap in caps.iter().map(|c| normalize_cap(c)) {
        if !cap.is_empty()
            && !granted.contains(&cap)
            && !dropped.contains(&cap)
            && !out.contains(&cap)
        {
            out.push(cap);
        }
    }
    Back::Known(out, source)
}

impl Check for CapabilitiesNotDropped {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            for c in pod.containers().iter() {
                if c.is_windows() {
                    continue;
                }
                let drop = c.sc(&["capabilities", "drop"]);
                let add = c.sc(&["capabilities", "add"]);
                let dropped = names(drop.as_ref().and_then(Node::as_sequence));
                if dropped.iter().any(|d| d == "ALL") {
                    continue;
                }
                let granted = names(add.as_ref().and_then(Node::as_sequence));
                let drop_entry = c
                    .security_context()
                    .and_then(|sc| crate::kubernetes::model::get_mapping(&sc, "capabilities"))
                    .and_then(|caps| caps.get("drop"));
                let range = drop_entry
                    .as_ref()
                    .map_or_else(|| c.range(), crate::yaml::Entry::range);
                let mut message = format!(
                    "The {} does not drop all capabilities (`capabilities.drop: [ALL]`): it keeps the runtime's default set",
                    c.label()
                );
                let back = add_backs(c, ctx, &granted, &dropped);
                let add_back: Vec<String> = match &back {
                    Back::Known(caps, source) if caps.is_empty() => {
                        if !source.is_empty() {
                            message.push_str(&format!("; nothing needs to be added back{source}"));
                        }
                        Vec::new()
                    }
                    Back::Known(caps, source) => {
                        message.push_str(&format!("; adds back {}{source}", caps.join(", ")));
                        caps.clone()
                    }
                    Back::Unknown(why, _) => {
                        message.push_str(&format!(
                            " (display only: what it needs back is unknown: {why}; an entrypoint that starts as root and switches users (gosu, su-exec, setpriv) needs at least CHOWN, SETUID and SETGID, and a binary with file capabilities needs them in the bounding set; say what it needs with `cap-add` in an `[[images]]` entry of .dockharden.toml, or answer in `fix --interactive`)"
                        ));
                        Vec::new()
                    }
                };
                let applicability = match back {
                    Back::Known(..) => Applicability::Unsafe,
                    Back::Unknown(..) => Applicability::DisplayOnly,
                };
                let fix = container_refusal(c).and_then(|()| {
                    let drop_path = c.path(&["securityContext", "capabilities", "drop"]);
                    let add_path = c.path(&["securityContext", "capabilities", "add"]);
                    let mut patch = Patch::new();
                    let mut leaves: Vec<(&str, String)> = Vec::new();
                    match &drop {
                        Some(Node::Sequence(seq))
                            if !seq.is_empty() && editable_node(&seq.as_node()) =>
                        {
                            patch.append_item(seq, &like_items(seq, "ALL"), drop_path)?;
                        }
                        _ => leaves.push(("drop", "- ALL".to_owned())),
                    }
                    if !add_back.is_empty() {
                        match &add {
                            Some(Node::Sequence(seq))
                                if !seq.is_empty() && editable_node(&seq.as_node()) =>
                            {
                                for cap in &add_back {
                                    patch.append_item(
                                        seq,
                                        &like_items(seq, cap),
                                        add_path.clone(),
                                    )?;
                                }
                            }
                            Some(n)
                                if !n.is_null()
                                    && n.as_sequence().is_none_or(|s| !s.is_empty()) =>
                            {
                                return Err("`capabilities.add` cannot be extended".into());
                            }
                            _ => {
                                let list: Vec<String> =
                                    add_back.iter().map(|c| format!("- {c}")).collect();
                                leaves.push(("add", list.join("\n")));
                            }
                        }
                    }
                    if !leaves.is_empty() {
                        let leaves: Vec<(&str, &str)> =
                            leaves.iter().map(|(k, v)| (*k, v.as_str())).collect();
                        patch.set(
                            &c.mapping,
                            &c.path,
                            &["securityContext", "capabilities"],
                            &leaves,
                        )?;
                    }
                    let title = if add_back.is_empty() {
                        "Drop all capabilities".to_owned()
                    } else {
                        format!("Drop all capabilities, add back {}", add_back.join(", "))
                    };
                    make_fix(applicability, title, patch)
                });
                let finding = attach(Finding::new(Self::CODE, Self::NAME, range, message), fix);
                out.push(match back {
                    Back::Unknown(_, Some(need)) => finding.with_need(need),
                    _ => finding,
                });
            }
        }
        out
    }
}
