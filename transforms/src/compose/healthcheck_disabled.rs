use std::collections::BTreeMap;

use crate::compose::model::{who, yaml, Service};
use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};
use crate::yaml::{Entry, Node};

declare_transform! {
    /// ## What it does
    /// Flags long-running services whose healthcheck is switched off: `healthcheck: {disable: true}`,
    /// `test: ["NONE"]` or `test: NONE`. A service counts as long-running when it publishes or
    /// exposes ports (`ports:`, `expose:`) or runs a known server image (postgres, nginx, redis,
    /// ...). Not flagged: one-shot jobs (`restart: "no"` or `deploy.restart_policy.condition:
    /// none` together with a `command:` or `entrypoint:`) and tools started only through a profile
    /// (`profiles:` without ports), whose exit is expected and whose health means nothing.
    ///
    /// ## Why is this bad?
    /// Without a healthcheck a hung or half-started server looks "running" to Compose, `depends_on: condition: service_healthy` and orchestrators, so it is never restarted or taken out of rotation.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db:
    ///     image: postgres:16
    ///     healthcheck:
    ///       disable: true
    /// ```
    /// should become (the image's own `HEALTHCHECK`, if it has one, then applies)
    /// ```yaml
    /// services:
    ///   db:
    ///     image: postgres:16
    ///     healthcheck:
    ///       test: ["CMD-SHELL", "pg_isready -U postgres"]
    /// ```
    ///
    /// ## Fix safety
    /// Display-only: the suggestion removes the switch that disables the check (or the whole
    /// `healthcheck:` when nothing else is in it), but a check that is enabled again may fail (the
    /// image's own `HEALTHCHECK` may need tools or credentials the service lacks) and mark the
    /// service unhealthy; only a human knows the right `test:` command.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Include `HEALTHCHECK` instructions for container health monitoring". CIS
    /// Docker Benchmark 4.6 (add HEALTHCHECK instructions to container images).
    pub struct HealthcheckDisabled => "DC016", "healthcheck-disabled", Compose, None;
}

/// The service's `healthcheck` entry, the entry that disables it, how it is written, and the
/// services (with why each is long-running) that inherit it.
type Hit = (Entry, Entry, String, Vec<(String, String)>);

/// The entry that disables the healthcheck of `svc`, if any, and how it is written.
fn disabling_entry(svc: &Service) -> Option<(Entry, Entry, String)> {
    let (hc_entry, _) = svc.get("healthcheck")?;
    let Node::Mapping(hc) = hc_entry.value().resolve()? else {
        return None;
    };
    if let Some((e, _)) = hc.get_merged("disable") {
        let v = e.value().resolve()?;
        if v.as_scalar()
            .is_some_and(|s| s.value().eq_ignore_ascii_case("true"))
        {
            return Some((hc_entry, e, "`disable: true`".to_owned()));
        }
    }
    let (e, _) = hc.get_merged("test")?;
    let none = match e.value().resolve()? {
        Node::Scalar(s) => s.value().trim() == "NONE",
        Node::Sequence(seq) => seq
            .get(0)
            .and_then(|i| i.value().resolve())
            .and_then(|n| n.as_str().map(|s| s.trim() == "NONE"))
            .unwrap_or(false),
        _ => false,
    };
    none.then(|| (hc_entry, e, "`test: NONE`".to_owned()))
}

fn non_empty(svc: &Service, key: &str) -> bool {
    match svc.value(key) {
        Some(Node::Sequence(s)) => !s.is_empty(),
        Some(Node::Mapping(m)) => !m.is_empty(),
        Some(n) => !n.is_null(),
        None => false,
    }
}

/// Why the service is long-running, or None for one-shot jobs and profile-only tools.
fn long_running(svc: &Service) -> Option<String> {
    let ports = non_empty(svc, "ports") || non_empty(svc, "expose");
    let restart_no = svc.str("restart").is_some_and(|r| r.trim() == "no")
        || svc
            .value("deploy")
            .and_then(|d| d.path(&["restart_policy", "condition"]))
            .and_then(|n| n.as_str().map(|s| s.trim() == "none"))
            .unwrap_or(false);
    let command = non_empty(svc, "command") || non_empty(svc, "entrypoint");
    if restart_no && command {
        return None;
    }
    if ports {
        return Some("it publishes or exposes ports".to_owned());
    }
    if non_empty(svc, "profiles") {
        return None;
    }
    let image = svc.image()?;
    crate::knowledge::is_server(&image).then(|| format!("`{}` is a server image", image.short()))
}

impl Check for HealthcheckDisabled {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = crate::compose::model::checked_services(ctx, file);
        // Keyed by the disabling entry: a healthcheck shared through an anchor is reported once.
        let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();
        for svc in &all {
            let Some((hc_entry, entry, how)) = disabling_entry(svc) else {
                continue;
            };
            let Some(why) = long_running(svc) else {
                continue;
            };
            let r = entry.range();
            hits.entry((r.start, r.end))
                .or_insert_with(|| (hc_entry, entry, how, Vec::new()))
                .3
                .push((svc.name.clone(), why));
        }
        hits.into_values()
            .map(|(hc_entry, entry, how, svcs)| {
                let names: Vec<String> = svcs.iter().map(|(n, _)| n.clone()).collect();
                let why = if svcs.len() == 1 {
                    format!(" ({})", svcs[0].1)
                } else {
                    String::new()
                };
                let message = format!(
                    "{} disable{} the healthcheck with {how} although {} long-running{why}: a hung server then looks healthy. Remove it and write a `test:` that probes the service",
                    who(&names),
                    if names.len() == 1 { "s" } else { "" },
                    if names.len() == 1 { "it is" } else { "they are" },
                );
                // The suggestion: drop the switch, or the whole healthcheck when it holds nothing
                // else (an own entry of the service; an inherited one stays as it is).
                let hc_len = hc_entry
                    .value()
                    .resolve()
                    .and_then(|n| n.as_mapping().map(crate::yaml::Mapping::len))
                    .unwrap_or(0);
                let same_mapping = entry.mapping().range()
                    == hc_entry.value().resolve().map_or(entry.range(), |n| n.range());
                let edits: Vec<Edit> = if hc_len == 1 && same_mapping && names.len() == 1 {
                    hc_entry.remove().unwrap_or_default()
                } else {
                    entry.remove().unwrap_or_default()
                };
                Finding::new(Self::CODE, Self::NAME, entry.range(), message).with_fix(
                    Fix::display_only("Re-enable the healthcheck and give it a `test:`", edits),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::testing::{apply, check};

    #[test]
    fn suggestion_removes_the_switch() {
        let text = "\
services:
  db:
    image: postgres:16
    healthcheck:
      disable: true
    restart: always
  api:
    image: example/api:1
    ports: [\"80:80\"]
    healthcheck:
      test: [\"NONE\"]
      interval: 30s
";
        let f = check(&HealthcheckDisabled, text);
        assert_eq!(f.len(), 2);
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.applicability, crate::fix::Applicability::DisplayOnly);
        assert_eq!(
            apply(text, fix),
            text.replace("    healthcheck:\n      disable: true\n", "")
        );
        assert_eq!(
            apply(text, f[1].fix.as_ref().unwrap()),
            text.replace("      test: [\"NONE\"]\n", "")
        );
    }
}
