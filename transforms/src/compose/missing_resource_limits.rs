use std::collections::BTreeMap;

use crate::compose::model::{
    edit_scope, edit_scope_for_key, insert_entries, merge_inserts, uniform, well_formed, yaml,
    EditScope, Op, Service,
};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};
use crate::settings::LimitOptions;
use crate::yaml::{
    is_plain_safe, quoted, string_scalar, Entry, Mapping, Node, QuoteStyle, YamlFile,
};

declare_transform! {
    /// ## What it does
    /// Flags services without a memory, CPU or process-count limit, and adds the missing ones:
    /// `deploy.resources.limits.memory`, `.cpus` and `.pids`, or, for a service that already uses
    /// the service-level forms, `mem_limit`, `cpus` and `pids_limit`. Existing limits in either form
    /// are respected (a service with `mem_limit` has a memory limit: the other form is never added
    /// for the same resource); `cpu_quota` counts as a CPU limit. A limit of `0` or `-1` (or an
    /// empty value) means "unlimited" and is replaced in place. New keys go into the existing
    /// `deploy:`, `deploy.resources:` or `limits:` mapping where there is one, else into a new
    /// `deploy:` block. Services with `extends:` are skipped (their limits may come from elsewhere).
    ///
    /// ## Why is this bad?
    /// Without limits, one runaway or compromised container can take all the host's memory, CPU or process slots and starve every other service (a fork bomb needs no privilege).
    ///
    /// ## Example
    /// With `limits.memory = "512M"`, `limits.cpus = "0.5"` and `limits.pids = 200` configured:
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx:1.27
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx:1.27
    ///     deploy:
    ///       resources:
    ///         limits:
    ///           memory: 512M
    ///           cpus: 0.5
    ///           pids: 200
    /// ```
    ///
    /// ## Fix safety
    /// Only a human knows how much a service needs: without configured values the fix is
    /// display-only and shows the lines with a `TODO` placeholder. With values from the
    /// configuration it is unsafe: a limit that is too low gets the container OOM-killed or
    /// throttled. A configured memory limit below what the service itself asks for (a JVM
    /// `-Xmx` in its environment or command, plus a quarter for the rest of the process) or below
    /// the least memory its image documents (the knowledge base's `min-memory`) is only shown. When only some values are configured, those are applied and the rest stays a
    /// suggestion. When `deploy` (or its `resources` / `limits`) comes from an anchor shared by
    /// several services, the anchor is edited only when every service that uses it needs the same
    /// change; otherwise the service gets its own `mem_limit` / `cpus` / `pids_limit`, or the fix is
    /// display-only.
    ///
    /// ## Options
    /// `[options.limits]` in `.dockharden.toml`: `memory` (e.g. `"512M"`), `cpus` (e.g. `"0.5"`),
    /// `pids` (e.g. `200`).
    ///
    /// ## References
    /// Guideline: "Limit container resources (memory, CPU) in docker-compose or Kubernetes specs".
    /// CIS Docker Benchmark v1.2.0 5.10 (memory), 5.11 (CPU), 5.28 (PIDs cgroup limit);
    /// compose-lint CL-0026; OWASP Docker Security Cheat Sheet rule 7.
    pub struct MissingResourceLimits => "DC010", "missing-resource-limits", Compose, Sometimes;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Res {
    Memory,
    Cpus,
    Pids,
}

const ALL: [Res; 3] = [Res::Memory, Res::Cpus, Res::Pids];

impl Res {
    const fn label(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Cpus => "CPU",
            Self::Pids => "pids",
        }
    }

    const fn deploy_key(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Cpus => "cpus",
            Self::Pids => "pids",
        }
    }

    const fn legacy_key(self) -> &'static str {
        match self {
            Self::Memory => "mem_limit",
            Self::Cpus => "cpus",
            Self::Pids => "pids_limit",
        }
    }

    /// The question that makes this limit known (`[options.limits]`).
    fn question(self) -> crate::finding::Need {
        let (option, prompt) = match self {
            Self::Memory => ("limits.memory", "Memory limit for the services (e.g. 512M)"),
            Self::Cpus => ("limits.cpus", "CPU limit for the services (e.g. 0.5)"),
            Self::Pids => (
                "limits.pids",
                "Process-count limit for the services (e.g. 200)",
            ),
        };
        crate::finding::Need {
            option,
            key: None,
            prompt: prompt.into(),
            default: None,
        }
    }

    fn configured(self, limits: &LimitOptions) -> Option<String> {
        match self {
            Self::Memory => limits.memory.clone(),
            Self::Cpus => limits.cpus.clone(),
            Self::Pids => limits.pids.map(|p| p.to_string()),
        }
    }

    /// The value as a YAML scalar of the type compose expects.
    fn render(self, value: &str, quote: QuoteStyle) -> String {
        let numeric = value.parse::<f64>().is_ok();
        match self {
            // `memory` must be a string: `512` alone would be a number; `512M` is a string.
            Self::Memory if !numeric && is_plain_safe(value, false) => value.to_owned(),
            Self::Memory => quoted(value, quote),
            Self::Cpus if numeric => value.to_owned(),
            Self::Pids if value.parse::<i64>().is_ok() => value.to_owned(),
            _ => string_scalar(value, quote, false),
        }
    }
}

/// What a service has for one resource.
#[derive(Clone)]
enum Status {
    Set,
    /// Present but empty, `0` or `-1` (unlimited): replace the value of this entry.
    Replace(Entry),
    Missing,
}

/// `0`, `-1`, `0m`, `0.0`: unlimited. Interpolated values count as set.
fn unlimited(value: &str) -> bool {
    let v = value.trim();
    if v.contains('$') {
        return false;
    }
    let number = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    number.trim().parse::<f64>().is_ok_and(|n| n <= 0.0)
}

fn judge(entry: Entry) -> Status {
    match entry.value().resolve() {
        None => Status::Set,
        Some(n) if n.is_null() => Status::Replace(entry),
        Some(Node::Scalar(s)) if unlimited(s.value()) => Status::Replace(entry),
        Some(_) => Status::Set,
    }
}

/// The entry `key` of the mapping that `entry`'s value resolves to.
fn child(entry: Option<&Entry>, key: &str) -> Option<Entry> {
    let value = entry?.value().resolve()?;
    value.as_mapping()?.get_merged(key).map(|(e, _)| e)
}

fn resolved_mapping(entry: Option<&Entry>) -> Option<Mapping> {
    entry?.value().resolve()?.as_mapping().cloned()
}

fn null_value(entry: Option<&Entry>) -> bool {
    entry.is_some_and(|e| e.value().resolve().is_some_and(|n| n.is_null()))
}

struct View {
    deploy: Option<Entry>,
    resources: Option<Entry>,
    limits: Option<Entry>,
    /// The service uses a service-level form (`mem_limit`, `cpus`, `cpu_quota`, `pids_limit`).
    legacy: bool,
    status: [Status; 3],
}

fn view(svc: &Service) -> View {
    let deploy = svc.get("deploy").map(|(e, _)| e);
    let resources = child(deploy.as_ref(), "resources");
    let limits = child(resources.as_ref(), "limits");
    let legacy = ["mem_limit", "cpus", "cpu_quota", "pids_limit"]
        .iter()
        .any(|k| svc.get(k).is_some());
    let status = ALL.map(|res| {
        let mut found: Vec<Status> = Vec::new();
        if let Some((e, _)) = svc.get(res.legacy_key()) {
            found.push(judge(e));
        }
        if res == Res::Cpus && svc.get("cpu_quota").is_some() {
            found.push(Status::Set);
        }
        if let Some(e) = child(limits.as_ref(), res.deploy_key()) {
            found.push(judge(e));
        }
        if found.iter().any(|s| matches!(s, Status::Set)) {
            Status::Set
        } else {
            found.into_iter().next().unwrap_or(Status::Missing)
        }
    });
    View {
        deploy,
        resources,
        limits,
        legacy,
        status,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Where the values live: the existing `deploy` / `resources` / `limits`, shared or not.
    InPlace,
    /// Only the service's own mapping (service-level keys).
    Own,
}

/// The block fragment `k: v` lines for the given keys.
fn lines(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Insert `key: fragment` into the mapping `entry` resolves to, or set `entry`'s empty value.
fn nest(file: &YamlFile, entry: &Entry, key: &str, fragment: &str) -> Option<Op> {
    if null_value(Some(entry)) {
        let v = entry.value().resolve()?;
        let edits = entry
            .replace_value(&format!("{key}:\n{}", indent(fragment)))
            .ok()?;
        return Some(Op::new(&v, edits, edit_scope(&v)));
    }
    let m = resolved_mapping(Some(entry))?;
    let edits = insert_entries(file, &m, &[(key.to_owned(), fragment.to_owned())]).ok()?;
    Some(Op::new(&m.as_node(), edits, edit_scope_for_key(&m, key)))
}

/// The ops writing `writes` (resource, rendered value) for `svc`, or None when they cannot be made.
fn plan(
    file: &YamlFile,
    svc: &Service,
    v: &View,
    writes: &[(Res, String)],
    mode: Mode,
) -> Option<Vec<Op>> {
    let mut ops = Vec::new();
    let mut missing: Vec<(Res, String)> = Vec::new();
    for (res, value) in writes {
        match &v.status[*res as usize] {
            Status::Set => {}
            Status::Replace(e) => {
                let own = svc
                    .mapping
                    .get(e.key())
                    .is_some_and(|o| o.range() == e.range());
                if mode == Mode::Own && !own {
                    // Override an inherited service-level key; an inherited deploy limit cannot
                    // be overridden without copying the whole `deploy`.
                    if e.key() != res.legacy_key() {
                        return None;
                    }
                    missing.push((*res, value.clone()));
                    continue;
                }
                let target = e.value();
                let edits = e.replace_value(value).ok()?;
                ops.push(Op::new(&target, edits, edit_scope(&target)));
            }
            Status::Missing => missing.push((*res, value.clone())),
        }
    }
    if missing.is_empty() {
        return Some(ops);
    }
    let deploy_pairs: Vec<(String, String)> = missing
        .iter()
        .map(|(r, val)| (r.deploy_key().to_owned(), val.clone()))
        .collect();
    let legacy_pairs: Vec<(String, String)> = missing
        .iter()
        .map(|(r, val)| (r.legacy_key().to_owned(), val.clone()))
        .collect();
    let service_level = |ops: &mut Vec<Op>| -> Option<()> {
        let m = &svc.mapping;
        let edits = insert_entries(file, m, &legacy_pairs).ok()?;
        let mut scope = EditScope::default();
        for (k, _) in &legacy_pairs {
            scope.extend(&edit_scope_for_key(m, k));
        }
        ops.push(Op::new(&m.as_node(), edits, scope));
        Some(())
    };
    if mode == Mode::Own {
        service_level(&mut ops)?;
        return Some(ops);
    }
    let limits_fragment = lines(&deploy_pairs);
    if let Some(limits) = &v.limits {
        if null_value(Some(limits)) {
            let target = limits.value();
            let edits = limits.replace_value(&limits_fragment).ok()?;
            ops.push(Op::new(&target, edits, edit_scope(&target)));
        } else {
            let m = resolved_mapping(Some(limits))?;
            let edits = insert_entries(file, &m, &deploy_pairs).ok()?;
            let mut scope = EditScope::default();
            for (k, _) in &deploy_pairs {
                scope.extend(&edit_scope_for_key(&m, k));
            }
            ops.push(Op::new(&m.as_node(), edits, scope));
        }
    } else if v.legacy {
        service_level(&mut ops)?;
    } else if let Some(resources) = &v.resources {
        ops.push(nest(file, resources, "limits", &limits_fragment)?);
    } else if let Some(deploy) = &v.deploy {
        let fragment = format!("limits:\n{}", indent(&limits_fragment));
        ops.push(nest(file, deploy, "resources", &fragment)?);
    } else {
        let m = &svc.mapping;
        let fragment = format!(
            "resources:\n  limits:\n{}",
            indent(&indent(&limits_fragment))
        );
        let edits = m.insert_entry("deploy", &fragment).ok()?;
        ops.push(Op::new(
            &m.as_node(),
            edits,
            edit_scope_for_key(m, "deploy"),
        ));
    }
    Some(ops)
}

fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

struct Need {
    svc: Service,
    view: View,
    /// Resources without a limit.
    lacking: Vec<Res>,
    /// What the fix writes (configured values, or TODO placeholders when none is configured).
    writes: Vec<(Res, String)>,
    /// The values are placeholders.
    placeholder: bool,
    /// Why the configured memory limit does not fit this service (its own heap setting, the
    /// least memory its image documents).
    too_small: Option<String>,
}

/// A size in bytes: `512M`, `1g`, `1.5G`, `512Mi`, `2048k`, `536870912` (Docker's and the JVM's
/// suffixes, binary multiples).
fn bytes(size: &str) -> Option<f64> {
    let s = size.trim();
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = s[digits.len()..].to_ascii_lowercase();
    let n: f64 = digits.parse().ok()?;
    let k = 1024f64;
    let m = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 1.0,
        "k" => k,
        "m" => k * k,
        "g" => k * k * k,
        "t" => k * k * k * k,
        _ => return None,
    };
    Some(n * m)
}

/// The largest `-Xmx` a service sets in its environment or command.
fn heap(svc: &Service) -> Option<(f64, String)> {
    let mut texts: Vec<String> = Vec::new();
    let mut collect = |n: &crate::yaml::Node| match n {
        crate::yaml::Node::Scalar(s) => texts.push(s.value().to_owned()),
        crate::yaml::Node::Sequence(seq) => texts.extend(
            seq.items()
                .iter()
                .filter_map(|i| i.value().resolve()?.as_str().map(str::to_owned)),
        ),
        crate::yaml::Node::Mapping(m) => texts.extend(
            m.entries()
                .iter()
                .filter_map(|e| e.value().resolve()?.as_str().map(str::to_owned)),
        ),
        _ => {}
    };
    for key in ["environment", "command", "entrypoint"] {
        if let Some(v) = svc.value(key) {
            collect(&v);
        }
    }
    texts
        .iter()
        .flat_map(|t| t.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|w| {
            let size = w
                .trim_matches(|c| c == '"' || c == '\'')
                .strip_prefix("-Xmx")?
                .to_owned();
            Some((bytes(&size)?, w))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// Why `limit` is too small for `svc`: a JVM heap of its own plus a quarter for the rest of the
/// process (metaspace, threads, buffers), or the least memory its image documents.
fn memory_too_small(ctx: &Context<'_>, svc: &Service, limit: &str) -> Option<String> {
    let limit_bytes = bytes(limit)?;
    if let Some((h, written)) = heap(svc) {
        if h * 1.25 > limit_bytes {
            return Some(format!(
                "it sets `{written}`, and a JVM needs about a quarter more than its heap"
            ));
        }
    }
    let needs = svc.needs(ctx);
    let min = needs.facts.as_ref()?.min_memory.clone()?;
    (bytes(&min)? > limit_bytes).then(|| {
        format!(
            "`{}` needs at least {min} ({})",
            needs.subject, needs.source
        )
    })
}

impl Check for MissingResourceLimits {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let quote = file.preferred_quote();
        let limits = &ctx.settings.limits;
        let needs: Vec<Need> = crate::compose::model::checked_services(ctx, file)
            .into_iter()
            .filter(|svc| !svc.extends())
            .filter_map(|svc| {
                let view = view(&svc);
                let lacking: Vec<Res> = ALL
                    .into_iter()
                    .filter(|r| !matches!(view.status[*r as usize], Status::Set))
                    .collect();
                if lacking.is_empty() {
                    return None;
                }
                let configured: Vec<(Res, String)> = lacking
                    .iter()
                    .filter_map(|r| r.configured(limits).map(|v| (*r, r.render(&v, quote))))
                    .collect();
                let placeholder = configured.is_empty();
                let writes = if placeholder {
                    lacking.iter().map(|r| (*r, "TODO".to_owned())).collect()
                } else {
                    configured
                };
                let too_small = writes
                    .iter()
                    .find(|(r, _)| matches!(r, Res::Memory))
                    .and(limits.memory.as_deref())
                    .filter(|_| !placeholder)
                    .and_then(|m| memory_too_small(ctx, &svc, m));
                Some(Need {
                    svc,
                    view,
                    lacking,
                    writes,
                    placeholder,
                    too_small,
                })
            })
            .collect();
        let preferred: BTreeMap<String, Vec<Op>> = needs
            .iter()
            .filter_map(|n| {
                plan(file, &n.svc, &n.view, &n.writes, Mode::InPlace)
                    .map(|ops| (n.svc.name.clone(), ops))
            })
            .collect();
        needs
            .iter()
            .map(|n| self.finding(file, n, &preferred, limits))
            .collect()
    }
}

impl MissingResourceLimits {
    fn finding(
        &self,
        file: &YamlFile,
        n: &Need,
        preferred: &BTreeMap<String, Vec<Op>>,
        limits: &LimitOptions,
    ) -> Finding {
        let name = &n.svc.name;
        let lacking: Vec<String> = n
            .lacking
            .iter()
            .map(|r| format!("no {} limit", r.label()))
            .collect();
        let mut message = format!(
            "Service `{name}` has {}: one runaway or compromised container can starve the host",
            and_list(&lacking)
        );
        let unconfigured: Vec<String> = n
            .lacking
            .iter()
            .filter(|r| r.configured(limits).is_none())
            .map(|r| format!("`{}`", r.deploy_key()))
            .collect();
        if !unconfigured.is_empty() {
            message.push_str(&format!(
                "; set {} under `[options.limits]` in .dockharden.toml, or answer in `fix --interactive`, to apply a fix",
                and_list(&unconfigured)
            ));
        }
        let range = n.svc.key_range();
        let finding = Finding::new(Self::CODE, Self::NAME, range, message.clone());
        let in_place = preferred.get(name);
        let chosen = match in_place {
            Some(ops)
                if ops
                    .iter()
                    .all(|o| o.is_private_to(name) || uniform(o, preferred)) =>
            {
                Some(ops.clone())
            }
            _ => plan(file, &n.svc, &n.view, &n.writes, Mode::Own)
                .filter(|ops| ops.iter().all(|o| o.is_private_to(name))),
        };
        let written: Vec<String> = n
            .writes
            .iter()
            .map(|(r, _)| format!("{} {}", r.label(), r.configured(limits).unwrap_or_default()))
            .collect();
        let title = if n.placeholder {
            format!(
                "Add {} limits (values to fill in)",
                and_list(
                    &n.writes
                        .iter()
                        .map(|(r, _)| r.label().to_owned())
                        .collect::<Vec<_>>(),
                )
            )
        } else {
            format!(
                "Set the {} limit{}",
                and_list(&written),
                if written.len() > 1 { "s" } else { "" }
            )
        };
        let (ops, shared_refusal) = match chosen {
            Some(ops) => (ops, false),
            None => match in_place {
                Some(ops) => (ops.clone(), true),
                None => return finding,
            },
        };
        let edits = merge_inserts(ops.iter().flat_map(|o| o.edits.clone()).collect());
        if edits.is_empty() || !well_formed(&edits) {
            return finding;
        }
        let mut scope = EditScope::default();
        for o in &ops {
            scope.extend(&o.scope);
        }
        let fix = if n.placeholder {
            Fix::display_only(title, edits)
        } else if let Some(why) = &n.too_small {
            message.push_str(&format!(
                "; the configured memory limit {} is too small for it: {why}, so the fix is only shown (give it its own limit)",
                limits.memory.as_deref().unwrap_or_default()
            ));
            Fix::display_only(title, edits)
        } else if shared_refusal {
            message.push_str(
                "; its `deploy` is shared with services that need a different change, so the fix is only shown",
            );
            Fix::display_only(title, edits)
        } else {
            Fix::unsafe_(title, edits)
        };
        let mut finding = finding;
        finding.message = message;
        let finding = finding.with_fix(fix.with_changes(scope.paths));
        // Without configured values, `fix --interactive` asks for them, one resource at a time.
        match n.lacking.first() {
            Some(r) if n.placeholder => finding.with_need(r.question()),
            _ => finding,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::scope::testing;
    use crate::settings::Settings;

    #[test]
    fn unlimited_values() {
        for v in ["0", "-1", "0m", "0.0", " 0 "] {
            assert!(unlimited(v), "{v}");
        }
        for v in ["512M", "1", "0.5", "${MEM:-0}", "1g"] {
            assert!(!unlimited(v), "{v}");
        }
    }

    #[test]
    fn rendering() {
        assert_eq!(Res::Memory.render("512M", QuoteStyle::Double), "512M");
        assert_eq!(Res::Memory.render("1.5", QuoteStyle::Double), "\"1.5\"");
        assert_eq!(Res::Memory.render("512", QuoteStyle::Single), "'512'");
        assert_eq!(Res::Cpus.render("0.5", QuoteStyle::Double), "0.5");
        assert_eq!(Res::Pids.render("200", QuoteStyle::Double), "200");
    }

    fn suggestion(text: &str) -> String {
        let f = testing::check(&MissingResourceLimits, text, &Settings::default());
        let fix = f[0].fix.as_ref().expect("a suggestion");
        assert_eq!(fix.applicability, crate::fix::Applicability::DisplayOnly);
        testing::apply(text, &fix.edits)
    }

    #[test]
    fn placeholders_show_the_exact_lines() {
        assert_eq!(
            suggestion("services:\n  web:\n    image: nginx:1.27\n"),
            "services:\n  web:\n    image: nginx:1.27\n    deploy:\n      resources:\n        limits:\n          memory: TODO\n          cpus: TODO\n          pids: TODO\n"
        );
        assert_eq!(
            suggestion("services:\n  web:\n    image: nginx:1.27\n    mem_limit: 1g\n"),
            "services:\n  web:\n    image: nginx:1.27\n    mem_limit: 1g\n    cpus: TODO\n    pids_limit: TODO\n"
        );
    }
}
