use crate::declare_transform;
use crate::finding::{mask_secret, Finding};
use crate::fix::Applicability;
use crate::knowledge::is_hardcoded_secret;
use crate::kubernetes::model::{editable_node, get_sequence, get_str, yaml};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::{attach, container_refusal, make_fix};
use crate::paths::{child, node_path};
use crate::registry::{Check, Context};
use crate::yaml::Node;

declare_transform! {
    /// ## What it does
    /// Flags `env` entries of containers and init containers that hold a credential as a literal
    /// `value:` (a credential-like name such as `DB_PASSWORD` or `API_TOKEN`, or a value that looks
    /// like a key or token whatever the name), and replaces the value by a reference to a Secret:
    /// `valueFrom.secretKeyRef` with the Secret named by the `kubernetes.secret-name` option and the
    /// key `db-password` (the variable's name in lower-kebab case). Values are never printed: they
    /// are masked in messages.
    ///
    /// ## Why is this bad?
    /// A credential written in a manifest is readable by everyone who can read the repository, the CI logs or the workload object (`kubectl get -o yaml` needs far fewer rights than reading Secrets), and it cannot be rotated without a new commit.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: DB_PASSWORD
    ///     value: hunter2
    /// ```
    /// becomes, with `[options.kubernetes] secret-name = "app-secrets"`:
    /// ```yaml
    /// env:
    ///   - name: DB_PASSWORD
    ///     valueFrom:
    ///       secretKeyRef:
    ///         name: app-secrets
    ///         key: db-password
    /// ```
    ///
    /// ## Fix safety
    /// Display-only unless the Secret's name is configured (the edit is shown with a `TODO` name).
    /// With it, Unsafe: the pod only starts once that Secret exists with that key, which dockharden
    /// does not create: the value is never written to another file. Create it out of band, for
    /// example `kubectl create secret generic app-secrets --from-literal=db-password=...`, or with
    /// your secret manager (Sealed Secrets, External Secrets, SOPS), and rotate the exposed value:
    /// it stays in the repository's history. Values that are interpolated (`$(VAR)`, `${VAR}`) or
    /// empty are not flagged.
    ///
    /// ## Options
    /// `[options.kubernetes] secret-name`: the Secret that the values are moved to.
    ///
    /// ## References
    /// Guideline: "DO NOT embed secrets in environment variables" and "Use Docker Secrets or
    /// Kubernetes encrypted secrets for sensitive data". checkov CKV_K8S_35 (prefer secrets as
    /// files), CIS Kubernetes Benchmark 5.4.1.
    pub struct SecretInEnv => "K8S011", "secret-in-env", Kubernetes, Sometimes;
}

/// `DB_PASSWORD` → `db-password` (a valid Secret key: `[-._a-zA-Z0-9]+`).
#[must_use]
pub fn kebab(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() || ch == '.' {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() {
        "value".to_owned()
    } else {
        out
    }
}

fn scalar_text(v: &str) -> String {
    if crate::yaml::is_plain_safe(v, false) && crate::yaml::plain_is_string(v) {
        v.to_owned()
    } else {
        crate::yaml::double_quoted(v)
    }
}

impl Check for SecretInEnv {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            for c in pod.containers().iter() {
                let Some(env) = get_sequence(&c.mapping, "env") else {
                    continue;
                };
                for item in env.items() {
                    let Some(Node::Mapping(var)) = item.value().resolve() else {
                        continue;
                    };
                    let Some(name) = get_str(&var, "name") else {
                        continue;
                    };
                    let Some((entry, origin)) = var.get_merged("value") else {
                        continue;
                    };
                    let Some(Node::Scalar(value)) = entry.value().resolve() else {
                        continue;
                    };
                    if value.is_null() || !is_hardcoded_secret(&name, value.value()) {
                        continue;
                    }
                    let finding = Finding::new(
                        Self::CODE,
                        Self::NAME,
                        item.range(),
                        format!(
                            "The {} sets `{name}` to a literal credential (`{}`) in the manifest: move it to a Secret",
                            c.label(),
                            mask_secret(value.value())
                        ),
                    )
                    .with_secret(value.range());
                    let fix = container_refusal(c).and_then(|()| {
                        if origin != crate::yaml::Origin::Own
                            || !editable_node(&var.as_node())
                            || !editable_node(&entry.value())
                        {
                            return Err("the variable is shared through a YAML anchor or alias".into());
                        }
                        if var.get("valueFrom").is_some() {
                            return Err("the variable also has `valueFrom`".into());
                        }
                        let key = kebab(&name);
                        let (secret, applicability) = match &ctx.settings.kubernetes.secret_name {
                            Some(s) if !s.trim().is_empty() => (s.trim().to_owned(), Applicability::Unsafe),
                            _ => ("TODO".to_owned(), Applicability::DisplayOnly),
                        };
                        let frag = format!(
                            "secretKeyRef:\n  name: {}\n  key: {}",
                            scalar_text(&secret),
                            scalar_text(&key)
                        );
                        let base = node_path(&var.as_node());
                        let mut patch = Patch::new();
                        patch.rename_key(&entry, "valueFrom", child(&base, &["value"]), child(&base, &["valueFrom"]));
                        patch.replace_value(&entry, &frag, child(&base, &["valueFrom"]))?;
                        let title = if applicability == Applicability::DisplayOnly {
                            format!("Read `{name}` from a Secret (key `{key}`; configure `[options.kubernetes] secret-name` to apply)")
                        } else {
                            format!("Read `{name}` from Secret `{secret}`, key `{key}` (create it first)")
                        };
                        make_fix(applicability, title, patch)
                    });
                    let finding = attach(finding, fix);
                    // Which Secret holds the credentials is the user's to say.
                    let shown = finding
                        .fix
                        .as_ref()
                        .is_some_and(|f| f.applicability == Applicability::DisplayOnly);
                    out.push(if shown {
                        finding.with_need(crate::finding::Need {
                            option: "kubernetes.secret-name",
                            key: None,
                            prompt: "Name of the Secret that holds these credentials (create it separately)".into(),
                            default: None,
                        })
                    } else {
                        finding
                    });
                }
            }
        }
        out
    }
}
