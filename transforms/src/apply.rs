//! Applying fixes to a text: sorted, identical edits merged, overlapping fixes deferred, all-or-nothing
//! per fix (the model of ruff's `apply_fixes` and rustfix's replacement engine).

use std::collections::{BTreeMap, BTreeSet};

use crate::edit::Edit;
use crate::fix::Fix;
use crate::text::TextRange;

/// The result of applying a set of fixes once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub text: String,
    /// Indexes (into the input slice) of the fixes that were applied, in input order.
    pub applied: Vec<usize>,
    /// Indexes of fixes that conflicted with an earlier one and are deferred to the next round.
    pub deferred: Vec<usize>,
    /// Indexes of fixes that were malformed (edits overlapping each other or out of bounds).
    pub invalid: Vec<usize>,
}

fn edits_well_formed(text: &str, fix: &Fix) -> bool {
    let mut prev: Option<&Edit> = None;
    for e in &fix.edits {
        if e.range.end > text.len()
            || !text.is_char_boundary(e.range.start)
            || !text.is_char_boundary(e.range.end)
        {
            return false;
        }
        if let Some(p) = prev {
            if p.range.overlaps(e.range) {
                return false;
            }
        }
        prev = Some(e);
    }
    true
}

/// Whether edits of two different fixes conflict: they overlap, or one inserts exactly at a boundary
/// of the other's replacement (an item appended after a line that another fix deletes would be
/// orphaned, or glued to the wrong neighbour). Such fixes wait for the next round, which sees the
/// result of the first.
fn conflicts(a: TextRange, b: TextRange) -> bool {
    if a.overlaps(b) {
        return true;
    }
    let touches = |ins: TextRange, other: TextRange| {
        ins.is_empty() && !other.is_empty() && (ins.start == other.start || ins.start == other.end)
    };
    touches(a, b) || touches(b, a)
}

/// Apply `fixes` to `text`. A fix whose edits conflict with an already accepted fix is deferred as a
/// whole; an edit identical to an accepted one is merged (applied once). Fixes are considered in order
/// of their first edit, then in input order, so the result does not depend on how they were produced.
///
/// Linear in the text plus `n log n` in the edits per pass: accepted edits are kept ordered by
/// range, and accepted edits never conflict with each other, so an edit can only conflict with its
/// neighbours in that order (see [`conflicting`]). A stack of insertions that a waiting fix reaches
/// is undone and the pass run again: at most five passes, and at most a million stack and waiting
/// edit pairs compared per pass (past that every such stack is undone at once).
#[must_use]
pub fn apply_fixes(text: &str, fixes: &[&Fix]) -> Applied {
    apply_fixes_in(text, fixes, false)
}

/// [`apply_fixes`] for YAML, where indentation nests: line insertions at one offset with different
/// indentations are stacked too, the deeper first (it belongs to the inner collection that ends
/// there, the other to an outer one). That is the order the rounds give: the outer insertion lands
/// after the inner collection's end, where the inner one is inserted in a later round.
#[must_use]
pub fn apply_yaml_fixes(text: &str, fixes: &[&Fix]) -> Applied {
    apply_fixes_in(text, fixes, true)
}

fn apply_fixes_in(text: &str, fixes: &[&Fix], nests: bool) -> Applied {
    let mut order: Vec<usize> = (0..fixes.len()).collect();
    order.sort_by_key(|&i| (fixes[i].range().map(|r| (r.start, r.end)), i));

    let (widened, mixed) = stackable_widened(text, fixes);
    // Where a fix that reaches a stack of widened or differently indented insertions waits for a
    // later round anyway (a conflict elsewhere), the rounds would put it between the stacked
    // ones: those stacks are undone and the pass runs again (rare; the set only grows).
    let mut plain_only: BTreeSet<(usize, usize)> = BTreeSet::new();
    for passes in 1.. {
        let rules = Stacking {
            widened: &widened,
            plain_only: &plain_only,
            nests,
            everywhere_plain: passes > 4,
        };
        let converted = if mixed.is_empty() {
            Vec::new()
        } else {
            as_widened(text, fixes, &mixed, &plain_only)
        };
        let view: Vec<&Fix> = fixes
            .iter()
            .enumerate()
            .map(|(i, f)| converted.get(i).and_then(Option::as_ref).unwrap_or(f))
            .collect();
        let pass = one_pass(text, &view, &order, &rules);
        // A fix that waits only because it starts a key a stacked insertion starts too (the same
        // indentation: a container's `securityContext`) goes into that mapping next round, not
        // between the stacked lines: it does not undo the stack.
        let waiting: Vec<&Edit> = pass
            .deferred
            .iter()
            .filter(|&&i| !waits_for_key(text, &pass.accepted, &rules, view[i]))
            .chain(&pass.invalid)
            .flat_map(|&i| &fixes[i].edits)
            .collect();
        let stacks: Vec<(&(usize, usize), &Vec<&Edit>)> = pass
            .accepted
            .iter()
            .filter(|(_, stack)| stack.len() > 1 && rules.new_style(text, stack))
            .collect();
        // (Each stack against each waiting edit; past a million pairs, or after a few passes,
        // every such stack is undone instead: the rounds' own behaviour, in bounded time.)
        let every = passes >= 4 || stacks.len().saturating_mul(waiting.len()) > 1 << 20;
        if rules.everywhere_plain {
            debug_assert!(
                stacks.is_empty(),
                "a new-style stack formed in the last pass"
            );
            return pass.finish(text);
        }
        let undo: Vec<(usize, usize)> = stacks
            .into_iter()
            .filter(|(_, stack)| {
                let r = stack[0].range;
                every
                    || waiting
                        .iter()
                        .any(|w| w.range == r || conflicts(w.range, r))
            })
            .map(|(&k, _)| k)
            .collect();
        if undo.is_empty() {
            return pass.finish(text);
        }
        plain_only.extend(undo);
    }
    unreachable!("the fifth pass stacks only plain insertions and returns")
}

/// Whether `fix` was deferred only because one of its line insertions starts, at the indentation
/// of a stacked insertion at the same place, a key that one starts too: every other edit would
/// have been accepted, and that one would have stacked but for the key.
fn waits_for_key(
    text: &str,
    accepted: &BTreeMap<(usize, usize), Vec<&Edit>>,
    rules: &Stacking<'_>,
    fix: &Fix,
) -> bool {
    let mut clash = false;
    for e in &fix.edits {
        match accepted.get(&(e.range.start, e.range.end)) {
            Some(stack) if !stack.contains(&e) && inserted_lines(text, stack[0]).is_some() => {
                if clash || !stacks_ignoring_keys(text, stack, e, rules) {
                    return false;
                }
                clash = true;
            }
            _ => {
                if conflicting(text, accepted, rules, e) {
                    return false;
                }
            }
        }
    }
    clash
}

/// [`stacks_with`] but for the keys: whether the keys are what keeps `e` off `stack`.
fn stacks_ignoring_keys(text: &str, stack: &[&Edit], e: &Edit, rules: &Stacking<'_>) -> bool {
    !stacks_with(text, stack, e, rules) && stacks_with_keys(text, stack, e, rules, false)
}

/// What may be stacked in a pass (see [`stacks_with`]).
struct Stacking<'a> {
    /// Line breaks where widened insertions may stack ([`stackable_widened`]).
    widened: &'a BTreeSet<(usize, usize)>,
    /// Ranges where only plain insertions of one indentation may stack.
    plain_only: &'a BTreeSet<(usize, usize)>,
    /// Whether indentation nests (YAML).
    nests: bool,
    /// Only plain insertions of one indentation at a line start stack, anywhere (the last pass).
    everywhere_plain: bool,
}

impl Stacking<'_> {
    /// Whether a stack goes beyond plain insertions of one indentation at a line start (the
    /// stacking the rounds were always spared).
    fn new_style(&self, text: &str, stack: &[&Edit]) -> bool {
        let at = stack[0].range;
        !at.is_empty()
            || at_open_end(text, at)
            || stack
                .iter()
                .filter_map(|e| stackable(text, e))
                .map(|(i, ..)| i)
                .collect::<BTreeSet<_>>()
                .len()
                > 1
    }
}

/// The fixes accepted by one pass, by range (one edit, or several stacked line insertions).
struct Pass<'f> {
    accepted: BTreeMap<(usize, usize), Vec<&'f Edit>>,
    applied: Vec<usize>,
    deferred: Vec<usize>,
    invalid: Vec<usize>,
}

fn one_pass<'f>(text: &str, fixes: &[&'f Fix], order: &[usize], rules: &Stacking<'_>) -> Pass<'f> {
    let mut pass = Pass {
        accepted: BTreeMap::new(),
        applied: Vec::new(),
        deferred: Vec::new(),
        invalid: Vec::new(),
    };
    for &i in order {
        let fix = fixes[i];
        if fix.edits.is_empty() {
            continue;
        }
        if !edits_well_formed(text, fix) {
            pass.invalid.push(i);
            continue;
        }
        if fix
            .edits
            .iter()
            .any(|e| conflicting(text, &pass.accepted, rules, e))
        {
            pass.deferred.push(i);
            continue;
        }
        for e in &fix.edits {
            let stack = pass
                .accepted
                .entry((e.range.start, e.range.end))
                .or_default();
            if !stack.contains(&e) {
                stack.push(e);
            }
        }
        pass.applied.push(i);
    }
    pass
}

impl Pass<'_> {
    fn finish(self, text: &str) -> Applied {
        let Pass {
            mut accepted,
            mut applied,
            mut deferred,
            mut invalid,
        } = self;
        applied.sort_unstable();
        deferred.sort_unstable();
        invalid.sort_unstable();

        let mut out = String::with_capacity(text.len() + 64);
        let mut last = 0;
        for stack in accepted.values_mut() {
            let range = stack[0].range;
            out.push_str(&text[last..range.start]);
            if let [e] = stack.as_slice() {
                out.push_str(&e.replacement);
            } else {
                // Stacked line insertions: the line break a widened one replaces (see
                // [`inserted_lines`]) once, then each one's lines, the deeper first, in fix order.
                out.push_str(range.slice(text));
                stack.sort_by_key(|e| {
                    std::cmp::Reverse(indentation(e.replacement.trim_start_matches('\n')))
                });
                for e in stack.iter() {
                    out.push_str(&e.replacement[range.len()..]);
                }
            }
            last = range.end;
        }
        out.push_str(&text[last..]);
        Applied {
            text: out,
            applied,
            deferred,
            invalid,
        }
    }
}

/// Whether `at` is the (empty) end of a text that has no final line break.
fn at_open_end(text: &str, at: TextRange) -> bool {
    at.is_empty() && at.start == text.len() && at.start > 0 && !text.ends_with('\n')
}

/// The whole lines `e` inserts at the start of a line: an insertion there, or one widened to the
/// line break before it (the break replaced by itself and the lines, which makes the insertion
/// conflict with a deletion that ends at that break: see `compose::hardening::finish_edits`), or,
/// at the end of a text without a final line break, lines each after a line break.
fn inserted_lines<'e>(text: &str, e: &'e Edit) -> Option<&'e str> {
    let start = e.range.start;
    if at_open_end(text, e.range) {
        return e
            .replacement
            .strip_prefix('\n')
            .filter(|l| !l.is_empty() && !l.ends_with('\n'));
    }
    let lines = if e.range.is_empty() {
        (start == 0 || text.as_bytes()[start - 1] == b'\n').then_some(e.replacement.as_str())?
    } else if e.range.len() == 1 && text.as_bytes()[start] == b'\n' {
        e.replacement.strip_prefix('\n')?
    } else {
        return None;
    };
    lines.ends_with('\n').then_some(lines)
}

/// Line breaks, as one-byte ranges.
type Breaks = BTreeSet<(usize, usize)>;

/// The line breaks (as ranges) at which widened line insertions may be stacked: every fix with an
/// edit there, or touching it, is a fix of one line insertion there (widened, or plain at the start
/// of the next line). The fixes are then applied in the order the rounds would apply them one per
/// round (fix order, widened ones first as they sort first; the insertion point of each later round
/// is the end of the lines the earlier ones inserted), without a round per fix. Where another fix
/// reaches the break (a deletion before it, an insertion of a fix with more edits), which fix lands
/// first depends on the rounds, and the fixes wait for them as before. Also returns the breaks
/// with plain insertions ([`as_widened`]).
fn stackable_widened(text: &str, fixes: &[&Fix]) -> (Breaks, Breaks) {
    let mut widened = BTreeSet::new();
    let mut mixed = BTreeSet::new();
    for fix in fixes {
        if let [e] = fix.edits.as_slice() {
            if !e.range.is_empty() && inserted_lines(text, e).is_some() {
                widened.insert((e.range.start, e.range.end));
            }
        }
    }
    if widened.is_empty() {
        return (widened, mixed);
    }
    let mut blocked = Vec::new();
    for fix in fixes {
        let single = fix.edits.len() == 1;
        for e in &fix.edits {
            // The breaks `e` reaches: starting within `e.start - 1 ..= e.end`.
            let lo = e.range.start.saturating_sub(1);
            for &(start, end) in widened.range((lo, 0)..=(e.range.end, usize::MAX)) {
                let own = single && (e.range.start, e.range.end) == (start, end);
                let plain = single
                    && e.range.is_empty()
                    && e.range.start == end
                    && inserted_lines(text, e).is_some();
                if plain {
                    mixed.insert((start, end));
                } else if !own
                    && ((e.range.start, e.range.end) == (start, end)
                        || conflicts(e.range, TextRange::new(start, end)))
                {
                    blocked.push((start, end));
                }
            }
        }
    }
    for b in blocked {
        widened.remove(&b);
        mixed.remove(&b);
    }
    (widened, mixed)
}

/// `fixes` with each plain line insertion at a break of `mixed` (and not of `plain_only`) widened to
/// the break, so that it stacks with the widened ones there (the same text).
fn as_widened(
    text: &str,
    fixes: &[&Fix],
    mixed: &BTreeSet<(usize, usize)>,
    plain_only: &BTreeSet<(usize, usize)>,
) -> Vec<Option<Fix>> {
    fixes
        .iter()
        .map(|fix| match fix.edits.as_slice() {
            [e] if e.range.is_empty() && e.range.start > 0 => {
                let brk = (e.range.start - 1, e.range.start);
                (mixed.contains(&brk)
                    && !plain_only.contains(&brk)
                    && text.as_bytes()[brk.0] == b'\n')
                    .then(|| Fix {
                        edits: vec![Edit::replace(
                            TextRange::new(brk.0, brk.1),
                            format!("\n{}", e.replacement),
                        )],
                        ..(*fix).clone()
                    })
            }
            _ => None,
        })
        .collect()
}

/// Whether `e` inserts whole lines at the start of a line, and how its first line begins: its
/// indentation and whether it is a sequence item. Two such insertions of different fixes at the
/// same offset, with the same indentation and the same kind of first line, are siblings (keys of
/// one mapping, items of one sequence, Dockerfile instructions): they are applied together, in
/// fix order, which is what applying them in two rounds gives, without a round per insertion.
/// (Verification by meaning still checks the result.)
fn stackable<'e>(text: &str, e: &'e Edit) -> Option<(usize, bool, &'e str)> {
    let lines = inserted_lines(text, e)?;
    let first = lines.lines().next()?;
    let body = first.trim_start_matches(' ');
    if body.is_empty() || body.starts_with('\t') {
        return None;
    }
    let indent = first.len() - body.len();
    // Every later line stays inside what the first line starts (more indented, or a sibling at
    // the same indentation): a line that goes back out (a key of an outer mapping) would take the
    // next stacked insertion with it.
    let inside = lines.lines().skip(1).all(|l| {
        let b = l.trim_start_matches(' ');
        b.is_empty() || l.len() - b.len() >= indent
    });
    inside.then_some((indent, body.starts_with('-'), lines))
}

/// The mapping keys the inserted `lines` start at indentation `indent` (none for sequence items
/// and comments).
fn keys_at(lines: &str, indent: usize) -> impl Iterator<Item = &str> {
    lines.lines().filter_map(move |l| {
        let body = l.trim_start_matches(' ');
        (l.len() - body.len() == indent && !body.is_empty())
            .then_some(body)
            .filter(|b| !b.starts_with('-') && !b.starts_with('#'))
            .map(|b| b.split_once(':').map_or(b, |(k, _)| k))
    })
}

/// The indentation of the first line of `lines`.
fn indentation(lines: &str) -> usize {
    lines.len() - lines.trim_start_matches(' ').len()
}

/// Whether the line insertion `e` may be stacked with the accepted ones of `stack` (same offset).
/// A mapping key (`securityContext:`) that two insertions both start would be given twice: they
/// are applied in two rounds (the second then adds to the first's mapping). Where indentation
/// `nests` (YAML), insertions of different indentations stack too (see [`apply_yaml_fixes`]).
fn stacks_with(text: &str, stack: &[&Edit], e: &Edit, rules: &Stacking<'_>) -> bool {
    stacks_with_keys(text, stack, e, rules, true)
}

fn stacks_with_keys(
    text: &str,
    stack: &[&Edit],
    e: &Edit,
    rules: &Stacking<'_>,
    keys: bool,
) -> bool {
    let Some((indent, item, lines)) = stackable(text, e) else {
        return false;
    };
    let range = (e.range.start, e.range.end);
    let plain_only = rules.everywhere_plain || rules.plain_only.contains(&range);
    if !e.range.is_empty() && (plain_only || !rules.widened.contains(&range)) {
        return false;
    }
    if plain_only && at_open_end(text, e.range) {
        return false;
    }
    stack.iter().all(|x| {
        stackable(text, x).is_some_and(|(i, it, other)| {
            if i != indent {
                return rules.nests && !plain_only;
            }
            it == item
                && !(keys && keys_at(lines, indent).any(|k| keys_at(other, indent).any(|o| o == k)))
        })
    })
}

/// Whether `e` conflicts with an accepted edit (an identical edit does not: it is merged; a
/// sibling line insertion at the same offset does not: it is stacked).
///
/// Accepted edits of different ranges pairwise do not conflict, so they are disjoint: no two share
/// a byte, no insertion lies inside or at a boundary of a replacement. Ordered by `(start, end)`,
/// the only ones that can reach `e` are the last one starting before `e` and those starting within
/// `e.start..=e.end`; of the latter, every one but an identical edit, a stackable insertion and a
/// replacement starting exactly at `e.end` conflicts, so the scan stops after a few steps.
fn conflicting(
    text: &str,
    accepted: &BTreeMap<(usize, usize), Vec<&Edit>>,
    rules: &Stacking<'_>,
    e: &Edit,
) -> bool {
    let hit = |stack: &Vec<&Edit>| {
        #[cfg(test)]
        crate::work::add("apply.comparisons", 1);
        let a = stack[0];
        if stack.contains(&e) {
            return false;
        }
        if a.range == e.range && inserted_lines(text, a).is_some() {
            return !stacks_with(text, stack, e, rules);
        }
        conflicts(a.range, e.range)
    };
    if let Some((_, a)) = accepted.range(..(e.range.start, 0)).next_back() {
        if hit(a) {
            return true;
        }
    }
    for (_, a) in accepted.range((e.range.start, 0)..=(e.range.end, usize::MAX)) {
        if hit(a) {
            return true;
        }
        if a[0].range.start >= e.range.end && !a[0].range.is_empty() {
            break;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::TextRange;

    fn fix(edits: Vec<Edit>) -> Fix {
        Fix::safe("t", edits)
    }

    /// A fix inserting `lines` at `at`.
    fn insert_at(at: usize, lines: &str) -> Fix {
        fix(vec![Edit::insert(at, lines)])
    }

    /// A fix inserting `lines` at `at`, widened to the line break before it.
    fn widened_at(at: usize, lines: &str) -> Fix {
        fix(vec![Edit::replace(
            TextRange::new(at - 1, at),
            format!("\n{lines}"),
        )])
    }

    #[test]
    fn applies_sorted_and_merges_identical() {
        let text = "abcdef";
        let a = fix(vec![Edit::replace(TextRange::new(4, 5), "E")]);
        let b = fix(vec![
            Edit::replace(TextRange::new(0, 1), "A"),
            Edit::replace(TextRange::new(4, 5), "E"),
        ]);
        let r = apply_fixes(text, &[&a, &b]);
        assert_eq!(r.text, "AbcdEf");
        assert_eq!(r.applied, vec![0, 1]);
    }

    #[test]
    fn overlapping_fix_is_deferred_whole() {
        let text = "abcdef";
        let a = fix(vec![Edit::replace(TextRange::new(1, 3), "X")]);
        let b = fix(vec![
            Edit::replace(TextRange::new(2, 4), "Y"),
            Edit::insert(6, "!"),
        ]);
        let r = apply_fixes(text, &[&b, &a]);
        assert_eq!(r.text, "aXdef");
        assert_eq!(r.applied, vec![1]);
        assert_eq!(r.deferred, vec![0]);
    }

    #[test]
    fn adjacent_replacements_do_not_conflict() {
        let text = "abc";
        let a = fix(vec![Edit::replace(TextRange::new(0, 1), "X")]);
        let b = fix(vec![Edit::replace(TextRange::new(1, 2), "Y")]);
        let r = apply_fixes(text, &[&a, &b]);
        assert_eq!(r.text, "XYc");
    }

    #[test]
    fn insertion_at_the_boundary_of_another_fixs_deletion_waits() {
        // Fix a deletes line 2; fix b appends after it: b must see the text without line 2.
        let text = "l1\nl2\nl3\n";
        let a = fix(vec![Edit::delete(TextRange::new(3, 6))]);
        let b = insert_at(6, "new\n");
        let r = apply_fixes(text, &[&a, &b]);
        assert_eq!(r.text, "l1\nl3\n");
        assert_eq!(r.deferred, vec![1]);
    }

    #[test]
    fn two_different_insertions_at_same_point_conflict() {
        let text = "abc";
        let a = insert_at(1, "1");
        let b = insert_at(1, "2");
        let r = apply_fixes(text, &[&a, &b]);
        assert_eq!(r.text, "a1bc");
        assert_eq!(r.deferred, vec![1]);
    }

    /// Line insertions widened to the line break before them (as compose fixes make them) stack
    /// like plain ones: one round, the fix order, the break kept once.
    #[test]
    fn widened_line_insertions_stack_in_fix_order() {
        let text = "svc:\n  image: x\nnext:\n";
        let at = text.find("next").unwrap();
        let widened = |s: &str| widened_at(at, s);
        let a = widened("  cap_drop:\n    - ALL\n");
        let b = widened("  security_opt:\n    - no-new-privileges:true\n");
        let r = apply_fixes(text, &[&a, &b]);
        assert_eq!(
            r.text,
            "svc:\n  image: x\n  cap_drop:\n    - ALL\n  security_opt:\n    - no-new-privileges:true\nnext:\n"
        );
        assert_eq!(r.applied, vec![0, 1]);
        // The same key twice, or a line that goes back out, does not stack.
        let c = widened("  cap_drop:\n    - NET_RAW\n");
        let d = widened("  user: app\nother: 1\n");
        let r = apply_fixes(text, &[&a, &c, &d]);
        assert_eq!(r.applied, vec![0]);
        assert_eq!(r.deferred, vec![1, 2]);
        // A later key of the inserted lines counts too (`cap_add` of both).
        let e = widened("  cap_drop:\n    - ALL\n  cap_add:\n    - CHOWN\n");
        let f = widened("  read_only: true\n  cap_add:\n    - CHOWN\n");
        let r = apply_fixes(text, &[&e, &f]);
        assert_eq!(r.deferred, vec![1]);
    }

    /// A plain insertion at the start of the line after the break stacks with the widened ones
    /// there, after them (the rounds apply the widened ones first: they sort first).
    #[test]
    fn plain_insertions_stack_after_the_widened_ones() {
        let text = "svc:\n  image: x\nnext:\n";
        let at = text.find("next").unwrap();
        let plain = insert_at(at, "  read_only: true\n");
        let a = widened_at(at, "  cap_drop: [ALL]\n");
        let b = widened_at(at, "  security_opt: [x]\n");
        for r in [
            apply_fixes(text, &[&plain, &a, &b]),
            apply_yaml_fixes(text, &[&plain, &a, &b]),
        ] {
            assert_eq!(r.applied, vec![0, 1, 2]);
            assert_eq!(
                r.text,
                "svc:\n  image: x\n  cap_drop: [ALL]\n  security_opt: [x]\n  read_only: true\nnext:\n"
            );
        }
    }

    /// Where another fix reaches the line break (a fix with more edits),
    /// which insertion lands first depends on the rounds: the widened ones wait, as before.
    #[test]
    fn widened_insertions_wait_where_another_fix_reaches_the_break() {
        let text = "svc:\n  image: x\nnext:\n";
        let at = text.find("next").unwrap();
        let a = widened_at(at, "  cap_drop: [ALL]\n");
        let b = widened_at(at, "  read_only: true\n");
        let more = fix(vec![
            Edit::replace(TextRange::new(7, 12), "IMAGE"),
            Edit::replace(TextRange::new(at - 1, at), "\n  secrets: [s]\n"),
        ]);
        let r = apply_fixes(text, &[&a, &b, &more]);
        assert_eq!(r.applied, vec![2]);
        assert_eq!(r.deferred, vec![0, 1]);
    }

    /// In YAML, insertions at one offset with different indentations stack, the deeper first (the
    /// order of the rounds: the outer one lands after the inner collection's end); elsewhere they
    /// wait for the next round.
    #[test]
    fn yaml_insertions_of_different_depths_stack_deeper_first() {
        let text = "spec:\n  containers:\n    - name: a\n      image: x\nnext: 1\n";
        let at = text.find("next").unwrap();
        let outer = insert_at(at, "  securityContext:\n    runAsNonRoot: true\n");
        let inner = insert_at(at, "      securityContext:\n        privileged: false\n");
        let r = apply_yaml_fixes(text, &[&outer, &inner]);
        assert_eq!(r.applied, vec![0, 1]);
        assert_eq!(
            r.text,
            "spec:\n  containers:\n    - name: a\n      image: x\n      securityContext:\n        privileged: false\n  securityContext:\n    runAsNonRoot: true\nnext: 1\n"
        );
        let r = apply_fixes(text, &[&outer, &inner]);
        assert_eq!(r.applied, vec![0]);
        assert_eq!(r.deferred, vec![1]);
    }

    /// A fix that reaches such a stack but waits for a later round (it conflicts elsewhere) would
    /// land between the stacked ones: the stack is undone, as the rounds would apply them.
    #[test]
    fn a_stack_reached_by_a_waiting_fix_is_undone() {
        let text = "a:\n  b:\n    c: 1\nz: 2\n";
        let at = text.find("z:").unwrap();
        let outer = insert_at(at, "  d: 1\n");
        let inner = insert_at(at, "    e: 1\n");
        // Conflicts with `first` at 0..1, and inserts at the stack's offset too.
        let first = fix(vec![Edit::replace(TextRange::new(0, 1), "A")]);
        let waiting = fix(vec![
            Edit::replace(TextRange::new(0, 2), "X:"),
            Edit::insert(at, "  f: 1\n"),
        ]);
        let r = apply_yaml_fixes(text, &[&first, &waiting, &outer, &inner]);
        assert_eq!(r.applied, vec![0, 2]);
        assert_eq!(r.deferred, vec![1, 3]);
        // Without the waiting fix, the stack stands.
        let r = apply_yaml_fixes(text, &[&first, &outer, &inner]);
        assert_eq!(r.applied, vec![0, 1, 2]);
        assert_eq!(r.text, "A:\n  b:\n    c: 1\n    e: 1\n  d: 1\nz: 2\n");
    }

    /// A fix that waits only because it starts the key a stacked insertion starts goes into that
    /// mapping next round: the stack stands.
    #[test]
    fn a_fix_waiting_for_a_key_of_the_stack_does_not_undo_it() {
        let text = "spec:\n  containers:\n    - name: a\n      image: x\nnext: 1\n";
        let at = text.find("next").unwrap();
        let pod = insert_at(at, "  securityContext:\n    runAsNonRoot: true\n");
        let first = insert_at(at, "      securityContext:\n        privileged: false\n");
        let second = insert_at(
            at,
            "      securityContext:\n        readOnlyRootFilesystem: true\n",
        );
        let r = apply_yaml_fixes(text, &[&pod, &first, &second]);
        assert_eq!(r.applied, vec![0, 1]);
        assert_eq!(r.deferred, vec![2]);
        // Waiting for a key and for another edit: the stack is undone.
        let busy = fix(vec![Edit::replace(TextRange::new(0, 4), "SPEC")]);
        let both = fix(vec![
            Edit::replace(TextRange::new(0, 4), "Spec"),
            Edit::insert(
                at,
                "      securityContext:\n        readOnlyRootFilesystem: true\n",
            ),
        ]);
        let r = apply_yaml_fixes(text, &[&busy, &pod, &first, &both]);
        assert_eq!(r.applied, vec![0, 1]);
        assert_eq!(r.deferred, vec![2, 3]);
    }

    /// At the end of a text without a final line break, insertions of whole lines (each after a
    /// line break) stack too: in YAML the deeper first.
    #[test]
    fn insertions_at_the_end_without_a_final_break_stack() {
        let text = "spec:\n  containers:\n    - image: x";
        let end = text.len();
        let pod = insert_at(end, "\n  securityContext:\n    runAsNonRoot: true");
        let ctr = insert_at(end, "\n      securityContext:\n        privileged: false");
        let r = apply_yaml_fixes(text, &[&pod, &ctr]);
        assert_eq!(r.applied, vec![0, 1]);
        assert_eq!(
            r.text,
            "spec:\n  containers:\n    - image: x\n      securityContext:\n        privileged: false\n  securityContext:\n    runAsNonRoot: true"
        );
        // An insertion that is not whole lines (glued to the last line) does not.
        let glued = insert_at(end, ":latest");
        let r = apply_yaml_fixes(text, &[&pod, &glued]);
        assert_eq!(r.deferred, vec![1]);
    }

    /// A stack at the end of a text without a final line break that a waiting fix reaches is
    /// undone like the others (this once looped: undoing it did not stop it from forming again).
    #[test]
    fn an_end_of_text_stack_reached_by_a_waiting_fix_is_undone() {
        let text = "a:\n  b: 1";
        let end = text.len();
        let first = fix(vec![Edit::replace(TextRange::new(0, 1), "A")]);
        let c = insert_at(end, "\n  c: 1");
        let d = insert_at(end, "\n  d: 1");
        let waiting = fix(vec![
            Edit::replace(TextRange::new(0, 2), "X:"),
            Edit::insert(end, "\n  e: 1"),
        ]);
        for yaml in [false, true] {
            let r = apply_fixes_in(text, &[&first, &waiting, &c, &d], yaml);
            assert_eq!(r.applied, vec![0, 2]);
            assert_eq!(r.deferred, vec![1, 3]);
            assert_eq!(r.text, "A:\n  b: 1\n  c: 1");
        }
    }

    #[test]
    fn out_of_bounds_is_invalid() {
        let a = insert_at(10, "x");
        let r = apply_fixes("abc", &[&a]);
        assert_eq!(r.text, "abc");
        assert_eq!(r.invalid, vec![0]);
    }

    /// Scaling by counting work: each fix is compared with a few accepted neighbours, not with every
    /// accepted fix (20 000 fixes used to take 200 million comparisons).
    #[test]
    fn conflicts_are_checked_against_neighbours_only() {
        let text = "ab".repeat(10_000);
        let fixes: Vec<Fix> = (0..10_000)
            .flat_map(|i| {
                [
                    fix(vec![Edit::replace(TextRange::new(2 * i, 2 * i + 1), "A")]),
                    // Overlaps the first: deferred.
                    fix(vec![Edit::replace(TextRange::new(2 * i, 2 * i + 2), "X")]),
                ]
            })
            .collect();
        let refs: Vec<&Fix> = fixes.iter().collect();
        crate::work::take("apply.comparisons");
        let r = apply_fixes(&text, &refs);
        assert_eq!(r.applied.len(), 10_000);
        assert_eq!(r.deferred.len(), 10_000);
        assert_eq!(r.text, "Ab".repeat(10_000));
        let n = crate::work::take("apply.comparisons");
        assert!(
            n <= 4 * fixes.len(),
            "{n} comparisons for {} fixes",
            fixes.len()
        );
    }

    /// Random line insertions (plain, or widened to the break before them, at random depths) over
    /// random lines: every applied fix's lines appear once, the text's own lines stay in order,
    /// and the lines stacked at one place go from deeper to shallower.
    #[test]
    fn random_line_insertions_property() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % (n as u64)).unwrap()
        };
        for _ in 0..3000 {
            let nlines = next(5) + 1;
            let text: String = (0..nlines).map(|i| format!("l{i}: x\n")).collect();
            let starts: Vec<usize> = text
                .match_indices('\n')
                .map(|(i, _)| i + 1)
                .filter(|&i| i < text.len())
                .collect();
            if starts.is_empty() {
                continue;
            }
            let nfix = next(6) + 1;
            let fixes: Vec<Fix> = (0..nfix)
                .map(|k| {
                    let at = starts[next(starts.len())];
                    let line = format!("{}k{k}: {}\n", "  ".repeat(next(3)), next(2));
                    let edit = if next(2) == 0 {
                        Edit::insert(at, line)
                    } else {
                        Edit::replace(TextRange::new(at - 1, at), format!("\n{line}"))
                    };
                    fix(vec![edit])
                })
                .collect();
            let refs: Vec<&Fix> = fixes.iter().collect();
            for yaml in [false, true] {
                let r = apply_fixes_in(&text, &refs, yaml);
                let own: Vec<&str> = r.text.lines().filter(|l| l.starts_with('l')).collect();
                assert_eq!(
                    own,
                    text.lines().collect::<Vec<_>>(),
                    "{text:?} -> {:?}",
                    r.text
                );
                let inserted: Vec<&str> = r.text.lines().filter(|l| !l.starts_with('l')).collect();
                assert_eq!(inserted.len(), r.applied.len(), "{:?}", r.text);
                for &i in &r.applied {
                    let line = fixes[i].edits[0].replacement.trim_start_matches('\n');
                    assert_eq!(r.text.matches(line).count(), 1, "{:?}", r.text);
                }
                for run in r.text.split('l').filter(|s| s.contains('k')) {
                    let depths: Vec<usize> = run
                        .lines()
                        .filter(|l| l.trim_start().starts_with('k'))
                        .map(|l| l.len() - l.trim_start().len())
                        .collect();
                    assert!(depths.windows(2).all(|w| w[0] >= w[1]), "{:?}", r.text);
                }
                assert_eq!(r.applied.len() + r.deferred.len(), nfix);
            }
        }
    }

    /// Random mixes of line insertions (plain, widened, at the open end of a text without a final
    /// line break) and fixes with a second edit that may make them wait: every pass ends, and the
    /// applied fixes' edits are all in the result.
    #[test]
    fn random_stacks_with_waiting_fixes_end() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % (n as u64)).unwrap()
        };
        for _ in 0..3000 {
            let nlines = next(4) + 1;
            let mut text: String = (0..nlines).map(|i| format!("l{i}: x\n")).collect();
            if next(2) == 0 {
                text.pop();
            }
            let breaks: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
            let nfix = next(7) + 1;
            let fixes: Vec<Fix> = (0..nfix)
                .map(|k| {
                    let line = format!("{}k{k}: 1", "  ".repeat(next(3)));
                    let mut edits = vec![match next(3) {
                        0 if !text.ends_with('\n') => Edit::insert(text.len(), format!("\n{line}")),
                        1 if !breaks.is_empty() => {
                            let b = breaks[next(breaks.len())];
                            Edit::replace(TextRange::new(b, b + 1), format!("\n{line}\n"))
                        }
                        _ if !breaks.is_empty() => {
                            Edit::insert(breaks[next(breaks.len())] + 1, format!("{line}\n"))
                        }
                        _ => Edit::insert(0, format!("{line}\n")),
                    }];
                    if next(3) == 0 {
                        let a = next(3);
                        edits.push(Edit::replace(TextRange::new(a, a + 1), "L"));
                    }
                    Fix::safe("r", edits)
                })
                .collect();
            let refs: Vec<&Fix> = fixes.iter().collect();
            for yaml in [false, true] {
                let r = apply_fixes_in(&text, &refs, yaml);
                assert_eq!(r.applied.len() + r.deferred.len() + r.invalid.len(), nfix);
                for &i in &r.applied {
                    for e in &fixes[i].edits {
                        let body = e.replacement.trim_matches('\n');
                        assert!(r.text.contains(body), "{text:?} -> {:?}", r.text);
                    }
                }
            }
        }
    }

    /// Random fixes over random text: never panics, the applied fixes never overlap each other, and
    /// the result equals applying the accepted edits one by one from the end.
    #[test]
    fn random_fixes_property() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % (n as u64)).unwrap()
        };
        for _ in 0..2000 {
            let len = next(40);
            let text: String = (0..len)
                .map(|i| if i % 7 == 6 { '\n' } else { 'a' })
                .collect();
            let nfix = next(5);
            let fixes: Vec<Fix> = (0..nfix)
                .map(|_| {
                    let n = next(3) + 1;
                    let mut edits = Vec::new();
                    for _ in 0..n {
                        let a = next(len + 1);
                        let b = (a + next(4)).min(len);
                        edits.push(Edit::replace(TextRange::new(a, b), "x".repeat(next(3))));
                    }
                    Fix::safe("r", edits)
                })
                .collect();
            let refs: Vec<&Fix> = fixes.iter().collect();
            let r = apply_fixes(&text, &refs);
            let mut accepted: Vec<&Edit> = Vec::new();
            for &i in &r.applied {
                for e in &fixes[i].edits {
                    assert!(
                        accepted
                            .iter()
                            .all(|a| *a == e || !a.range.overlaps(e.range)),
                        "applied fixes overlap"
                    );
                    if !accepted.contains(&e) {
                        accepted.push(e);
                    }
                }
            }
            accepted.sort_by_key(|e| std::cmp::Reverse((e.range.start, e.range.end)));
            let mut expect = text.clone();
            for e in accepted {
                expect.replace_range(e.range.start..e.range.end, &e.replacement);
            }
            assert_eq!(r.text, expect);
            assert_eq!(
                r.applied.len() + r.deferred.len() + r.invalid.len(),
                fixes.iter().filter(|f| !f.edits.is_empty()).count()
            );
        }
    }
}
