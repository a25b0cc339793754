use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{editable_node, pods, yaml};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::{attach, container_refusal, make_fix};
use crate::registry::{Check, Context};
use crate::yaml::Node;

declare_transform! {
    /// ## What it does
    /// Flags containers and init containers whose `securityContext.capabilities.drop` does not
    /// contain `ALL`, and adds it, keeping every capability already listed under `add`. Ephemeral
    /// containers are reported only; Windows pods and images are skipped.
    ///
    /// ## Why is this bad?
    /// Without `drop: [ALL]` a container keeps the runtime's default capabilities (CHOWN, DAC_OVERRIDE, FOWNER, SETUID, SETGID, NET_RAW, ...), which an attacker can use to read any file, spoof packets or escalate.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.0
    ///     securityContext:
    ///       capabilities:
    ///         add: [NET_BIND_SERVICE]
    /// ```
    /// becomes
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.0
    ///     securityContext:
    ///       capabilities:
    ///         add: [NET_BIND_SERVICE]
    ///         drop:
    ///           - ALL
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: a process that runs as root and needs a capability it does not `add` back fails
    /// (binding a port below 1024, `chown`, switching users). Existing `add` entries are kept
    /// (Polaris' fix drops them; that breaks the workload). When the container has no `add` list and
    /// does not run as non-root, the capabilities its image needs are added back: those configured in
    /// `[options.capabilities]` for the image, else, for official images that start as root and drop
    /// privileges themselves (nginx, postgres, redis, ...), the ones listed in dockharden's image
    /// table. An existing `drop` list gets `ALL` appended.
    ///
    /// ## Options
    /// `[options.capabilities]`: image name → capabilities to add back after `drop: [ALL]`
    /// (`"nginx" = ["CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE"]`).
    ///
    /// ## References
    /// Guideline: "Drop all capabilities (`--cap-drop all`) and add only required ones". Kubernetes
    /// Pod Security Standards (restricted), checkov CKV_K8S_28 and CKV_K8S_37.
    pub struct CapabilitiesNotDropped => "K8S003", "capabilities-not-dropped", Kubernetes, Sometimes;
}

impl Check for CapabilitiesNotDropped {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in pods(file) {
            for c in pod.containers() {
                if c.is_windows() {
                    continue;
                }
                let drop = c.sc(&["capabilities", "drop"]);
                let has_all = drop.as_ref().and_then(Node::as_sequence).is_some_and(|s| {
                    s.items().iter().any(|i| {
                        i.value()
                            .as_str()
                            .is_some_and(|v| v.trim().eq_ignore_ascii_case("ALL"))
                    })
                });
                if has_all {
                    continue;
                }
                let drop_entry = c
                    .security_context()
                    .and_then(|sc| crate::kubernetes::model::get_mapping(&sc, "capabilities"))
                    .and_then(|caps| caps.get("drop"));
                let range = drop_entry
                    .as_ref()
                    .map_or_else(|| c.range(), crate::yaml::Entry::range);
                let finding = Finding::new(
                    Self::CODE,
                    Self::NAME,
                    range,
                    format!(
                        "The {} does not drop all capabilities (`capabilities.drop: [ALL]`): it keeps the runtime's default set",
                        c.label()
                    ),
                );
                let fix = container_refusal(&c).and_then(|()| {
                    let has_add = c.sc(&["capabilities", "add"]).is_some();
                    let add_back = if has_add {
                        Vec::new()
                    } else if let Some(caps) = c.configured_capabilities(ctx.settings) {
                        caps
                    } else if c.runs_as_non_root() {
                        Vec::new()
                    } else {
                        c.known_capabilities()
                    };
                    let drop_path = c.path(&["securityContext", "capabilities", "drop"]);
                    let mut patch = Patch::new();
                    let mut leaves: Vec<(&str, String)> = Vec::new();
                    match &drop {
                        Some(Node::Sequence(seq))
                            if !seq.is_empty() && editable_node(&seq.as_node()) =>
                        {
                            patch.append_item(seq, "ALL", drop_path)?;
                        }
                        _ => leaves.push(("drop", "- ALL".to_owned())),
                    }
                    if !add_back.is_empty() {
                        let list: Vec<String> = add_back.iter().map(|c| format!("- {c}")).collect();
                        leaves.push(("add", list.join("\n")));
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
                    make_fix(Applicability::Unsafe, title, patch)
                });
                out.push(attach(finding, fix));
            }
        }
        out
    }
}
