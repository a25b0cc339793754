use std::collections::BTreeMap;

use crate::compose::model::{
    append_items, edit_scope, edit_scope_for_key, insert_entries, merge_inserts, well_formed, yaml,
    EditScope, Service,
};
use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::{mask_secret, Finding};
use crate::fix::{Fix, SemanticPath};
use crate::knowledge::{is_flag_value, is_hardcoded_secret, reads_file_env};
use crate::registry::{Check, Context};
use crate::yaml::{double_quoted, single_quoted, Entry, Mapping, Node, Origin, Scalar, YamlFile};

declare_transform! {
    /// ## What it does
    /// Flags `environment` entries (mapping form `KEY: value` and list form `- KEY=value`) whose
    /// name looks like a credential (`*_PASSWORD`, `*_TOKEN`, `*_SECRET`, `API_KEY`, ...) and
    /// whose value is a literal (`${VAR}` interpolation is not one; switches such as
    /// `MYSQL_ALLOW_EMPTY_PASSWORD: "yes"` are not credentials). For images whose entrypoint reads
    /// `<NAME>_FILE` for that variable (postgres, mysql, mariadb, mongo, wordpress, nextcloud: see
    /// the knowledge base's `file-env`), the fix moves the value into a compose secret: the entry
    /// becomes `NAME_FILE: /run/secrets/<name>`, the service gets `secrets: [<name>]`, and a
    /// top-level `secrets: <name>: environment: NAME` takes the value from the environment of
    /// whoever runs `docker compose` (Compose 2.x). The literal is not written anywhere else: export
    /// `NAME` before starting the stack. `env_file` is out of scope.
    ///
    /// ## Why is this bad?
    /// A password written in the compose file is in every clone of the repository and its history, and in the container's environment it is shown by `docker inspect` and inherited by every process.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db:
    ///     image: postgres:16
    ///     environment:
    ///       POSTGRES_PASSWORD: example
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   db:
    ///     image: postgres:16
    ///     environment:
    ///       POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password
    ///     secrets:
    ///       - postgres_password
    /// secrets:
    ///   postgres_password:
    ///     environment: POSTGRES_PASSWORD
    /// ```
    /// and `export POSTGRES_PASSWORD=...` (for example from a password manager) before
    /// `docker compose up`.
    ///
    /// ## Fix safety
    /// Unsafe: the stack no longer starts until `NAME` is exported (Compose fails on a missing
    /// secret source), and a value that was already used to initialise a database must be exported
    /// unchanged. When two services define the same variable differently, the environment
    /// variable and the secret are named after the service (`DB2_POSTGRES_PASSWORD`). For other
    /// images the fix is display-only: it shows the value replaced by `${NAME}` (read from the
    /// environment or an `.env` file kept out of the repository); whether the application can read
    /// a secret file instead is for a human to decide. When the entry comes from an anchor shared
    /// by several services, the anchor is edited only when every one of them reads `NAME_FILE`;
    /// otherwise a service whose whole `environment` is inherited gets its own copy (without the
    /// literal), or the fix is display-only. Values are masked in every message.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use Docker Secrets ... for sensitive data", "DO NOT embed secrets in
    /// environment variables", "Avoid hardcoded credentials in container configurations".
    /// compose-lint CL-0020; OWASP Docker Security Cheat Sheet rule 12.
    pub struct SecretInEnvironment => "DC011", "secret-in-environment", Compose, Sometimes;
}

/// One credential with a literal value, and the services that see it.
#[derive(Clone)]
struct Hit {
    /// The mapping entry (mapping form), or None (list form).
    entry: Option<Entry>,
    /// The scalar holding the value (mapping form) or `KEY=value` (list form).
    scalar: Scalar,
    /// Where the finding points: the entry or the item.
    range: crate::text::TextRange,
    var: String,
    value: String,
    services: Vec<String>,
}

/// The environment of a service: (entry, origin) and its resolved node.
fn environment(svc: &Service) -> Option<(Entry, Origin, Node)> {
    let (e, origin) = svc.get("environment")?;
    let n = e.value().resolve()?;
    Some((e, origin, n))
}

/// Every `(name, value node, entry)` of an environment, merge keys applied.
fn variables(env: &Node) -> Vec<(String, Option<Entry>, Node)> {
    let mut out = Vec::new();
    match env {
        Node::Mapping(m) => {
            for (e, _) in m.merged_entries() {
                out.push((e.key().to_owned(), Some(e.clone()), e.value()));
            }
        }
        Node::Sequence(s) => {
            for item in s.items() {
                let v = item.value();
                let Some(text) = v.resolve().and_then(|n| n.as_str().map(str::to_owned)) else {
                    continue;
                };
                let name = text.split('=').next().unwrap_or("").trim().to_owned();
                out.push((name, None, v));
            }
        }
        _ => {}
    }
    out
}

fn collect(all: &[Service]) -> Vec<Hit> {
    let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();
    for svc in all {
        let Some((_, _, env)) = environment(svc) else {
            continue;
        };
        for (name, entry, value_node) in variables(&env) {
            let Some(Node::Scalar(scalar)) = value_node.resolve() else {
                continue;
            };
            if scalar.is_null() {
                continue;
            }
            let value = match &entry {
                Some(_) => scalar.value().to_owned(),
                None => match scalar.value().split_once('=') {
                    Some((_, v)) => v.to_owned(),
                    None => continue,
                },
            };
            if !is_hardcoded_secret(&name, &value) || is_flag_value(&value) {
                continue;
            }
            let range = match &entry {
                Some(e) => e.range(),
                None => match value_node.parent() {
                    crate::yaml::Parent::Item(i) => i.range(),
                    _ => value_node.range(),
                },
            };
            let key = (range.start, range.end);
            let hit = hits.entry(key).or_insert_with(|| Hit {
                entry: entry.clone(),
                scalar: scalar.clone(),
                range,
                var: name.clone(),
                value: value.clone(),
                services: Vec::new(),
            });
            if !hit.services.contains(&svc.name) {
                hit.services.push(svc.name.clone());
            }
        }
    }
    hits.into_values().collect()
}

/// Where the value of a hit is written: the scalar (mapping form) or what follows `=` in it (list
/// form `- KEY=value`).
fn value_range(h: &Hit) -> crate::text::TextRange {
    let range = h.scalar.range();
    if h.entry.is_some() {
        return range;
    }
    match h.scalar.raw().find('=') {
        Some(eq) => crate::text::TextRange::new((range.start + eq + 1).min(range.end), range.end),
        None => range,
    }
}

/// What the edit of a hit changes.
fn hit_scope(hit: &Hit) -> EditScope {
    match &hit.entry {
        Some(e) => {
            let m = e.mapping();
            let mut s = edit_scope_for_key(&m, &hit.var);
            s.extend(&edit_scope_for_key(&m, &format!("{}_FILE", hit.var)));
            s
        }
        None => edit_scope(&hit.scalar.as_node()),
    }
}

/// Why a Swarm stack file gets only a suggestion.
const STACK_REASON: &str = "this looks like a Swarm stack file, and `docker stack deploy` does not take `environment:` as a secret source (create the secret with `docker secret create` and declare it `external: true`)";

/// A Swarm stack file (`docker-stack.yml`, `stack.yml`): deployed with `docker stack deploy`.
fn is_stack_file(path: &str) -> bool {
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    name.contains("stack") && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

/// A variable name as a valid upper-case identifier part.
fn ident(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The top-level `secrets` of the document.
struct TopLevel {
    root: Option<Mapping>,
    entry: Option<Entry>,
    /// Existing secret name → its `environment` source, if any.
    existing: BTreeMap<String, Option<String>>,
}

fn top_level(svc: &Service) -> TopLevel {
    let root = svc.entry.mapping().parent();
    let root = match root {
        crate::yaml::Parent::EntryValue(e) => Some(e.mapping()),
        _ => None,
    };
    let entry = root.as_ref().and_then(|r| r.get("secrets"));
    let mut existing = BTreeMap::new();
    if let Some(Node::Mapping(m)) = entry.as_ref().and_then(|e| e.value().resolve()) {
        for e in m.entries() {
            let env = e
                .value()
                .resolve()
                .and_then(|v| v.as_mapping().and_then(|m| m.get("environment")))
                .and_then(|x| x.value().as_str().map(str::to_owned));
            existing.insert(e.key().to_owned(), env);
        }
    }
    TopLevel {
        root,
        entry,
        existing,
    }
}

/// The names chosen for a hit: the compose secret and the environment variable it is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Names {
    secret: String,
    source: String,
    /// The top-level definition already exists.
    exists: bool,
}

fn names_for(hit: &Hit, all: &[Hit], defs: &[(String, (usize, usize))], top: &TopLevel) -> Names {
    let own = (hit.range.start, hit.range.end);
    let clash = defs.iter().any(|(v, r)| *v == hit.var && *r != own)
        || all.iter().any(|h| h.var == hit.var && h.range != hit.range);
    let source = if clash {
        format!("{}_{}", ident(&hit.services[0]), hit.var)
    } else {
        hit.var.clone()
    };
    let base = source.to_ascii_lowercase();
    let mut secret = base.clone();
    for n in 2..100 {
        match top.existing.get(&secret) {
            None => break,
            Some(Some(env)) if *env == source => {
                return Names {
                    secret,
                    source,
                    exists: true,
                }
            }
            Some(_) => secret = format!("{base}_{n}"),
        }
    }
    Names {
        secret,
        source,
        exists: false,
    }
}

/// Every environment variable defined by any service (with `_FILE` stripped), with its location.
fn definitions(all: &[Service]) -> Vec<(String, (usize, usize))> {
    let mut out = Vec::new();
    for svc in all {
        let Some((_, _, env)) = environment(svc) else {
            continue;
        };
        for (name, entry, value) in variables(&env) {
            let base = name.strip_suffix("_FILE").unwrap_or(&name).to_owned();
            let r = match (&entry, value.parent()) {
                (Some(e), _) => e.range(),
                (None, crate::yaml::Parent::Item(i)) => i.range(),
                _ => value.range(),
            };
            if !out
                .iter()
                .any(|(n, x)| *n == base && *x == (r.start, r.end))
            {
                out.push((base, (r.start, r.end)));
            }
        }
    }
    out
}

/// The secret's path in the container for a service that lists it (a long-syntax `target` moves it).
const SECRETS_DIR: &str = "/run/secrets";

/// The edits renaming a hit's entry to `NAME_FILE: /run/secrets/<secret>`.
fn rename(file: &YamlFile, hit: &Hit, secret: &str) -> Option<Vec<Edit>> {
    let path = format!("{SECRETS_DIR}/{secret}");
    match &hit.entry {
        Some(e) => {
            let key_raw = e.key_range().slice(file.text());
            let new_key = format!("{}_FILE", hit.var);
            let key_text = if key_raw.starts_with('"') {
                double_quoted(&new_key)
            } else if key_raw.starts_with('\'') {
                single_quoted(&new_key).unwrap_or_else(|| double_quoted(&new_key))
            } else {
                new_key
            };
            Some(vec![
                Edit::replace(e.key_range(), key_text),
                hit.scalar.replace(&path),
            ])
        }
        None => Some(vec![hit
            .scalar
            .replace(&format!("{}_FILE={path}", hit.var))]),
    }
}

/// The display-only edit: the literal replaced by `${NAME}`.
fn interpolate(hit: &Hit) -> Vec<Edit> {
    let reference = format!("${{{}}}", hit.var);
    match &hit.entry {
        Some(_) => vec![hit.scalar.replace(&reference)],
        None => vec![hit.scalar.replace(&format!("{}={reference}", hit.var))],
    }
}

/// Whether a service's `secrets` already grants `name`.
fn grants(svc: &Service, name: &str) -> bool {
    let Some(Node::Sequence(seq)) = svc.value("secrets") else {
        return false;
    };
    seq.items().iter().any(|i| match i.value().resolve() {
        Some(Node::Scalar(s)) => s.value() == name,
        Some(Node::Mapping(m)) => {
            m.get_merged("source")
                .and_then(|(e, _)| e.value().as_str().map(str::to_owned))
                .as_deref()
                == Some(name)
                && m.get_merged("target").is_none()
        }
        _ => false,
    })
}

/// Raw single-line scalar texts of a sequence, to repeat inherited items in an own list.
fn raw_items(seq: &crate::yaml::Sequence) -> Option<Vec<String>> {
    seq.items()
        .iter()
        .map(|i| match i.value() {
            Node::Scalar(s) if !s.raw().contains('\n') => Some(s.raw().to_owned()),
            _ => None,
        })
        .collect()
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("- {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Edits granting `names` to `svc` (its `secrets` list), changing only services in `allowed`.
fn grant(
    file: &YamlFile,
    svc: &Service,
    names: &[String],
    allowed: &[String],
) -> Option<(Vec<Edit>, EditScope)> {
    let names: Vec<String> = names.iter().filter(|n| !grants(svc, n)).cloned().collect();
    if names.is_empty() {
        return Some((Vec::new(), EditScope::default()));
    }
    let within = |s: &EditScope| !s.foreign && s.services.iter().all(|x| allowed.contains(x));
    let m = &svc.mapping;
    match svc.get("secrets") {
        None => {
            let scope = edit_scope_for_key(m, "secrets");
            within(&scope).then_some(())?;
            let edits = insert_entries(file, m, &[("secrets".into(), list(&names))]).ok()?;
            Some((edits, scope))
        }
        Some((e, origin)) => {
            let value = e.value();
            match value.resolve()? {
                Node::Sequence(seq) => {
                    let scope = edit_scope(&seq.as_node());
                    if within(&scope) {
                        let edits = append_items(file, &seq, &names).ok()?;
                        return Some((edits, scope));
                    }
                    // Shared with other services: an own list repeating the inherited items.
                    let mut items = raw_items(&seq)?;
                    items.extend(names);
                    if origin == Origin::Own {
                        let scope = edit_scope(&value);
                        within(&scope).then_some(())?;
                        let edits = e.replace_value(&list(&items)).ok()?;
                        return Some((edits, scope));
                    }
                    let scope = edit_scope_for_key(m, "secrets");
                    within(&scope).then_some(())?;
                    let edits =
                        insert_entries(file, m, &[("secrets".into(), list(&items))]).ok()?;
                    Some((edits, scope))
                }
                n if n.is_null() => {
                    let scope = edit_scope(&value);
                    within(&scope).then_some(())?;
                    let edits = e.replace_value(&list(&names)).ok()?;
                    Some((edits, scope))
                }
                _ => None,
            }
        }
    }
}

/// Edits defining the top-level secrets `defs` (name, environment variable).
fn define(
    file: &YamlFile,
    top: &TopLevel,
    doc: usize,
    defs: &[(String, String)],
) -> Option<(Vec<Edit>, SemanticPath)> {
    let path = SemanticPath::new(doc, ["secrets"]);
    if defs.is_empty() {
        return Some((Vec::new(), path));
    }
    let entries: Vec<(String, String)> = defs
        .iter()
        .map(|(n, v)| (n.clone(), format!("environment: {v}")))
        .collect();
    match &top.entry {
        None => {
            let fragment = entries
                .iter()
                .map(|(k, v)| format!("{k}:\n  {v}"))
                .collect::<Vec<_>>()
                .join("\n");
            let edits = top.root.as_ref()?.insert_entry("secrets", &fragment).ok()?;
            Some((edits, path))
        }
        Some(e) => match e.value() {
            Node::Mapping(m) => Some((insert_entries(file, &m, &entries).ok()?, path)),
            v if v.is_null() => {
                let fragment = entries
                    .iter()
                    .map(|(k, v)| format!("{k}:\n  {v}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                Some((e.replace_value(&fragment).ok()?, path))
            }
            _ => None,
        },
    }
}

/// Why a hit cannot be moved in place, or None.
fn in_place_refusal(
    config: &[crate::images::Entry],
    hit: &Hit,
    scope: &EditScope,
    by_name: &BTreeMap<&str, &Service>,
) -> Option<String> {
    if scope.foreign {
        return Some("the entry comes from an anchor used outside the services".into());
    }
    if hit.scalar.as_node().anchor().is_some() {
        return Some("the value is an anchor other places may use".into());
    }
    if let Some(e) = &hit.entry {
        if matches!(e.value(), Node::Alias(_)) {
            return Some("the value is an alias".into());
        }
    }
    let unsupported: Vec<String> = scope
        .services
        .iter()
        .filter(|s| {
            by_name
                .get(s.as_str())
                .and_then(|svc| svc.image_hint())
                .is_none_or(|i| !reads_file_env(config, &i, &hit.var))
        })
        .cloned()
        .collect();
    if !unsupported.is_empty() {
        let who = unsupported
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ");
        return Some(if scope.services.len() == 1 {
            format!("the image of {who} is not known to read `{}_FILE`", hit.var)
        } else {
            format!(
                "the entry is shared with {who}, whose image is not known to read `{}_FILE`",
                hit.var
            )
        });
    }
    let both = scope.services.iter().any(|s| {
        by_name.get(s.as_str()).is_some_and(|svc| {
            environment(svc).is_some_and(|(_, _, env)| {
                variables(&env)
                    .iter()
                    .any(|(n, _, _)| *n == format!("{}_FILE", hit.var))
            })
        })
    });
    if both {
        return Some(format!("`{}_FILE` is already set", hit.var));
    }
    None
}

/// A single-line scalar's source text, or None.
fn raw_scalar(n: &Node) -> Option<String> {
    match n {
        Node::Scalar(s) if !s.raw().contains('\n') => Some(s.raw().to_owned()),
        Node::Null(_) => Some(String::new()),
        _ => None,
    }
}

/// The service's own copy of its inherited `environment`, with its credentials moved to secrets:
/// for a service whose whole `environment` comes from an anchor that services which cannot take
/// the change share. None when the environment cannot be copied verbatim or would carry another
/// literal credential along.
fn own_fix(
    config: &[crate::images::Entry],
    file: &YamlFile,
    svc: &Service,
    hits: &[Hit],
    names: &BTreeMap<(usize, usize), Names>,
) -> Option<(Fix, Vec<String>)> {
    let (env_entry, origin, env) = environment(svc)?;
    let aliased = matches!(env_entry.value(), Node::Alias(_));
    if origin == Origin::Own && !aliased {
        return None;
    }
    let image = svc.image_hint()?;
    let mine: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.services.contains(&svc.name))
        .collect();
    let secret_of = |name: &str| -> Option<&Names> {
        let h = mine.iter().find(|h| h.var == name)?;
        names.get(&(h.range.start, h.range.end))
    };
    let mut lines: Vec<String> = Vec::new();
    let mut moved: Vec<String> = Vec::new();
    let mut defs: Vec<(String, String)> = Vec::new();
    let mut granted: Vec<String> = Vec::new();
    let vars = variables(&env);
    for (name, entry, value) in &vars {
        let is_secret = mine.iter().any(|h| h.var == *name);
        if is_secret {
            if !reads_file_env(config, &image, name)
                || vars.iter().any(|(n, _, _)| *n == format!("{name}_FILE"))
            {
                return None;
            }
            let n = secret_of(name)?;
            let path = format!("{SECRETS_DIR}/{}", n.secret);
            lines.push(match entry {
                Some(_) => format!("{name}_FILE: {path}"),
                None => format!("- {name}_FILE={path}"),
            });
            moved.push(name.clone());
            if !granted.contains(&n.secret) {
                granted.push(n.secret.clone());
            }
            if !n.exists && !defs.iter().any(|(d, _)| *d == n.secret) {
                defs.push((n.secret.clone(), n.source.clone()));
            }
            continue;
        }
        match entry {
            Some(e) => {
                if !matches!(e.key_node(), Node::Scalar(_)) || e.value().anchor().is_some() {
                    return None;
                }
                let key = e.key_range().slice(file.text()).to_owned();
                let v = raw_scalar(&e.value())?;
                lines.push(if v.is_empty() {
                    format!("{key}:")
                } else {
                    format!("{key}: {v}")
                });
            }
            None => lines.push(format!("- {}", raw_scalar(value)?)),
        }
    }
    if moved.is_empty() {
        return None;
    }
    let fragment = lines.join("\n");
    let mut edits: Vec<Edit> = if aliased && origin == Origin::Own {
        env_entry.replace_value(&fragment).ok()?
    } else {
        insert_entries(file, &svc.mapping, &[("environment".into(), fragment)]).ok()?
    };
    let mut scope = if aliased && origin == Origin::Own {
        edit_scope(&env_entry.value())
    } else {
        edit_scope_for_key(&svc.mapping, "environment")
    };
    if !scope.only(&svc.name) {
        return None;
    }
    let allowed = vec![svc.name.clone()];
    let (e, s) = grant(file, svc, &granted, &allowed)?;
    edits.extend(e);
    scope.extend(&s);
    let top = top_level(svc);
    let (e, path) = define(file, &top, svc.doc, &defs)?;
    edits.extend(e);
    let edits = merge_inserts(edits);
    if !well_formed(&edits) {
        return None;
    }
    let mut paths = scope.paths;
    paths.push(path);
    let title = format!(
        "Give `{}` its own `environment` with {} moved into compose secrets",
        svc.name,
        moved
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Some((Fix::unsafe_(title, edits).with_changes(paths), moved))
}

impl Check for SecretInEnvironment {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = crate::compose::model::checked_services(ctx, file);
        let by_name: BTreeMap<&str, &Service> = all.iter().map(|s| (s.name.as_str(), s)).collect();
        let hits = collect(&all);
        let defs = definitions(&all);
        let stack = ctx.path.is_some_and(is_stack_file);
        // Decide per hit: movable in place (with its scope), or why not.
        let decided: Vec<(Hit, EditScope, Option<String>)> = hits
            .iter()
            .map(|h| {
                let scope = hit_scope(h);
                let refusal = if stack {
                    Some(STACK_REASON.to_owned())
                } else {
                    in_place_refusal(&ctx.settings.images, h, &scope, &by_name)
                };
                (h.clone(), scope, refusal)
            })
            .collect();
        // Clusters: services connected by movable hits; one fix per cluster.
        let mut cluster_of: BTreeMap<String, usize> = BTreeMap::new();
        let mut clusters: Vec<Vec<String>> = Vec::new();
        for (_, scope, refusal) in &decided {
            if refusal.is_some() {
                continue;
            }
            let ids: Vec<usize> = scope
                .services
                .iter()
                .filter_map(|s| cluster_of.get(s).copied())
                .collect();
            let target = ids.iter().copied().min().unwrap_or(clusters.len());
            if target == clusters.len() {
                clusters.push(Vec::new());
            }
            for id in ids {
                if id != target {
                    let moved = std::mem::take(&mut clusters[id]);
                    for s in &moved {
                        cluster_of.insert(s.clone(), target);
                    }
                    clusters[target].extend(moved);
                }
            }
            for s in &scope.services {
                if !clusters[target].contains(s) {
                    clusters[target].push(s.clone());
                }
                cluster_of.insert(s.clone(), target);
            }
        }
        let mut fixes: BTreeMap<usize, Option<(Fix, Vec<String>)>> = BTreeMap::new();
        let mut names: BTreeMap<(usize, usize), Names> = BTreeMap::new();
        for h in &hits {
            let Some(svc) = by_name.get(h.services[0].as_str()) else {
                continue;
            };
            let top = top_level(svc);
            names.insert(
                (h.range.start, h.range.end),
                names_for(h, &hits, &defs, &top),
            );
        }
        for (id, members) in clusters.iter().enumerate() {
            if members.is_empty() {
                continue;
            }
            let fix = self.cluster_fix(file, members, &decided, &names, &by_name);
            fixes.insert(id, fix);
        }
        let mut out = Vec::new();
        for (h, scope, refusal) in &decided {
            let n = &names[&(h.range.start, h.range.end)];
            let Some(reason) = refusal else {
                let cluster = scope.services.first().and_then(|s| cluster_of.get(s));
                let fix = cluster.and_then(|c| fixes.get(c)).cloned().flatten();
                out.push(self.finding(h, &h.services, n, fix.map(|(f, _)| f), None));
                continue;
            };
            let shared = !stack && (scope.foreign || scope.services.len() > 1);
            if !shared {
                out.push(self.finding(h, &h.services, n, None, Some((reason, scope))));
                continue;
            }
            // Shared with services that cannot take the change: a service whose whole
            // `environment` is inherited gets its own copy; the others keep a suggestion.
            let mut rest: Vec<String> = Vec::new();
            for svc_name in &h.services {
                let own = by_name
                    .get(svc_name.as_str())
                    .and_then(|svc| own_fix(&ctx.settings.images, file, svc, &hits, &names));
                match own {
                    Some((fix, _)) => out.push(self.finding(
                        h,
                        std::slice::from_ref(svc_name),
                        n,
                        Some(fix),
                        None,
                    )),
                    None => rest.push(svc_name.clone()),
                }
            }
            if !rest.is_empty() {
                let unsupported: Vec<&String> = rest
                    .iter()
                    .filter(|r| {
                        by_name
                            .get(r.as_str())
                            .and_then(|svc| svc.image_hint())
                            .is_none_or(|i| !reads_file_env(&ctx.settings.images, &i, &h.var))
                    })
                    .collect();
                let reason = if unsupported.len() == rest.len() {
                    format!(
                        "the image of {} is not known to read `{}_FILE`",
                        unsupported
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        h.var
                    )
                } else {
                    format!(
                        "{reason}, and the services' own `environment` cannot be written without copying it"
                    )
                };
                out.push(self.finding(h, &rest, n, None, Some((&reason, scope))));
            }
        }
        out
    }
}

impl SecretInEnvironment {
    /// A finding for `hit` as seen by `services`: with an applicable fix, or with the display-only
    /// suggestion when `refused` gives the reason.
    fn finding(
        &self,
        h: &Hit,
        services: &[String],
        n: &Names,
        fix: Option<Fix>,
        refused: Option<(&String, &EditScope)>,
    ) -> Finding {
        let who = if services.len() == 1 {
            format!("Service `{}` sets", services[0])
        } else {
            format!(
                "Services {} set",
                services
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut message = format!(
            "{who} the credential `{}` to a literal (`{}`) in the compose file: it is in every clone of the repository and in `docker inspect`",
            h.var,
            mask_secret(&h.value)
        );
        let finding = Finding::new(Self::CODE, Self::NAME, h.range, String::new())
            .with_secret(value_range(h));
        if let Some((reason, scope)) = refused {
            message.push_str(&format!(
                "; {reason}, so move it out of the file yourself (for example `${{{}}}` from the environment or an untracked .env file)",
                h.var
            ));
            let title = format!("Read `{}` from the environment", h.var);
            return Finding { message, ..finding }.with_fix(
                Fix::display_only(title, interpolate(h)).with_changes(scope.paths.clone()),
            );
        }
        match fix {
            Some(fix) => {
                message.push_str(&format!(
                    ". The fix moves it into the compose secret `{}`, read from the environment variable `{}`: export {} before `docker compose up`",
                    n.secret, n.source, n.source
                ));
                Finding { message, ..finding }.with_fix(fix)
            }
            None => {
                message.push_str("; no fix could be built without re-serializing the file");
                Finding { message, ..finding }
            }
        }
    }

    fn cluster_fix(
        &self,
        file: &YamlFile,
        members: &[String],
        decided: &[(Hit, EditScope, Option<String>)],
        names: &BTreeMap<(usize, usize), Names>,
        by_name: &BTreeMap<&str, &Service>,
    ) -> Option<(Fix, Vec<String>)> {
        let hits: Vec<(&Hit, &EditScope)> = decided
            .iter()
            .filter(|(_, s, r)| r.is_none() && s.services.iter().any(|x| members.contains(x)))
            .map(|(h, s, _)| (h, s))
            .collect();
        let mut edits: Vec<Edit> = Vec::new();
        let mut scope = EditScope::default();
        let mut per_service: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut defs: Vec<(String, String)> = Vec::new();
        let mut moved: Vec<String> = Vec::new();
        for (h, s) in &hits {
            let n = names.get(&(h.range.start, h.range.end))?;
            edits.extend(rename(file, h, &n.secret)?);
            scope.extend(s);
            for svc in &s.services {
                let list = per_service.entry(svc.clone()).or_default();
                if !list.contains(&n.secret) {
                    list.push(n.secret.clone());
                }
            }
            if !n.exists && !defs.iter().any(|(d, _)| *d == n.secret) {
                defs.push((n.secret.clone(), n.source.clone()));
            }
            moved.push(h.var.clone());
        }
        for (svc_name, secret_names) in &per_service {
            let svc = by_name.get(svc_name.as_str())?;
            let (e, s) = grant(file, svc, secret_names, members)?;
            edits.extend(e);
            scope.extend(&s);
        }
        let first = by_name.get(members[0].as_str())?;
        let top = top_level(first);
        let (e, path) = define(file, &top, first.doc, &defs)?;
        edits.extend(e);
        let edits = merge_inserts(edits);
        if !well_formed(&edits) {
            return None;
        }
        let mut paths = scope.paths;
        paths.push(path);
        let title = if moved.len() == 1 {
            format!("Move `{}` into a compose secret", moved[0])
        } else {
            format!(
                "Move {} into compose secrets",
                moved
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Some((Fix::unsafe_(title, edits).with_changes(paths), moved))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::scope::testing;
    use crate::fix::Applicability;
    use crate::settings::Settings;

    #[test]
    fn suggestions_reference_the_environment_and_never_print_the_value() {
        let t = "services:\n  api:\n    image: example/api:1\n    environment:\n      API_TOKEN: hunter2hunter2\n  w:\n    image: example/w:1\n    environment:\n      - \"DB_PASS=s3cr3t-value\"\n";
        let f = testing::check(&SecretInEnvironment, t, &Settings::default());
        assert_eq!(f.len(), 2);
        for x in &f {
            let fix = x.fix.as_ref().unwrap();
            assert_eq!(fix.applicability, Applicability::DisplayOnly);
            assert!(!x.message.contains("hunter2hunter2") && !x.message.contains("s3cr3t-value"));
            assert!(!fix.title.contains("hunter2") && !fix.title.contains("s3cr3t"));
        }
        let out = testing::apply(t, &f[0].fix.as_ref().unwrap().edits);
        assert!(out.contains("API_TOKEN: ${API_TOKEN}\n"), "{out}");
        let out = testing::apply(t, &f[1].fix.as_ref().unwrap().edits);
        assert!(out.contains("- \"DB_PASS=${DB_PASS}\"\n"), "{out}");
    }

    #[test]
    fn the_literal_is_written_nowhere() {
        let t = "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: hunter2hunter2\n";
        let f = testing::check(&SecretInEnvironment, t, &Settings::default());
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.applicability, Applicability::Unsafe);
        let out = testing::apply(t, &fix.edits);
        assert!(!out.contains("hunter2"), "{out}");
        assert!(fix.edits.iter().all(|e| !e.replacement.contains("hunter2")));
    }

    #[test]
    fn identifiers() {
        assert_eq!(ident("db-2"), "DB_2");
        assert!(is_stack_file("deploy/docker-stack.yml"));
        assert!(!is_stack_file("docker-compose.yml"));
    }
}
