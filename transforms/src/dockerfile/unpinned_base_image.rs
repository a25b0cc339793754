use std::collections::{BTreeMap, BTreeSet};

use crate::declare_transform;
use crate::dockerfile::dockerfile;
use crate::dockerfile::syntax::{Dockerfile, Instruction};
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::{Applicability, Fix};
use crate::knowledge::{pin_for, pinned_suffix, ImageName};
use crate::registry::{Check, Context};
use crate::text::TextRange;

declare_transform! {
    /// ## What it does
    /// Flags `FROM` instructions whose image has no tag or the `latest` tag, and no digest, and pins them
    /// from the pin table of the configuration (or the injected image resolver).
    ///
    /// ## Why is this bad?
    /// An unpinned base image changes under you: the same Dockerfile builds a different image tomorrow, and a compromised or broken `latest` lands silently.
    ///
    /// `FROM scratch` and `FROM <earlier stage>` (stage names compare case-insensitively, like BuildKit)
    /// are not images and are never flagged, nor is a reference that is not one (a documentation
    /// placeholder such as `FROM ImageName`). Images given through `ARG` defaults are analysed through
    /// the ARG: with `ARG BASE=python` before the first `FROM`, `FROM ${BASE}` is `python` (unpinned);
    /// `${BASE:-python}` / `${BASE-python}` / `${X:+alt}` are expanded like BuildKit does. A variable
    /// without a default (`ARG BASE` alone, or an undeclared one such as `TARGETOS`) makes the image
    /// unknown: no finding.
    ///
    /// ## Example
    /// ```dockerfile
    /// ARG BASE=python
    /// FROM ${BASE}
    /// FROM node:latest
    /// ```
    /// with `[options.pins]` `python = "3.12-slim"` and `node = "22-alpine@sha256:…"` becomes
    /// ```dockerfile
    /// ARG BASE=python:3.12-slim
    /// FROM ${BASE}
    /// FROM node:22-alpine@sha256:…
    /// ```
    ///
    /// ## Fix safety
    /// The tag comes from the user's pin table (`[options.pins]`, keyed by the image name as written or its
    /// short form, e.g. `python` or `ghcr.io/org/app`), else from the injected `ImageResolver` (the
    /// offline default knows nothing). Without either the fix is display-only: it shows `image:<tag>`
    /// and never guesses a version.
    ///
    /// Safe only when the pin keeps the tag the build uses today and only adds a digest (a pin
    /// `@sha256:…`, or `<same tag>@sha256:…`; no tag counts as `latest`): the user states in the config
    /// that this digest is that tag. Every other pin is Unsafe: a different tag is a different image
    /// (another OS release or runtime version) and can break the build or the container.
    ///
    /// The edit goes where the tag is written: the `FROM` itself, or the default of the `ARG` the
    /// image comes from (`ARG BASE=python` → `ARG BASE=python:3.12-slim`; `ARG TAG=latest` →
    /// `ARG TAG=3.12-slim`), never the `FROM` when the ARG carries the image. An ARG shared by several
    /// `FROM`s is edited only when every one of them gets the very same edit; otherwise the fix stays
    /// display-only. A pin keeps the written tag next to a bare digest (`python:3.12@sha256:…`).
    ///
    /// With `--resolve` the resolver is the image's registry: a tag without a digest is flagged
    /// too, every reference is pinned to `tag@sha256:<digest>` (the digest the registry serves for
    /// the tag as written; for `latest` or no tag, the most specific version tag with the same
    /// digest, else `latest@sha256:…` and the message says so), and such a pin is Safe: it names
    /// the image the reference gets today. A pin whose tag now points to another digest is
    /// reported as stale, with a fix applied only under `--update-pins`. An image the local
    /// Docker Engine has without a registry digest for its repository was built there: no
    /// registry is asked and no pin is proposed.
    ///
    /// ## Options
    /// `[options.pins]`: image name → `tag`, `tag@sha256:…` or `@sha256:…`.
    ///
    /// ## References
    /// Guideline: "Pin base image versions (avoid `latest` tags in production)". hadolint DL3006 (no
    /// tag) and DL3007 (`latest`), checkov CKV_DOCKER_7, trivy AVD-DS-0001.
    pub struct UnpinnedBaseImage => "DF003", "unpinned-base-image", Dockerfile, Sometimes;
}

// ------------------------------------------------------------------------------------------------
// ARG expansion with a map back to the original text
// ------------------------------------------------------------------------------------------------

/// An expanded string and, for each of its bytes, the original offset it was copied from (None when
/// it cannot be mapped, e.g. a reference that spans a line continuation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Expanded {
    bytes: Vec<u8>,
    locs: Vec<Option<usize>>,
}

impl Expanded {
    fn push(&mut self, b: u8, loc: Option<usize>) {
        self.bytes.push(b);
        self.locs.push(loc);
    }

    fn extend(&mut self, other: &Self) {
        self.bytes.extend_from_slice(&other.bytes);
        self.locs.extend_from_slice(&other.locs);
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The original range the bytes `start..end` were copied from, when they are contiguous there.
    fn original(&self, start: usize, end: usize) -> Option<TextRange> {
        if start >= end || end > self.locs.len() {
            return None;
        }
        let first = self.locs[start]?;
        for (k, loc) in self.locs[start..end].iter().enumerate() {
            if *loc != Some(first + k) {
                return None;
            }
        }
        Some(TextRange::new(first, first + (end - start)))
    }
}

/// The value of a global build argument.
#[derive(Clone, Debug)]
enum Var {
    /// Declared with a default (possibly empty).
    Known(Expanded),
    /// Declared without a default.
    Unset,
    /// Its default cannot be worked out statically.
    Unknown,
}

/// Global `ARG`s (before the first `FROM`): values, raw defaults and where each is declared.
#[derive(Default)]
pub(crate) struct GlobalArgs {
    vars: BTreeMap<String, Var>,
    /// name → raw default (for the transitive references of a `FROM`).
    raw: BTreeMap<String, String>,
    /// name → (instruction index, the pair's range) of its last declaration.
    decl: BTreeMap<String, (usize, TextRange)>,
    escape: char,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The `}` matching the `${` whose content starts at `from`.
fn matching_brace(b: &[u8], from: usize, end: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut i = from;
    while i < end {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 2;
            continue;
        }
        if b[i] == b'}' {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// The variable names `raw` refers to (`$NAME`, `${NAME...}`), nested ones included.
fn var_refs(raw: &str) -> Vec<String> {
    let b = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let s = if b.get(i + 1) == Some(&b'{') {
                i + 2
            } else {
                i + 1
            };
            let mut e = s;
            if e < b.len() && is_name_start(b[e]) {
                while e < b.len() && is_name_char(b[e]) {
                    e += 1;
                }
                out.push(raw[s..e].to_owned());
                i = e;
                continue;
            }
        }
        i += 1;
    }
    out
}

impl GlobalArgs {
    /// Collect the `ARG`s before the first `FROM`, expanding each default with the ones before it.
    pub(crate) fn collect(df: &Dockerfile, text: &str) -> Self {
        let mut g = Self {
            escape: df.escape,
            ..Self::default()
        };
        for (idx, ins) in df.instructions.iter().enumerate() {
            if ins.keyword == "FROM" {
                break;
            }
            if ins.keyword != "ARG" {
                continue;
            }
            for kv in ins.key_values() {
                let var = match kv.value_range {
                    None => {
                        if g.vars.contains_key(&kv.key) {
                            Var::Unknown
                        } else {
                            Var::Unset
                        }
                    }
                    Some(r) => {
                        let raw = r.slice(text);
                        g.raw.insert(kv.key.clone(), raw.to_owned());
                        if raw.contains('\n') {
                            Var::Unknown
                        } else {
                            g.expand(raw, &|k| Some(r.start + k))
                                .map_or(Var::Unknown, Var::Known)
                        }
                    }
                };
                g.vars.insert(kv.key.clone(), var);
                g.decl.insert(kv.key.clone(), (idx, kv.range));
            }
        }
        g
    }

    /// Every global ARG `raw` depends on, transitively.
    fn refs_closure(&self, raw: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = var_refs(raw);
        while let Some(n) = todo.pop() {
            if seen.insert(n.clone()) {
                if let Some(r) = self.raw.get(&n) {
                    todo.extend(var_refs(r));
                }
            }
        }
        seen
    }

    /// Expand `raw` like BuildKit's shell lexer does for `FROM` and `ARG` (quotes removed, escapes,
    /// `$X`, `${X}`, `${X:-w}`, `${X-w}`, `${X:+w}`, `${X+w}`). None when a value is unknown.
    pub(crate) fn expand(
        &self,
        raw: &str,
        pos: &dyn Fn(usize) -> Option<usize>,
    ) -> Option<Expanded> {
        let mut out = Expanded::default();
        self.expand_into(raw, 0, raw.len(), pos, false, &mut out)?;
        Some(out)
    }

    fn expand_into(
        &self,
        raw: &str,
        start: usize,
        end: usize,
        pos: &dyn Fn(usize) -> Option<usize>,
        in_dq: bool,
        out: &mut Expanded,
    ) -> Option<()> {
        let b = raw.as_bytes();
        let esc = u8::try_from(self.escape).unwrap_or(b'\\');
        let mut dq = in_dq;
        let mut i = start;
        while i < end {
            let c = b[i];
            if !dq && c == b'\'' {
                let close = raw[i + 1..end].find('\'')? + i + 1;
                for (k, &byte) in b.iter().enumerate().take(close).skip(i + 1) {
                    out.push(byte, pos(k));
                }
                i = close + 1;
                continue;
            }
            if c == b'"' {
                dq = !dq;
                i += 1;
                continue;
            }
            if c == esc {
                match b.get(i + 1) {
                    Some(&n) if i + 1 < end && (!dq || n == b'"' || n == b'$' || n == esc) => {
                        out.push(n, pos(i + 1));
                        i += 2;
                    }
                    _ => {
                        out.push(c, pos(i));
                        i += 1;
                    }
                }
                continue;
            }
            if c == b'$' && b.get(i + 1) == Some(&b'{') {
                let close = matching_brace(b, i + 2, end)?;
                let s = i + 2;
                let mut e = s;
                if e >= close || !is_name_start(b[e]) {
                    return None;
                }
                while e < close && is_name_char(b[e]) {
                    e += 1;
                }
                let name = &raw[s..e];
                let var = self.vars.get(name);
                let rest = &raw[e..close];
                let (op, word) = if rest.is_empty() {
                    ("", e)
                } else if rest.starts_with(":-") || rest.starts_with(":+") {
                    (&rest[..2], e + 2)
                } else if rest.starts_with('-') || rest.starts_with('+') {
                    (&rest[..1], e + 1)
                } else {
                    return None; // `${X#…}`, `${X%…}`, `${X:?…}`: not worked out
                };
                match (op, var) {
                    (_, Some(Var::Unknown)) => return None,
                    ("", Some(Var::Known(v))) => out.extend(v),
                    ("", _) => return None,
                    (":-", Some(Var::Known(v))) if !v.bytes.is_empty() => out.extend(v),
                    ("-", Some(Var::Known(v))) => out.extend(v),
                    (":-" | "-", _) => self.expand_into(raw, word, close, pos, dq, out)?,
                    (":+", Some(Var::Known(v))) if !v.bytes.is_empty() => {
                        self.expand_into(raw, word, close, pos, dq, out)?;
                    }
                    ("+", Some(Var::Known(_))) => {
                        self.expand_into(raw, word, close, pos, dq, out)?;
                    }
                    _ => {} // `:+` / `+` of an unset variable: empty
                }
                i = close + 1;
                continue;
            }
            if c == b'$' && b.get(i + 1).is_some_and(|&n| is_name_start(n)) && i + 1 < end {
                let s = i + 1;
                let mut e = s;
                while e < end && is_name_char(b[e]) {
                    e += 1;
                }
                match self.vars.get(&raw[s..e]) {
                    Some(Var::Known(v)) => out.extend(v),
                    _ => return None,
                }
                i = e;
                continue;
            }
            out.push(c, pos(i));
            i += 1;
        }
        Some(())
    }
}

/// The image of each `FROM` (in instruction order, `None` for other instructions or when unknown),
/// expanded through the global ARG defaults. Used by rules that need the base image of a stage.
#[must_use]
pub(crate) fn expanded_from_images(df: &Dockerfile, text: &str) -> Vec<Option<String>> {
    let g = GlobalArgs::collect(df, text);
    df.instructions
        .iter()
        .map(|ins| {
            let r = ins.from_image()?;
            g.expand(&r.text, &|_| None).map(|e| e.text())
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// The rule
// ------------------------------------------------------------------------------------------------

/// Where the pin came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PinSource {
    Table,
    Resolver,
}

struct Candidate {
    finding: Finding,
    /// The edit, its applicability and title, when a pin is known and the place to edit could be
    /// found.
    edit: Option<(Edit, Applicability, String)>,
    /// The DisplayOnly suggestion (placeholder edit) and its title.
    suggestion: (Vec<Edit>, String),
    /// The ARG (name) that the edit changes, if it edits an ARG default.
    arg: Option<String>,
}

fn arg_names_at(g: &GlobalArgs, at: TextRange) -> Option<String> {
    g.decl
        .iter()
        .find(|(_, (_, r))| r.start <= at.start && at.end <= r.end)
        .map(|(n, _)| n.clone())
}

/// Whether a pin only adds a digest to the tag the build uses today.
fn keeps_tag(image: &ImageName, pin: &str) -> bool {
    if pin.starts_with('@') {
        return true;
    }
    let current = image.tag.as_deref().unwrap_or("latest");
    match pin.split_once('@') {
        Some((tag, digest)) => tag == current && !digest.is_empty(),
        None => false,
    }
}

/// The region of `exp` to replace and its replacement, mapped to the original text.
fn edit_for(exp: &Expanded, image: &ImageName, suffix: &str) -> Option<Edit> {
    let n = exp.bytes.len();
    match &image.tag {
        Some(tag) => {
            let colon = n.checked_sub(tag.len() + 1)?;
            if let Some(r) = exp.original(colon, n) {
                return Some(Edit::replace(r, suffix));
            }
            // `python:${TAG}`: the colon and the tag come from different places.
            let rest = suffix.strip_prefix(':')?;
            exp.original(colon + 1, n).map(|r| Edit::replace(r, rest))
        }
        None => {
            // Insert after the last character, which must be mapped as a whole.
            let ch_len = exp.text().chars().last().map_or(1, char::len_utf8);
            let r = exp.original(n.checked_sub(ch_len)?, n)?;
            Some(Edit::insert(r.end, suffix))
        }
    }
}

/// A reference with a digest: reported when its tag now points to another digest (a stale pin),
/// fixed only with `--update-pins`.
fn stale_pin(
    ctx: &Context<'_>,
    g: &GlobalArgs,
    exp: &Expanded,
    image: &ImageName,
    value: &str,
    at: TextRange,
) -> Option<Candidate> {
    let written = image.digest.as_deref()?;
    // Asked for a digest alone too (no tag to compare, so no answer): a resolver that records
    // the references notes it, and the local Docker Engine is asked about it.
    let current = ctx.resolver.current_digest(value)?;
    image.tag.as_ref()?;
    if current == written {
        return None;
    }
    let finding = Finding::new(
        UnpinnedBaseImage::CODE,
        UnpinnedBaseImage::NAME,
        at,
        format!("Base image `{value}` is a stale pin: its tag now points to `{current}`"),
    );
    let n = exp.bytes.len();
    let r = exp.original(n - written.len(), n)?;
    let edit = Edit::replace(r, &current);
    let arg = if at.contains_range(edit.range) {
        None
    } else {
        Some(arg_names_at(g, edit.range)?)
    };
    let (applicability, title) = if ctx.settings.update_pins {
        (
            Applicability::Safe,
            format!("Update the pin to `{current}` (--update-pins)"),
        )
    } else {
        (
            Applicability::DisplayOnly,
            format!("Update the pin to `{current}` (run with --update-pins to apply)"),
        )
    };
    Some(Candidate {
        finding,
        edit: Some((edit, applicability, title.clone())),
        suggestion: (Vec::new(), title),
        arg,
    })
}

fn check_from(
    ctx: &Context<'_>,
    g: &GlobalArgs,
    ins: &Instruction,
    stage_names: &[String],
) -> Option<Candidate> {
    let text = ctx.text;
    let r = ins.from_image()?;
    let mapped = r.range.len() == r.text.len() && r.range.slice(text) == r.text;
    let start = r.range.start;
    let exp = g.expand(&r.text, &|k| mapped.then_some(start + k))?;
    let value = exp.text();
    if value.is_empty()
        || value.contains('$')
        || value.eq_ignore_ascii_case("scratch")
        || stage_names.iter().any(|s| s.eq_ignore_ascii_case(&value))
    {
        return None;
    }
    let image = ImageName::parse(&value);
    if !image.is_well_formed() {
        return None;
    }
    if image.digest.is_some() {
        return stale_pin(ctx, g, &exp, &image, &value, r.range);
    }
    // With a resolver that looks images up, a tag without a digest is not a pin either: the tag
    // can be moved to another image.
    let resolving = ctx.resolver.active();
    if image.is_pinned() && !resolving {
        return None;
    }
    let templated = value != r.text;
    let via = if templated {
        let names: Vec<String> = var_refs(&r.text)
            .into_iter()
            .filter(|n| g.vars.contains_key(n))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if names.is_empty() {
            format!(" (`{value}`)")
        } else {
            format!(" (`{value}` through ARG {})", names.join(", "))
        }
    } else {
        String::new()
    };
    let problem = match image.tag.as_deref() {
        Some("latest") => "uses the `latest` tag",
        Some(_) => "has a tag but no digest (a tag can be moved to another image)",
        None => "has no tag (it means `latest`)",
    };
    let finding = Finding::new(
        UnpinnedBaseImage::CODE,
        UnpinnedBaseImage::NAME,
        r.range,
        format!(
            "Base image `{}`{via} {problem}: pin a version tag or digest",
            r.text
        ),
    );
    let name_shown = match &image.registry {
        Some(reg) => format!("{reg}/{}", image.repository),
        None => image.repository.clone(),
    };

    let placeholder = match edit_for(&exp, &image, ":<tag>") {
        Some(e) => vec![e],
        None => Vec::new(),
    };
    let suggestion_title = format!(
        "Pin `{name_shown}` to a specific version, e.g. `{name_shown}:<tag>` (add `\"{name_shown}\" = \"<tag>\"` under `[options.pins]` in .dockharden.toml to fix it)"
    );

    let table = if image.is_pinned() {
        None
    } else {
        pin_for(ctx.settings, &image).map(|p| (p.to_owned(), PinSource::Table))
    };
    let mut note = None;
    let pin = table.or_else(|| {
        ctx.resolver.pin(&value).map(|p| {
            note = p.note;
            (p.pin, PinSource::Resolver)
        })
    });
    if image.is_pinned() && pin.is_none() {
        return None;
    }
    let finding = match &note {
        Some(n) => {
            let message = format!("{}; {n}", finding.message);
            Finding::new(finding.code, finding.name, finding.range, message)
        }
        None => finding,
    };
    let mut arg = None;
    let edit = pin.and_then(|(pin, source)| {
        let pin = pin.trim().to_owned();
        if pin.is_empty() || pin.contains(char::is_whitespace) {
            return None;
        }
        let suffix = pinned_suffix(&image, &pin);
        let e = edit_for(&exp, &image, &suffix)?;
        let owner = if ins.range.contains_range(e.range) {
            None
        } else {
            Some(arg_names_at(g, e.range)?)
        };
        let from = match source {
            PinSource::Table => "from the pin table",
            PinSource::Resolver => "resolved",
        };
        let target = format!("{name_shown}{suffix}");
        let title = match &owner {
            Some(n) => {
                format!("Pin `{name_shown}` to `{target}` ({from}) in the default of ARG {n}")
            }
            None => format!("Pin `{name_shown}` to `{target}` ({from})"),
        };
        arg = owner;
        // A resolver's pin names the image the reference gets today: Safe.
        let applicability = if source == PinSource::Resolver || keeps_tag(&image, &pin) {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        };
        Some((e, applicability, title))
    });
    let finding = if edit.is_none() {
        finding.with_need(crate::finding::Need {
            option: "pins",
            key: Some(name_shown.clone()),
            prompt: format!(
                "Tag or digest to pin `{name_shown}` to (e.g. 3.12-slim or 3.12-slim@sha256:...)"
            ),
            default: None,
        })
    } else {
        finding
    };
    Some(Candidate {
        finding,
        edit,
        suggestion: (placeholder, suggestion_title),
        arg,
    })
}

impl Check for UnpinnedBaseImage {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(df) = dockerfile(ctx) else {
            return Vec::new();
        };
        let g = GlobalArgs::collect(df, ctx.text);
        let mut stage_names: Vec<String> = Vec::new();
        // (candidate, the global ARGs the FROM depends on, its line start)
        let mut froms: Vec<(Option<Candidate>, BTreeSet<String>)> = Vec::new();
        for ins in &df.instructions {
            if ins.keyword != "FROM" {
                continue;
            }
            let refs = ins
                .from_image()
                .map(|r| g.refs_closure(&r.text))
                .unwrap_or_default();
            let cand = check_from(ctx, &g, ins, &stage_names);
            froms.push((cand, refs));
            if let Some((name, _)) = ins.from_alias() {
                stage_names.push(name);
            }
        }
        let mut findings = Vec::new();
        for (k, (cand, _)) in froms.iter().enumerate() {
            let Some(c) = cand else {
                continue;
            };
            let mut blocked = false;
            if let (Some(arg), Some((e, _, _))) = (&c.arg, &c.edit) {
                // Every FROM that depends on this ARG must get the very same edit.
                blocked = froms.iter().enumerate().any(|(j, (other, refs))| {
                    j != k
                        && refs.contains(arg)
                        && other
                            .as_ref()
                            .and_then(|o| o.edit.as_ref())
                            .is_none_or(|(oe, _, _)| oe != e)
                });
            }
            let fix = match (&c.edit, blocked) {
                (Some((e, applicability, title)), false) => match applicability {
                    Applicability::Safe => Fix::safe(title.clone(), vec![e.clone()]),
                    Applicability::Unsafe => Fix::unsafe_(title.clone(), vec![e.clone()]),
                    Applicability::DisplayOnly => {
                        Fix::display_only(title.clone(), vec![e.clone()])
                    }
                },
                (Some((e, _, title)), true) => Fix::display_only(
                    format!(
                        "{title} (not applied: ARG {} is also used by another FROM that this pin does not fit)",
                        c.arg.as_deref().unwrap_or("")
                    ),
                    vec![e.clone()],
                ),
                (None, _) => Fix::display_only(c.suggestion.1.clone(), c.suggestion.0.clone()),
            };
            findings.push(c.finding.clone().with_fix(fix));
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, FixPolicy};
    use crate::settings::{ImageResolver, NoResolver, Settings};
    use crate::source::FileKind;

    struct Fixed;
    impl ImageResolver for Fixed {
        fn resolve(&self, image: &str) -> Option<String> {
            (image == "nginx" || image == "nginx:latest").then(|| "latest@sha256:feed".to_owned())
        }
    }

    fn run(
        text: &str,
        pins: &[(&str, &str)],
        resolver: &dyn ImageResolver,
    ) -> (Vec<Finding>, String) {
        let mut settings = Settings::default();
        for (k, v) in pins {
            settings.pins.insert((*k).to_owned(), (*v).to_owned());
        }
        let engine = Engine {
            transforms: vec![&UnpinnedBaseImage],
            settings: &settings,
            resolver,
            workspace: &crate::settings::NoWorkspace,
            path: None,
            base_services: None,
        };
        let findings = engine.check(FileKind::Dockerfile, text).unwrap();
        let out = engine
            .fix(
                FileKind::Dockerfile,
                text,
                FixPolicy {
                    min_applicability: Applicability::Unsafe,
                },
            )
            .unwrap();
        (findings, out.text)
    }

    #[test]
    fn plain_and_stages() {
        let t = "FROM python AS Build\nFROM build\nFROM scratch\nFROM node:latest\nFROM node:20\nFROM x@sha256:ab\n";
        let (f, _) = run(t, &[], &NoResolver);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f
            .iter()
            .all(|x| x.fix.as_ref().unwrap().applicability == Applicability::DisplayOnly));
        let (_, out) = run(
            t,
            &[("python", "3.12-slim"), ("node", "22@sha256:cafe")],
            &NoResolver,
        );
        assert_eq!(
            out,
            "FROM python:3.12-slim AS Build\nFROM build\nFROM scratch\nFROM node:22@sha256:cafe\nFROM node:20\nFROM x@sha256:ab\n"
        );
    }

    #[test]
    fn through_args() {
        let t = "ARG BASE=python\nARG TAG=latest\nARG NOPE\nFROM ${BASE}\nFROM ruby:${TAG}\nFROM $NOPE\nFROM ${NOPE:-alpine}\n";
        let (f, _) = run(t, &[], &NoResolver);
        assert_eq!(f.len(), 3, "{f:#?}");
        let (_, out) = run(
            t,
            &[("python", "3.12"), ("ruby", "3.3"), ("alpine", "3.20")],
            &NoResolver,
        );
        assert_eq!(
            out,
            "ARG BASE=python:3.12\nARG TAG=3.3\nARG NOPE\nFROM ${BASE}\nFROM ruby:${TAG}\nFROM $NOPE\nFROM ${NOPE:-alpine:3.20}\n"
        );
    }

    #[test]
    fn shared_arg_needs_the_same_edit() {
        let t = "ARG TAG=latest\nFROM ruby:${TAG}\nFROM node:${TAG}\n";
        let (f, out) = run(t, &[("ruby", "3.3"), ("node", "22")], &NoResolver);
        assert_eq!(out, t);
        assert!(f
            .iter()
            .all(|x| x.fix.as_ref().unwrap().applicability == Applicability::DisplayOnly));
        let t = "ARG BASE=python\nFROM ${BASE} AS a\nFROM ${BASE}\n";
        let (_, out) = run(t, &[("python", "3.12")], &NoResolver);
        assert_eq!(
            out,
            "ARG BASE=python:3.12\nFROM ${BASE} AS a\nFROM ${BASE}\n"
        );
    }

    #[test]
    fn resolver_after_pins_and_safety() {
        let t = "FROM nginx\nFROM python:latest\n";
        let (f, out) = run(t, &[("python", "@sha256:beef")], &Fixed);
        assert_eq!(
            out,
            "FROM nginx:latest@sha256:feed\nFROM python@sha256:beef\n"
        );
        assert!(f
            .iter()
            .all(|x| x.fix.as_ref().unwrap().applicability == Applicability::Safe));
        let (f, _) = run("FROM nginx\n", &[("nginx", "1.27")], &Fixed);
        assert_eq!(
            f[0].fix.as_ref().unwrap().applicability,
            Applicability::Unsafe
        );
    }

    #[test]
    fn registry_pins_keep_tags_and_report_stale_pins() {
        use crate::settings::testing::run;
        let t = "ARG BASE=python:3.12\nFROM nginx\nFROM ${BASE}\nFROM app:latest\nFROM redis:7@sha256:old\nFROM redis:7@sha256:new\nFROM alpine:3.20\n";
        let (f, out) = run(FileKind::Dockerfile, t, false);
        assert_eq!(f.len(), 4, "{f:#?}");
        assert!(
            f[2].message.contains("no version tag has the digest"),
            "{f:#?}"
        );
        assert!(f[3].message.contains("stale pin"), "{f:#?}");
        assert_eq!(
            f[3].fix.as_ref().unwrap().applicability,
            Applicability::DisplayOnly
        );
        assert_eq!(
            out,
            "ARG BASE=python:3.12@sha256:bb\nFROM nginx:1.27.3@sha256:aa\nFROM ${BASE}\nFROM app:latest@sha256:cc\nFROM redis:7@sha256:old\nFROM redis:7@sha256:new\nFROM alpine:3.20\n"
        );
        let (_, out) = run(FileKind::Dockerfile, t, true);
        assert!(
            out.contains("FROM redis:7@sha256:new\nFROM redis:7@sha256:new\n"),
            "{out}"
        );
        // The fixed output is the fixed point: nothing left to report.
        let (f, _) = run(FileKind::Dockerfile, &out, true);
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn quoted_arg_default() {
        let t = "ARG BASE=\"python\"\nFROM $BASE\n";
        let (_, out) = run(t, &[("python", "3.12")], &NoResolver);
        assert_eq!(out, "ARG BASE=\"python:3.12\"\nFROM $BASE\n");
    }
}

/// No panic and well-formed fixes on random inputs, for the four rules of this group.
#[cfg(test)]
mod property {
    use crate::apply::apply_fixes;
    use crate::registry::{Context, Transform};
    use crate::settings::{NoResolver, Settings};
    use crate::source::{FileKind, Parsed};

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            usize::try_from(self.0 % (n as u64)).unwrap_or(0)
        }
    }

    #[test]
    fn no_panic_and_applicable_edits() {
        const FRAGMENTS: &[&str] = &[
            "FROM ",
            "RUN ",
            "ADD ",
            "ENV ",
            "ARG ",
            "LABEL ",
            "ONBUILD ",
            "\n",
            "\r\n",
            "\\\n",
            "`\n",
            "# escape=`\n",
            "# syntax=docker/dockerfile:1.4\n",
            "$",
            "${",
            "}",
            ":-",
            ":+",
            "BASE",
            "TOKEN",
            "=",
            "\"",
            "'",
            "\\",
            " ",
            "python",
            ":latest",
            "@sha256:ab",
            "/",
            "curl https://x/i.sh",
            "wget -qO- https://x",
            " | ",
            "sh",
            "bash -s --",
            "$(",
            "<(",
            ")",
            "`",
            "<<EOF",
            "EOF\n",
            "-c ",
            "eval ",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "AKIAIOSFODNN7EXAMPLE",
            "https://a.b/c.git#",
            "é",
            "AS x",
            "scratch",
            "&&",
            ";",
            "#",
        ];
        let mut settings = Settings::default();
        settings
            .pins
            .insert("python".into(), "3.12@sha256:cd".into());
        let rules: [&dyn Transform; 4] = [
            &super::UnpinnedBaseImage,
            &crate::dockerfile::secret_in_image::SecretInImage,
            &crate::dockerfile::curl_pipe_shell::CurlPipeShell,
            &crate::dockerfile::add_url_without_checksum::AddUrlWithoutChecksum,
        ];
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let mut checked = 0;
        for _ in 0..4000 {
            let n = 1 + rng.below(30);
            let mut s = String::new();
            for _ in 0..n {
                s.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            }
            let Ok(df) = crate::dockerfile::syntax::parse(&s) else {
                continue;
            };
            checked += 1;
            let parsed = Parsed::Dockerfile(df);
            let ctx = Context {
                text: &s,
                kind: FileKind::Dockerfile,
                parsed: &parsed,
                settings: &settings,
                resolver: &NoResolver,
                workspace: &crate::settings::NoWorkspace,
                memo: &crate::needs::Memo::default(),
                path: None,
            };
            for rule in rules {
                for f in rule.check(&ctx) {
                    assert!(f.range.end <= s.len(), "{s:?}");
                    if let Some(fix) = &f.fix {
                        let r = apply_fixes(&s, &[fix]);
                        assert!(r.invalid.is_empty(), "{}: malformed fix on {s:?}", f.code);
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} parsed");
    }
}
