//! Verification of a Dockerfile fix by meaning: the instruction list as BuildKit reads it (keyword,
//! flags, arguments, heredoc bodies, `ONBUILD` triggers, stage boundaries, parser directives) must equal
//! the original apart from the instructions the applied edits touch. Re-parsing alone is not enough: an
//! instruction appended after a line that ends in the escape character parses fine, but BuildKit
//! joins it to the instruction above (`RUN npm ci USER 1000`).
//!
//! An instruction is *touched* when an edit overlaps its node (its lines, the comment lines inside
//! its continuation and its heredoc bodies) or inserts strictly inside it; an insertion at its very
//! start or end does not touch it, unless it continues a last line that has no line break. Every untouched instruction must reappear, shifted by the edits
//! before it, with the same meaning; every other instruction of the result must lie at least partly
//! in text the edits wrote.

use crate::edit::Edit;
use crate::text::TextRange;

use super::syntax::{Dockerfile, Instruction};

/// What an instruction means to BuildKit, for comparison.
#[derive(Debug, PartialEq, Eq)]
struct Meaning {
    dump: String,
    heredocs: Vec<(String, bool, bool, Option<u32>, String, bool)>,
}

fn meaning(ins: &Instruction) -> Meaning {
    Meaning {
        dump: ins.buildkit_dump(),
        heredocs: ins
            .heredocs
            .iter()
            .map(|h| {
                (
                    h.name.clone(),
                    h.strip_tabs,
                    h.quoted,
                    h.fd,
                    h.body.clone(),
                    h.terminated,
                )
            })
            .collect(),
    }
}

/// Whether one of `ranges` changes the text of `range` (overlaps it, or inserts strictly inside
/// it). `ranges` are sorted and do not overlap (applied edits, or what they wrote), so their ends
/// are sorted too: the first one ending after `range.start` is the only candidate. Logarithmic.
fn touched(ranges: &[TextRange], range: TextRange) -> bool {
    let j = ranges.partition_point(|e| e.end <= range.start);
    ranges.get(j).is_some_and(|e| {
        if e.is_empty() {
            range.start < e.start && e.start < range.end
        } else {
            e.start < range.end
        }
    })
}

/// Whether an insertion among `edits` (sorted) appends to the last line of `range` when that line
/// has no line break (the end of a file without a final newline), where text that does not start a
/// new line continues the instruction.
fn appended(text: &str, edits: &[Edit], range: TextRange) -> bool {
    if range.is_empty() || text[..range.end].ends_with('\n') {
        return false;
    }
    let j = edits.partition_point(|e| e.range.start < range.end);
    edits[j..]
        .iter()
        .take_while(|e| e.range.start == range.end)
        .any(|e| e.range.is_empty() && !e.replacement.starts_with(['\n', '\r']))
}

/// Where `offset` of the original text is in the edited text: `shift[i]` is the total length change
/// of the first `i` edits (sorted, non-overlapping); an insertion exactly at `offset` comes before it.
fn shifted(edits: &[Edit], shift: &[isize], offset: usize) -> usize {
    let n = edits.partition_point(|e| e.range.end <= offset);
    offset.saturating_add_signed(shift[n])
}

/// Check that `after` (the parse of the edited text `after_text`) means what `before` meant, apart
/// from the instructions `edits` touch. `edits` are the applied edits against the text `before`
/// was parsed from.
///
/// An instruction's meaning (what BuildKit reads, its heredocs) is a function of its text (its
/// lines, continuation and heredoc lines included) and the escape character: an instruction whose
/// text is the same under the same escape character is not compared by meaning (debug builds, so
/// every test, still compare and assert that they agree).
///
/// # Errors
/// A description of the first difference that no edit declares.
pub fn verify(
    text: &str,
    after_text: &str,
    before: &Dockerfile,
    after: &Dockerfile,
    edits: &[Edit],
) -> Result<(), String> {
    let line_of =
        |ins: &Instruction| crate::text::LineIndex::new(text).line_of(ins.full_range.start) + 1;
    let mut edits: Vec<Edit> = edits.to_vec();
    edits.sort();
    edits.dedup();
    let ranges: Vec<TextRange> = edits.iter().map(|e| e.range).collect();
    // The regions of the new text that the edits wrote, and the length change before each edit.
    let mut written: Vec<TextRange> = Vec::with_capacity(edits.len());
    let mut shift: Vec<isize> = Vec::with_capacity(edits.len() + 1);
    let mut delta: isize = 0;
    shift.push(0);
    for e in &edits {
        let start = e.range.start.saturating_add_signed(delta);
        written.push(TextRange::new(start, start + e.replacement.len()));
        delta += e.replacement.len() as isize - e.range.len() as isize;
        shift.push(delta);
    }
    let in_written = |r: TextRange| touched(&written, r);
    // Parser directives: an untouched one stays as it was; a new or changed one was written.
    let mut kept = vec![false; after.directives.len()];
    for d in &before.directives {
        if touched(&ranges, d.range) || appended(text, &edits, d.range) {
            continue;
        }
        let same = after.directives.iter().position(|x| {
            x.range.start == shifted(&edits, &shift, d.range.start)
                && x.name.eq_ignore_ascii_case(&d.name)
                && x.value == d.value
        });
        match same {
            Some(k) => kept[k] = true,
            None => return Err(format!("the fix changed the parser directive `{}`", d.name)),
        }
    }
    for (k, d) in after.directives.iter().enumerate() {
        if !kept[k] && !in_written(d.range) {
            return Err(format!(
                "the fix made a parser directive `{}` out of text it did not write",
                d.name
            ));
        }
    }
    let mut matched = vec![false; after.instructions.len()];
    for (n, ins) in before.instructions.iter().enumerate() {
        if touched(&ranges, ins.full_range) || appended(text, &edits, ins.full_range) {
            continue;
        }
        let at = shifted(&edits, &shift, ins.full_range.start);
        let Ok(k) = after
            .instructions
            .binary_search_by_key(&at, |a| a.full_range.start)
        else {
            return Err(format!(
                "instruction {} (`{}` on line {}) is no longer an instruction of its own after the fix",
                n + 1,
                ins.keyword,
                line_of(ins)
            ));
        };
        let a = &after.instructions[k];
        let same_text = before.escape == after.escape
            && ins.full_range.slice(text) == a.full_range.slice(after_text);
        if same_text {
            debug_assert!(
                meaning(ins) == meaning(a),
                "the same text read differently: {:?}",
                ins.full_range.slice(text)
            );
        } else if meaning(ins) != meaning(a) {
            return Err(format!(
                "the fix changed instruction {} (`{}` on line {}), which it does not edit: BuildKit now reads {} instead of {}",
                n + 1,
                ins.keyword,
                line_of(ins),
                after.instructions[k].buildkit_dump(),
                ins.buildkit_dump()
            ));
        }
        matched[k] = true;
    }
    // Whole lines inserted between instructions must stay apart from the instruction before them,
    // also when that instruction is edited (and so not compared above): a continuation left open
    // would make BuildKit read them as its arguments.
    for (e, w) in edits.iter().zip(&written) {
        if !e.range.is_empty()
            || before
                .instructions
                .iter()
                .any(|i| i.full_range.start < e.range.start && e.range.start < i.full_range.end)
        {
            continue;
        }
        let at_line_start = e.range.start == 0 || text[..e.range.start].ends_with('\n');
        let lead = if at_line_start {
            0
        } else if e.replacement.starts_with("\r\n") {
            2
        } else if e.replacement.starts_with('\n') {
            1
        } else {
            continue;
        };
        if e.replacement[lead..].trim().is_empty() {
            continue;
        }
        let block = w.start + lead;
        if let Some(a) = after
            .instructions
            .iter()
            .find(|a| a.full_range.start < block && block < a.full_range.end)
        {
            let new_line = e.replacement[lead..].lines().next().unwrap_or("").trim();
            return Err(format!(
                "the line `{new_line}` that the fix adds is read by BuildKit as part of the `{}` instruction before it: {}",
                a.keyword,
                a.buildkit_dump()
            ));
        }
    }
    for (k, a) in after.instructions.iter().enumerate() {
        if matched[k] {
            continue;
        }
        let from_edit = in_written(a.full_range);
        if !from_edit {
            return Err(format!(
                "the fix made a new instruction `{}` out of text it did not write",
                a.keyword
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::syntax::parse;

    fn check(text: &str, edits: &[Edit]) -> Result<(), String> {
        let before = parse(text).unwrap();
        let mut out = text.to_owned();
        let mut sorted = edits.to_vec();
        sorted.sort();
        for e in sorted.iter().rev() {
            out.replace_range(e.range.start..e.range.end, &e.replacement);
        }
        let after = parse(&out).unwrap();
        verify(text, &out, &before, &after, edits)
    }

    #[test]
    fn an_instruction_appended_after_a_dangling_continuation_is_caught() {
        let text = "FROM node:20\nRUN npm ci \\\n";
        let err = check(text, &[Edit::insert(text.len(), "USER 1000:1000\n")]).unwrap_err();
        assert!(err.contains("RUN"), "{err}");
    }

    #[test]
    fn a_plain_append_and_a_keyword_change_verify() {
        let text = "FROM node:20\nADD a /a\nRUN npm ci\n";
        check(text, &[Edit::insert(text.len(), "USER 1000:1000\n")]).unwrap();
        let at = text.find("ADD").unwrap();
        check(text, &[Edit::replace(TextRange::new(at, at + 3), "COPY")]).unwrap();
    }

    #[test]
    fn an_edit_that_swallows_the_next_instruction_is_caught() {
        // Removing the line break after `RUN a` joins `RUN b` to it.
        let text = "FROM x\nRUN a \\\n  && c\nRUN b\n";
        let at = text.find("  && c").unwrap();
        let err = check(
            text,
            &[Edit::replace(TextRange::new(at, at + 6), "  && c \\")],
        )
        .unwrap_err();
        assert!(err.contains("RUN") || err.contains("instruction"), "{err}");
    }

    #[test]
    fn heredoc_bodies_count() {
        let text = "FROM x\nRUN <<EOF\necho hi\nEOF\nCMD [\"a\"]\n";
        let at = text.find("echo hi").unwrap();
        // An edit inside the body touches the RUN: allowed.
        check(
            text,
            &[Edit::replace(TextRange::new(at, at + 7), "echo ho")],
        )
        .unwrap();
    }

    /// A file without a final line break: text appended to its last line edits the last
    /// instruction (DF010 adding `&& rm -rf /var/lib/apt/lists/*`), a new line appended after it
    /// must leave it alone.
    #[test]
    fn an_append_to_a_last_line_without_a_line_break_edits_that_instruction() {
        let text = "FROM debian:12\nRUN apt-get install -y curl";
        check(
            text,
            &[Edit::insert(text.len(), " && rm -rf /var/lib/apt/lists/*")],
        )
        .unwrap();
        check(text, &[Edit::insert(text.len(), "\nUSER 1000\n")]).unwrap();
        let dangling = "FROM debian:12\nRUN apt-get install -y curl \\";
        assert!(check(dangling, &[Edit::insert(dangling.len(), "\nUSER 1000\n")]).is_err());
    }

    /// Removing the dangling escape of `VOLUME /config \<tab> \<tab>` leaves `VOLUME /config \`,
    /// continued still: the VOLUME is edited (so not compared), but the line appended after it must
    /// not become part of it (BuildKit reads `VOLUME /config HEALTHCHECK ...`).
    #[test]
    fn new_lines_swallowed_by_an_edited_instruction_are_caught() {
        let text = "FROM x\nVOLUME /config \\\t \\\t\n";
        let df = parse(text).unwrap();
        let escape = df.instructions[1].dangling_escape(text).unwrap();
        let err = check(
            text,
            &[
                Edit::delete(escape),
                Edit::insert(text.len(), "HEALTHCHECK NONE\n"),
            ],
        )
        .unwrap_err();
        assert!(
            err.contains("VOLUME") && err.contains("HEALTHCHECK"),
            "{err}"
        );
        // Without a final line break the new line starts with one.
        let text = "FROM x\nRUN a \\";
        let df = parse(text).unwrap();
        let escape = df.instructions[1].dangling_escape(text).unwrap();
        check(
            text,
            &[Edit::delete(escape), Edit::insert(text.len(), "\nUSER 1\n")],
        )
        .unwrap();
        let err = check(text, &[Edit::insert(text.len(), "\nUSER 1\n")]).unwrap_err();
        assert!(err.contains("RUN"), "{err}");
    }

    #[test]
    fn an_unterminated_heredoc_swallows_appended_text() {
        let text = "FROM x\nRUN <<EOF\necho hi\n";
        assert!(check(text, &[Edit::insert(text.len(), "USER 1000\n")]).is_err());
    }

    /// An untouched instruction with the same text is still compared by meaning when the escape
    /// character changed: the text alone does not say what BuildKit reads.
    #[test]
    fn the_same_text_under_another_escape_character_is_compared() {
        let text = "# escape=\\\nFROM x\nENV A=a\\ B=b\n";
        let at = text.find('\\').unwrap();
        let err = check(text, &[Edit::replace(TextRange::new(at, at + 1), "`")]).unwrap_err();
        assert!(err.contains("ENV"), "{err}");
    }

    #[test]
    fn directives_are_compared() {
        let text = "# escape=`\nFROM x\nRUN a `\n  b\n";
        let err = check(text, &[Edit::insert(0, "\n")]).unwrap_err();
        assert!(err.contains("escape") || err.contains("directive") || err.contains("instruction"));
    }
}
