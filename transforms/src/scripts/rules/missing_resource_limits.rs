use crate::declare_transform;
use crate::finding::{Finding, Need};
use crate::fix::Applicability;
use crate::registry::{Check, Context};

use super::{absence_judgement, fix_of, not_edited, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags container commands without a memory limit (`-m` / `--memory`), a CPU limit
    /// (`--cpus`, or `--cpu-quota`) or a process-count limit (`--pids-limit`), one finding per
    /// command listing what is missing, and adds the limits the configuration gives
    /// (`limits.memory`, `limits.cpus`, `limits.pids`) before the image. A limit of `0` or `-1`
    /// means "unlimited" and counts as missing. Commands that only run a one-off tool
    /// (`docker run --rm`) are judged like any other.
    ///
    /// ## Why is this bad?
    /// Without limits, one runaway or compromised container can take all the host's memory, CPU or process slots and starve everything else (a fork bomb needs no privilege).
    ///
    /// ## Example
    /// With `limits.memory = "512M"`, `limits.cpus = "0.5"` and `limits.pids = 200` configured:
    /// ```sh
    /// docker run -d --name api ghcr.io/acme/api:1.4
    /// ```
    /// becomes
    /// ```sh
    /// docker run -d --name api --memory 512M --cpus 0.5 --pids-limit 200 ghcr.io/acme/api:1.4
    /// ```
    ///
    /// ## Fix safety
    /// Only a human knows how much a container needs: without configured values the fix is
    /// display-only (with a `TODO` placeholder) and `fix --interactive` asks. With values from the
    /// configuration it is Unsafe: a limit that is too low gets the container OOM-killed or
    /// throttled; a configured memory limit below the least memory the image documents (the
    /// knowledge base's `min-memory`) is only shown. When only some values are configured, those
    /// are applied and the rest stays a suggestion. A command whose flags are not all known is
    /// reported without a fix.
    ///
    /// ## Options
    /// `limits.memory` (e.g. `"512M"`), `limits.cpus` (e.g. `"0.5"`), `limits.pids` (e.g. `200`),
    /// in the `[options]` table of `.dockharden.toml` (shared with DC010 and K8S limits).
    ///
    /// ## References
    /// Guideline: "Limit container resources (memory, CPU)". CIS Docker Benchmark v1.7 5.11
    /// (memory), 5.12 (CPU), 5.29 (PIDs cgroup limit); compose equivalent DC010.
    pub struct MissingResourceLimits => "DR008", "missing-resource-limits", group Scripts, Sometimes;
}

/// Whether a flag's value means "no limit".
fn unlimited(v: &str) -> bool {
    matches!(v.trim(), "" | "0" | "-1" | "0b" | "0m" | "0g")
}

/// Bytes of a size such as `512M`, `1g`, `256mb`.
fn bytes(v: &str) -> Option<f64> {
    let v = v.trim().to_ascii_lowercase();
    let digits = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: f64 = digits.parse().ok()?;
    let unit = &v[digits.len()..];
    let mult = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(n * mult)
}

impl Check for MissingResourceLimits {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let limits = &ctx.settings.limits;
        for site in sites(ctx) {
            let run = &site.run;
            let Some(opaque) = absence_judgement(run) else {
                continue;
            };
            let has = |names: &[&str]| {
                run.flags
                    .iter()
                    .rfind(|f| names.contains(&f.name.as_str()))
                    .is_some_and(|f| !unlimited(f.text()))
            };
            let mut missing: Vec<(&str, &str, Option<String>)> = Vec::new();
            if !has(&["memory"]) {
                missing.push(("memory", "limits.memory", limits.memory.clone()));
            }
            if !has(&["cpus", "cpu-quota"]) {
                missing.push(("cpus", "limits.cpus", limits.cpus.clone()));
            }
            if !has(&["pids-limit"]) {
                missing.push((
                    "pids-limit",
                    "limits.pids",
                    limits.pids.map(|p| p.to_string()),
                ));
            }
            if missing.is_empty() {
                continue;
            }
            let names: Vec<String> = missing.iter().map(|(n, _, _)| format!("`--{n}`")).collect();
            let range = run.range();
            let mut message = format!(
                "The container has no {} limit ({}): one runaway container can starve the host",
                super::list(
                    &missing
                        .iter()
                        .map(|(n, _, _)| match *n {
                            "memory" => "memory".to_owned(),
                            "cpus" => "CPU".to_owned(),
                            _ => "process-count".to_owned(),
                        })
                        .collect::<Vec<_>>()
                ),
                names.join(", ")
            );
            if let Some(why) = opaque {
                out.push(not_edited(
                    ctx,
                    &site,
                    (Self::CODE, Self::NAME),
                    message,
                    &why,
                    "they",
                ));
                continue;
            }
            let needs = site.needs(ctx);
            let min_memory = needs.facts().min_memory.clone();
            let mut configured: Vec<String> = Vec::new();
            let mut placeholders: Vec<String> = Vec::new();
            let mut unset: Vec<&str> = Vec::new();
            let mut too_low = None;
            for (name, option, value) in &missing {
                match value {
                    Some(v) => {
                        if *name == "memory" {
                            if let (Some(min), Some(a), Some(b)) = (
                                min_memory.as_deref(),
                                bytes(v),
                                min_memory.as_deref().and_then(bytes),
                            ) {
                                if a < b {
                                    too_low = Some(format!(
                                        "the configured memory limit {v} is below the {min} `{}` needs{}",
                                        needs.subject,
                                        needs.because()
                                    ));
                                }
                            }
                        }
                        configured.push(run.flag_text(name, Some(v)));
                    }
                    None => {
                        placeholders.push(run.flag_text(name, Some("TODO")));
                        unset.push(option);
                    }
                }
            }
            let fix = if configured.is_empty() || too_low.is_some() {
                if let Some(why) = &too_low {
                    message.push_str(&format!(" (display only: {why})"));
                } else {
                    message.push_str(&format!(
                        " (display only: only a human knows how much it needs; set {} in `[options]` of .dockharden.toml, or answer in `fix --interactive`)",
                        unset.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                    ));
                }
                let mut all = configured.clone();
                all.extend(placeholders.iter().cloned());
                run.insert_before_image(ctx.text, &all).map(|e| {
                    fix_of(
                        Applicability::DisplayOnly,
                        format!("Add {}", all.join(" ")),
                        vec![e],
                    )
                })
            } else {
                if !unset.is_empty() {
                    message.push_str(&format!(
                        "; the others stay a suggestion until {} are configured",
                        unset
                            .iter()
                            .map(|o| format!("`{o}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                run.insert_before_image(ctx.text, &configured).map(|e| {
                    fix_of(
                        Applicability::Unsafe,
                        format!("Add {}", configured.join(" ")),
                        vec![e],
                    )
                })
            };
            let mut f = report(ctx, &site, (Self::CODE, Self::NAME), range, message, fix);
            if let Some(option) = unset.first() {
                if configured.is_empty() {
                    f = f.with_need(Need {
                        option,
                        key: None,
                        prompt: match *option {
                            "limits.memory" => "Memory limit for containers (e.g. 512M)".to_owned(),
                            "limits.cpus" => "CPU limit for containers (e.g. 0.5)".to_owned(),
                            _ => "Process-count limit for containers (e.g. 200)".to_owned(),
                        },
                        default: None,
                    });
                }
            }
            out.push(f);
        }
        out
    }
}
