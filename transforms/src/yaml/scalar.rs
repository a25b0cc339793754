//! Writing scalars: when a string can stay plain, and how to quote it.

use std::fmt::Write as _;

/// How a scalar is written in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    Plain,
    /// `'...'`
    Single,
    /// `"..."`
    Double,
    /// `|` block scalar
    Literal,
    /// `>` block scalar
    Folded,
}

/// A quote character, for new scalars that need quoting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuoteStyle {
    Single,
    Double,
}

fn is_indicator(c: char) -> bool {
    matches!(
        c,
        '-' | '?'
            | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    )
}

/// Whether `s` can be written as a plain scalar and read back as the same characters (in block
/// context, or in flow context when `flow`). Says nothing about the type it resolves to: `true`
/// and `8080` are plain-safe; see [`plain_is_string`].
#[must_use]
pub fn is_plain_safe(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) {
        return false;
    }
    let unsafe_char =
        |c: char| c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}';
    // (ASCII: the control characters are the bytes below 0x20 and 0x7f.)
    if if s.is_ascii() {
        s.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        s.chars().any(unsafe_char)
    } {
        return false;
    }
    if is_indicator(first) {
        // `-x`, `?x`, `:x` are plain when followed by a safe character.
        let second = s[first.len_utf8()..].chars().next();
        let ok = matches!(first, '-' | '?' | ':')
            && second
                .is_some_and(|c| c != ' ' && !(flow && matches!(c, ',' | '[' | ']' | '{' | '}')));
        if !ok {
            return false;
        }
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if s.as_bytes().windows(2).any(|w| w == b": " || w == b" #") || s.ends_with(':') {
        return false;
    }
    if flow
        && s.bytes()
            .any(|b| matches!(b, b',' | b'[' | b']' | b'{' | b'}'))
    {
        return false;
    }
    true
}

/// Whether the plain scalar `s` resolves to a string (not null, bool, number) under the YAML 1.2 core
/// schema and, conservatively, YAML 1.1 (`yes`, `off`, `0777`, `1_000`, sexagesimal `1:30`, ...),
/// which Kubernetes' loader still follows.
#[must_use]
pub fn plain_is_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "" | "~"
            | "null"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | ".inf"
            | "+.inf"
            | "-.inf"
            | ".nan"
            | "<<"
            | "="
    ) {
        return false;
    }
    // Anything that starts like a number (or a date/time, or a base-60 number) is quoted.
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let body = body.strip_prefix('.').unwrap_or(body);
    !body.starts_with(|c: char| c.is_ascii_digit())
}

/// `s` as a double-quoted scalar.
#[must_use]
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if c.is_control() => {
                let n = c as u32;
                let _ = if n <= 0xff {
                    write!(out, "\\x{n:02X}")
                } else {
                    write!(out, "\\u{n:04X}")
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` as a single-quoted scalar, or None when single quotes cannot hold it (line breaks, control
/// characters).
#[must_use]
pub fn single_quoted(s: &str) -> Option<String> {
    if s.chars().any(|c| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{85}')
    }) {
        return None;
    }
    Some(format!("'{}'", s.replace('\'', "''")))
}

/// `s` quoted in `style` (falling back to double quotes when single quotes cannot hold it).
#[must_use]
pub fn quoted(s: &str, style: QuoteStyle) -> String {
    match style {
        QuoteStyle::Single => single_quoted(s).unwrap_or_else(|| double_quoted(s)),
        QuoteStyle::Double => double_quoted(s),
    }
}

/// A string value as a YAML scalar that reads back as exactly this string: plain when that is safe
/// and unambiguous, else quoted in `style`.
#[must_use]
pub fn string_scalar(s: &str, style: QuoteStyle, flow: bool) -> String {
    if is_plain_safe(s, flow) && plain_is_string(s) {
        s.to_owned()
    } else {
        quoted(s, style)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `is_plain_safe` as it was written first (character searches), the reference of the
    /// byte-level one.
    fn is_plain_safe_by_chars(s: &str, flow: bool) -> bool {
        let Some(first) = s.chars().next() else {
            return false;
        };
        if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) {
            return false;
        }
        if s.chars()
            .any(|c| c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}')
        {
            return false;
        }
        if is_indicator(first) {
            let second = s[first.len_utf8()..].chars().next();
            let ok = matches!(first, '-' | '?' | ':')
                && second.is_some_and(|c| {
                    c != ' ' && !(flow && matches!(c, ',' | '[' | ']' | '{' | '}'))
                });
            if !ok {
                return false;
            }
        }
        if s.starts_with("---") || s.starts_with("...") {
            return false;
        }
        if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
            return false;
        }
        if flow && s.contains([',', '[', ']', '{', '}']) {
            return false;
        }
        true
    }

    /// Every string of up to three characters from a list that holds every character the test
    /// looks at (and some it does not), in both contexts.
    #[test]
    fn plain_safety_is_what_the_character_searches_said() {
        let chars = [
            'a', ' ', '\t', ':', '#', '-', '?', ',', '[', ']', '{', '}', '.', '\n', '\u{7f}',
            '\u{85}', '\u{feff}', '\u{2028}', '\u{2029}', '\u{e9}', '\0', '\'', '"', '*',
        ];
        let mut texts = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| chars.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        texts.sort();
        texts.dedup();
        for t in &texts {
            for flow in [false, true] {
                assert_eq!(
                    is_plain_safe(t, flow),
                    is_plain_safe_by_chars(t, flow),
                    "{t:?}"
                );
            }
        }
    }

    #[test]
    fn plain_safety() {
        for ok in [
            "nginx:1.25",
            "a b",
            "-Xmx1g",
            "http://x/y#z",
            "a:b",
            "ALL",
            "é",
        ] {
            assert!(is_plain_safe(ok, false), "{ok}");
        }
        for bad in [
            "", " a", "a ", "a: b", "a #b", "#a", "- a", "*a", "&a", "!a", "|", ">", "'a", "\"a",
            "%a", "@a", "`a", "a\nb", "---", "a:", "[a", "{a",
        ] {
            assert!(!is_plain_safe(bad, false), "{bad:?}");
        }
        assert!(is_plain_safe("a,b", false));
        assert!(!is_plain_safe("a,b", true));
        assert!(!is_plain_safe("a]", true));
    }

    #[test]
    fn strings_that_would_change_type_are_quoted() {
        for s in [
            "true",
            "No",
            "null",
            "~",
            "8080",
            "1.5",
            "-1",
            ".5",
            "0777",
            "1:30",
            "2024-01-01",
        ] {
            assert!(!plain_is_string(s), "{s}");
            assert!(string_scalar(s, QuoteStyle::Double, false).starts_with('"'));
        }
        assert_eq!(string_scalar("ALL", QuoteStyle::Double, false), "ALL");
        assert_eq!(string_scalar("a: b", QuoteStyle::Single, false), "'a: b'");
        assert_eq!(
            string_scalar("it's: x", QuoteStyle::Single, false),
            "'it''s: x'"
        );
        assert_eq!(
            string_scalar("a\nb", QuoteStyle::Single, false),
            "\"a\\nb\""
        );
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(
            double_quoted("a\"b\\c\n\t\u{1}"),
            "\"a\\\"b\\\\c\\n\\t\\x01\""
        );
    }
}
