use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{get_mapping, yaml, Container, ContainerKind};
use crate::kubernetes::patch::{Patch, Refusal};
use crate::kubernetes::{attach, container_refusal, make_fix};
use crate::registry::{Check, Context};
use crate::settings::LimitOptions;
use crate::yaml::Node;

declare_transform! {
    /// ## What it does
    /// Flags containers and init containers that lack a memory or CPU limit or request
    /// (`resources.limits.memory`, `resources.limits.cpu`, `resources.requests.memory`,
    /// `resources.requests.cpu`) and adds the missing ones from the `[options.limits]` options. Without
    /// options the fix is only shown, with `TODO` placeholders.
    ///
    /// ## Why is this bad?
    /// A container without limits can take all the node's memory and CPU, starving or getting evicted with its neighbours (a leak or a denial of service takes the node down); without requests the scheduler places it blindly.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.0
    /// ```
    /// becomes, with `[options.limits] memory = "512Mi"`, `cpus = "0.5"`:
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.0
    ///     resources:
    ///       limits:
    ///         memory: 512Mi
    ///         cpu: 500m
    ///       requests:
    ///         memory: 512Mi
    ///         cpu: 500m
    /// ```
    ///
    /// ## Fix safety
    /// Display-only unless the values are configured: only a human knows what a workload needs.
    /// With the options, Unsafe: a limit below the workload's real peak gets it OOM-killed or
    /// throttled. Requests default to the limits (what Kubernetes itself does when only limits are
    /// set) unless `memory-request` / `cpu-request` are given. A value that would put a limit below
    /// an existing request (which the API rejects) makes the fix display-only. Memory in Docker's
    /// notation (`512m`, `512M`, `1g`) is written in Kubernetes binary units (`512Mi`, `1Gi`); CPU
    /// fractions (`0.5`) as millicores (`500m`). Ephemeral containers cannot have resources and are
    /// skipped.
    ///
    /// ## Options
    /// `[options.limits]`: `memory`, `cpus`, `memory-request`, `cpu-request`.
    ///
    /// ## References
    /// Guideline: "Limit container resources (memory, CPU) in docker-compose or Kubernetes specs".
    /// checkov CKV_K8S_10, CKV_K8S_11, CKV_K8S_12, CKV_K8S_13.
    pub struct MissingResources => "K8S009", "missing-resources", Kubernetes, Sometimes;
}

/// A memory quantity for Kubernetes: Kubernetes notation as is, Docker's (`512m`, `1g`, `512mb`,
/// `512M`) in binary units.
#[must_use]
pub fn k8s_memory(value: &str) -> Option<String> {
    let v = value.trim();
    let digits = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(digits);
    if num.is_empty() || num.parse::<f64>().is_err() {
        return None;
    }
    let unit = match unit {
        "" => "",
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => unit,
        "b" | "B" => "",
        "k" | "K" | "kb" | "KB" | "Kb" | "kB" => "Ki",
        "m" | "M" | "mb" | "MB" | "Mb" | "mB" => "Mi",
        "g" | "G" | "gb" | "GB" | "Gb" | "gB" => "Gi",
        "t" | "T" | "tb" | "TB" => "Ti",
        _ => return None,
    };
    if num.contains('.') && unit.is_empty() {
        return None;
    }
    Some(format!("{num}{unit}"))
}

/// A CPU quantity for Kubernetes: millicores as is, a whole number as is, a fraction in millicores.
#[must_use]
pub fn k8s_cpu(value: &str) -> Option<String> {
    let v = value.trim();
    if let Some(m) = v.strip_suffix('m') {
        return (!m.is_empty() && m.chars().all(|c| c.is_ascii_digit())).then(|| v.to_owned());
    }
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) {
        return Some(v.to_owned());
    }
    let (whole, frac) = v.split_once('.')?;
    if frac.is_empty()
        || frac.len() > 3
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let millis =
        whole.parse::<u64>().unwrap_or(0) * 1000 + format!("{frac:0<3}").parse::<u64>().ok()?;
    if millis == 0 {
        return None;
    }
    Some(format!("{millis}m"))
}

/// A Kubernetes quantity as a number (bytes or cores), for comparisons; None when it cannot be read.
#[must_use]
pub fn quantity(value: &str) -> Option<f64> {
    let v = value.trim();
    let digits = v
        .find(|c: char| !c.is_ascii_digit() && c != '.' && c != '+' && c != '-')
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(digits);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        _ => return None,
    };
    Some(n * mult)
}

const FIELDS: &[(&str, &str, &str)] = &[
    ("limits", "memory", "memory limit"),
    ("limits", "cpu", "CPU limit"),
    ("requests", "memory", "memory request"),
    ("requests", "cpu", "CPU request"),
];

fn existing(c: &Container, group: &str, key: &str) -> Option<String> {
    let v = c.mapping.as_node().path(&["resources", group, key])?;
    match &v {
        Node::Scalar(s) if !s.is_null() => Some(s.value().to_owned()),
        _ => None,
    }
}

/// The value to write for a field, from the options (None: only a human knows).
fn configured(c: &Container, limits: &LimitOptions, group: &str, key: &str) -> Option<String> {
    match (group, key) {
        ("limits", "memory") => limits.memory.as_deref().and_then(k8s_memory),
        ("limits", "cpu") => limits.cpus.as_deref().and_then(k8s_cpu),
        ("requests", "memory") => limits
            .memory_request
            .as_deref()
            .and_then(k8s_memory)
            .or_else(|| existing(c, "limits", "memory"))
            .or_else(|| limits.memory.as_deref().and_then(k8s_memory)),
        ("requests", "cpu") => limits
            .cpu_request
            .as_deref()
            .and_then(k8s_cpu)
            .or_else(|| existing(c, "limits", "cpu"))
            .or_else(|| limits.cpus.as_deref().and_then(k8s_cpu)),
        _ => None,
    }
}

fn fix(
    c: &Container,
    limits: &LimitOptions,
    missing: &[(&str, &str, &str)],
) -> Result<crate::fix::Fix, Refusal> {
    container_refusal(c)?;
    let mut values: Vec<(&str, &str, String)> = Vec::new();
    let mut complete = true;
    for (group, key, _) in missing {
        match configured(c, limits, group, key) {
            Some(v) => values.push((group, key, v)),
            None => {
                complete = false;
                values.push((group, key, "TODO".to_owned()));
            }
        }
    }
    // A limit must not be below its request: compare what the container will have.
    let mut consistent = true;
    for key in ["memory", "cpu"] {
        let value_of = |group: &str| {
            values
                .iter()
                .find(|(g, k, _)| *g == group && *k == key)
                .map(|(_, _, v)| v.clone())
                .or_else(|| existing(c, group, key))
                .and_then(|v| quantity(&v))
        };
        if let (Some(limit), Some(request)) = (value_of("limits"), value_of("requests")) {
            if limit < request {
                consistent = false;
            }
        }
    }
    let resources = get_mapping(&c.mapping, "resources").filter(|m| !m.is_empty());
    let mut patch = Patch::new();
    let mut top: Vec<(&str, String)> = Vec::new();
    for group in ["limits", "requests"] {
        let leaves: Vec<(&str, &str)> = values
            .iter()
            .filter(|(g, _, _)| *g == group)
            .map(|(_, k, v)| (*k, v.as_str()))
            .collect();
        if leaves.is_empty() {
            continue;
        }
        let has_group = resources
            .as_ref()
            .and_then(|r| get_mapping(r, group))
            .is_some_and(|m| !m.is_empty());
        if has_group {
            patch.set(&c.mapping, &c.path, &["resources", group], &leaves)?;
        } else {
            let body: Vec<String> = leaves.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            top.push((group, body.join("\n")));
        }
    }
    if !top.is_empty() {
        let top: Vec<(&str, &str)> = top.iter().map(|(k, v)| (*k, v.as_str())).collect();
        patch.set(&c.mapping, &c.path, &["resources"], &top)?;
    }
    let shown: Vec<String> = values
        .iter()
        .map(|(g, k, v)| format!("{g}.{k}: {v}"))
        .collect();
    let title = format!("Set {}", shown.join(", "));
    if complete && consistent {
        make_fix(Applicability::Unsafe, title, patch)
    } else if !consistent {
        make_fix(
            Applicability::DisplayOnly,
            format!("{title} (a limit would be below its request: adjust the values)"),
            patch,
        )
    } else {
        make_fix(
            Applicability::DisplayOnly,
            format!("{title} (configure `[options.limits]`, or answer in `fix --interactive`, to apply)"),
            patch,
        )
    }
}

/// The limit `fix --interactive` asks for when the fix is shown for want of configured values:
/// the first missing limit that is not configured (requests follow the limits).
fn limit_question(
    c: &Container,
    limits: &LimitOptions,
    missing: &[(&str, &str, &str)],
    finding: &Finding,
) -> Option<crate::finding::Need> {
    let fix = finding.fix.as_ref()?;
    if fix.applicability != Applicability::DisplayOnly {
        return None;
    }
    let (_, key, _) = missing
        .iter()
        .find(|(g, k, _)| *g == "limits" && configured(c, limits, g, k).is_none())?;
    Some(match *key {
        "memory" => crate::finding::Need {
            option: "limits.memory",
            key: None,
            prompt: "Memory limit for the containers (e.g. 512Mi)".into(),
            default: None,
        },
        _ => crate::finding::Need {
            option: "limits.cpus",
            key: None,
            prompt: "CPU limit for the containers (e.g. 500m or 0.5)".into(),
            default: None,
        },
    })
}

impl Check for MissingResources {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            for c in pod.containers().iter() {
                if c.kind == ContainerKind::Ephemeral {
                    continue;
                }
                let missing: Vec<(&str, &str, &str)> = FIELDS
                    .iter()
                    .copied()
                    .filter(|(g, k, _)| {
                        c.mapping
                            .as_node()
                            .path(&["resources", g, k])
                            .is_none_or(|n| n.is_null())
                    })
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let what: Vec<&str> = missing.iter().map(|(_, _, w)| *w).collect();
                let finding = Finding::new(
                    Self::CODE,
                    Self::NAME,
                    c.range(),
                    format!("The {} has no {}", c.label(), what.join(", ")),
                );
                let limits = &ctx.settings.limits;
                let finding = attach(finding, fix(c, limits, &missing));
                out.push(match limit_question(c, limits, &missing, &finding) {
                    Some(need) => finding.with_need(need),
                    None => finding,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(k8s_memory("512m").as_deref(), Some("512Mi"));
        assert_eq!(k8s_memory("512M").as_deref(), Some("512Mi"));
        assert_eq!(k8s_memory("1g").as_deref(), Some("1Gi"));
        assert_eq!(k8s_memory("256Mi").as_deref(), Some("256Mi"));
        assert_eq!(k8s_memory("1048576").as_deref(), Some("1048576"));
        assert_eq!(k8s_memory("lots"), None);
        assert_eq!(k8s_cpu("0.5").as_deref(), Some("500m"));
        assert_eq!(k8s_cpu("1.25").as_deref(), Some("1250m"));
        assert_eq!(k8s_cpu("2").as_deref(), Some("2"));
        assert_eq!(k8s_cpu("250m").as_deref(), Some("250m"));
        assert_eq!(k8s_cpu("0.0001"), None);
        assert_eq!(k8s_cpu("fast"), None);
        assert!(quantity("1Gi").unwrap() > quantity("512Mi").unwrap());
        assert!((quantity("500m").unwrap() - 0.5).abs() < 1e-9);
    }
}
