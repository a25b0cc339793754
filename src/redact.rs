//! Secret values masked in output that lands in logs (`fix --check`): the unified diff is computed on
//! the real texts, so it has the same hunks and lines as `fix --diff`, and every line is then shown
//! with the secret values in it masked (`gh****`, see [`mask_secret`]). Such a diff is for reading:
//! a masked line no longer matches the file, so it cannot be applied (`fix --diff` is exact).

use dockharden_transforms::finding::mask_secret;
use dockharden_transforms::text::TextRange;

/// A detected value shorter than this is masked only where it was detected: masking every
/// occurrence of `app` would hide half of the file.
const MIN_ELSEWHERE: usize = 4;

/// `range` without the quotes around it: a quoted scalar or word (`"value"`), or the value part of
/// a quoted `"KEY=value"` list item (`value"`, only the closing quote is in the range).
fn unquoted(text: &str, range: TextRange) -> TextRange {
    let s = range.slice(text);
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
        return range;
    };
    let quote = |c: char| c == '"' || c == '\'';
    if s.len() >= 2 && quote(first) && first == last {
        return TextRange::new(range.start + 1, range.end - 1);
    }
    if quote(last) && !s[..s.len() - 1].contains(last) {
        return TextRange::new(range.start, range.end - 1);
    }
    range
}

/// The spans of `text` to mask: the detected `ranges` and every occurrence of a secret value of at
/// least [`MIN_ELSEWHERE`] bytes; merged and sorted.
fn spans(text: &str, ranges: &[TextRange], values: &[String]) -> Vec<TextRange> {
    let mut out: Vec<TextRange> = ranges
        .iter()
        .map(|&r| unquoted(text, r))
        .filter(|r| !r.is_empty())
        .collect();
    for v in values.iter().filter(|v| v.len() >= MIN_ELSEWHERE) {
        out.extend(
            text.match_indices(v.as_str())
                .map(|(at, m)| TextRange::new(at, at + m.len())),
        );
    }
    out.sort();
    let mut merged: Vec<TextRange> = Vec::with_capacity(out.len());
    for r in out {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => *last = last.cover(r),
            _ => merged.push(r),
        }
    }
    merged
}

/// `text` with `spans` masked; line terminators are kept, so line `i` of the result shows line `i`
/// of `text`. A value over several lines shows its mask on the first and `****` on the others.
fn mask_text(text: &str, spans: &[TextRange]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in spans {
        out.push_str(&text[at..s.start]);
        let value = s.slice(text);
        let mut first = true;
        let mut rest = value;
        while !rest.is_empty() {
            let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
            if end > 0 {
                out.push_str(&if first {
                    mask_secret(value)
                } else {
                    "****".to_owned()
                });
            }
            first = false;
            let term = rest[end..]
                .find(|c| c != '\n' && c != '\r')
                .map_or(rest.len(), |k| end + k);
            out.push_str(&rest[end..term]);
            rest = &rest[term..];
        }
        at = s.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The unified diff of `old` → `new` (the hunks of [`crate::run::unified_diff`]) with the secret
/// values at `old_secrets` / `new_secrets`, and every other occurrence of them, masked. Returns the
/// diff and the number of distinct values masked.
pub fn masked_diff(
    display: &str,
    old: &str,
    old_secrets: &[TextRange],
    new: &str,
    new_secrets: &[TextRange],
) -> (String, usize) {
    let mut values: Vec<String> = old_secrets
        .iter()
        .map(|&r| unquoted(old, r).slice(old).to_owned())
        .chain(
            new_secrets
                .iter()
                .map(|&r| unquoted(new, r).slice(new).to_owned()),
        )
        .filter(|v| !v.is_empty())
        .collect();
    values.sort();
    values.dedup();
    let old_masked = mask_text(old, &spans(old, old_secrets, &values));
    let new_masked = mask_text(new, &spans(new, new_secrets, &values));
    let out = crate::run::unified_diff_shown(display, old, new, &old_masked, &new_masked);
    (out, values.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_secrets_it_is_the_exact_diff() {
        let cases = [
            ("a\nb\nc\n", "a\nB\nc\n"),
            ("a\nb", "a\nB"),
            ("a\nb\n", "a\nb"),
            ("a\nb", "a\nb\n"),
            ("a\r\nb\r\n", "a\r\nc\r\nb\r\n"),
            ("x\ry\rz", "x\rY\rz"),
            ("", "a\n"),
            (
                "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n",
                "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nx\n",
            ),
        ];
        for (old, new) in cases {
            let (masked, n) = masked_diff("./d/f", old, &[], new, &[]);
            assert_eq!(n, 0);
            assert_eq!(
                masked,
                crate::run::unified_diff("./d/f", old, new),
                "{old:?} -> {new:?}"
            );
        }
    }

    #[test]
    fn secrets_are_masked_where_detected_and_wherever_else_they_appear() {
        let old = "ENV A=\"s3cretvalue1\"\nRUN use s3cretvalue1\nENV B=ab\nLABEL x=ab\n";
        let new = "ENV A=\"s3cretvalue1\"\nRUN use s3cretvalue1 now\nLABEL x=ab\n";
        let a = old.find("\"s3").unwrap();
        let b = old.find("=ab").unwrap() + 1;
        let (d, n) = masked_diff(
            "f",
            old,
            &[TextRange::new(a, a + 14), TextRange::new(b, b + 2)],
            new,
            &[TextRange::new(a, a + 14)],
        );
        assert_eq!(n, 2);
        assert!(!d.contains("s3cretvalue1"), "{d}");
        assert!(d.contains(" ENV A=\"s3****\"\n"), "{d}");
        assert!(d.contains("-RUN use s3****\n"), "{d}");
        assert!(d.contains("+RUN use s3**** now\n"), "{d}");
        assert!(d.contains("-ENV B=****\n"), "{d}");
        // Short values are masked only where detected.
        assert!(d.contains(" LABEL x=ab\n"), "{d}");
    }

    #[test]
    fn a_value_over_several_lines_keeps_the_line_structure() {
        let old = "key: |\n  -----BEGIN KEY-----\n  abcdefgh\n  -----END KEY-----\nother: 1\n";
        let new = "other: 1\n";
        let start = old.find("-----BEGIN").unwrap();
        let end = old.find("other").unwrap() - 1;
        let (d, _) = masked_diff("f", old, &[TextRange::new(start, end)], new, &[]);
        assert!(!d.contains("abcdefgh") && !d.contains("BEGIN KEY"), "{d}");
        assert_eq!(
            d.lines()
                .filter(|l| l.starts_with('-') && !l.starts_with("---"))
                .count(),
            4,
            "{d}"
        );
    }

    #[test]
    fn quotes_are_not_part_of_the_value() {
        let t = "\"abc\" 'de' \"x=fg\" plain";
        assert_eq!(unquoted(t, TextRange::new(0, 5)).slice(t), "abc");
        assert_eq!(unquoted(t, TextRange::new(6, 10)).slice(t), "de");
        assert_eq!(unquoted(t, TextRange::new(14, 17)).slice(t), "fg");
        assert_eq!(unquoted(t, TextRange::new(18, 23)).slice(t), "plain");
    }
}
