//! A quick proof that one document's text is valid YAML, for the common shape of compose files and
//! Kubernetes manifests, so that checking does not run the loader's event parser over every file
//! only to learn that it is valid.
//!
//! [`certainly_valid`] reads the text line by line and says yes only for a small block-style subset
//! whose validity it can decide exactly: block mappings and sequences (compact forms included),
//! plain scalars on one line, single-line quoted scalars with the common escapes, single-line flow
//! sequences and mappings of scalars, literal and folded block scalars, comments and one leading
//! `---`. Anything else (a multi-line plain or quoted scalar, a nested flow collection, a tag, an
//! anchor, an alias, a tab, a carriage return, a directive, a second document marker, a complex
//! key, ...) is "not proven", and the caller runs the event parser as before. So a yes must never
//! be wrong; a no only costs time. The test below holds the yes against the event parser over
//! every YAML file of the corpora, each document of them and many mutants of each.

use memchr::{memchr, memchr2};

/// Whether `text`, the text of one document (comments, blank lines and at most one leading
/// `---` around the content), is certainly exactly one valid YAML document to the loader's event
/// parser (`semantic::loads_as_parsed`'s options: default indentation rules, block nesting far
/// above [`MAX_DEPTH`], simple keys up to 1,024 characters). False: not proven either way.
pub(crate) fn certainly_valid(text: &str) -> bool {
    printable(text) && Certifier::default().run(text).is_some()
}

/// Nesting beyond which nothing is proven (the event parser's block limit is far above).
const MAX_DEPTH: usize = 64;
/// Longest key proven (a simple key may not span more than 1,024 characters).
const MAX_KEY_BYTES: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
}

/// A line that ended where a value may follow on the next lines.
#[derive(Clone, Copy)]
enum Pending {
    /// `key:` with no value, the key at this column.
    Key(usize),
    /// `-` with no value, the dash at this column.
    Dash(usize),
}

/// An open literal or folded block scalar.
struct BlockScalar {
    /// The column of the collection it is a value in: content is indented further.
    parent: usize,
    /// The content's indentation, once its first non-empty line is read.
    indent: Option<usize>,
}

#[derive(Default)]
struct Certifier {
    /// The open block collections: column and kind, outermost first.
    stack: Vec<(usize, Kind)>,
    pending: Option<Pending>,
    scalar: Option<BlockScalar>,
    /// A `---` was read.
    marker: bool,
    /// The root node was opened.
    rooted: bool,
}

impl Certifier {
    fn run(mut self, text: &str) -> Option<()> {
        for line in crate::text::split_lf(text) {
            self.line(line)?;
        }
        (self.marker || self.rooted).then_some(())
    }

    fn line(&mut self, line: &str) -> Option<()> {
        let indent = line.bytes().take_while(|&b| b == b' ').count();
        let rest = &line[indent..];
        if let Some(s) = &mut self.scalar {
            if rest.is_empty() {
                // An empty line inside the scalar. Before its first content line only a truly empty
                // one is proven (one with more spaces than the content's indentation is an error).
                return (s.indent.is_some() || indent == 0).then_some(());
            }
            match s.indent {
                Some(content) if indent >= content => return Some(()),
                None if indent > s.parent => {
                    s.indent = Some(indent);
                    return Some(());
                }
                // Less indented: the scalar ended; the line is read as any other.
                _ => self.scalar = None,
            }
        }
        if rest.is_empty() || rest.starts_with('#') {
            return Some(());
        }
        if indent == 0 {
            if let Some(after) = rest.strip_prefix("---") {
                if self.marker || self.rooted || !trailing_ok(after) {
                    return None;
                }
                self.marker = true;
                return Some(());
            }
            if rest.starts_with("...") || rest.starts_with('%') {
                return None;
            }
        }
        self.node_line(indent, rest)
    }

    /// A line whose content `s` starts at column `col`.
    fn node_line(&mut self, col: usize, s: &str) -> Option<()> {
        let dash = is_dash(s);
        match self.pending.take() {
            // The value of the key or item above, nested under it.
            Some(Pending::Key(k) | Pending::Dash(k)) if col > k => return self.open(col, s, dash),
            // A sequence as a key's value, at the key's own column.
            Some(Pending::Key(k)) if col == k && dash => return self.open(col, s, true),
            // Otherwise the key or item above had no value (null).
            _ => {}
        }
        while self.stack.last().is_some_and(|&(c, _)| c > col) {
            self.stack.pop();
        }
        match self.stack.last().copied() {
            None if self.rooted => None,
            None => {
                self.rooted = true;
                self.open(col, s, dash)
            }
            // More indented than the collection, not under a key or item: a continuation line.
            Some((c, _)) if c < col => None,
            Some((_, Kind::Seq)) if dash => self.entry(col, s, true),
            Some((_, Kind::Map)) if !dash => self.entry(col, s, false),
            Some((_, Kind::Seq)) => {
                // A key after a sequence that was a value at its key's column.
                self.stack.pop();
                match self.stack.last() {
                    Some(&(c, Kind::Map)) if c == col => self.entry(col, s, false),
                    _ => None,
                }
            }
            Some((_, Kind::Map)) => None,
        }
    }

    /// A new collection at `col`, of the kind its first entry `s` says.
    fn open(&mut self, col: usize, s: &str, dash: bool) -> Option<()> {
        if self.stack.len() >= MAX_DEPTH {
            return None;
        }
        self.stack
            .push((col, if dash { Kind::Seq } else { Kind::Map }));
        self.entry(col, s, dash)
    }

    /// One entry of the collection at `col`: a `- item` or a `key: value`.
    fn entry(&mut self, col: usize, s: &str, dash: bool) -> Option<()> {
        if !dash {
            let after = key_split(s)??;
            let v = after.trim_start_matches(' ');
            if v.is_empty() || v.starts_with('#') {
                self.pending = Some(Pending::Key(col));
                return Some(());
            }
            return self.value(v, col);
        }
        let rest = &s[1..];
        let t = rest.trim_start_matches(' ');
        if t.is_empty() || t.starts_with('#') {
            self.pending = Some(Pending::Dash(col));
            return Some(());
        }
        // The item's own node starts further on the line: a nested sequence or mapping (compact
        // forms; their next entries line up with it) or a scalar.
        let inner = col + 1 + (rest.len() - t.len());
        if is_dash(t) {
            return self.open(inner, t, true);
        }
        match key_split(t)? {
            Some(_) => self.open(inner, t, false),
            None => self.value(t, col),
        }
    }

    /// A scalar (or `[...]`, `{}`) value `v`, in the collection at column `parent`.
    fn value(&mut self, v: &str, parent: usize) -> Option<()> {
        let end = match v.as_bytes()[0] {
            b'"' => double_quoted(v)?,
            b'\'' => single_quoted(v)?,
            b'[' | b'{' => flow_collection(v)?,
            b'|' | b'>' => {
                let header = &v[1..];
                let header = header.strip_prefix(['+', '-']).unwrap_or(header);
                if !trailing_ok(header) {
                    return None;
                }
                self.scalar = Some(BlockScalar {
                    parent,
                    indent: None,
                });
                return Some(());
            }
            _ => return plain(v).then_some(()),
        };
        trailing_ok(&v[end..]).then_some(())
    }
}

/// `-` alone or followed by a space: a block sequence entry.
fn is_dash(s: &str) -> bool {
    s == "-" || s.starts_with("- ")
}

/// What may follow a node on its line: nothing, spaces, or a comment after at least one space.
fn trailing_ok(s: &str) -> bool {
    let t = s.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < s.len())
}

/// Whether `s` is a `key:` line: `Some(Some(after))` with the text after the colon, `Some(None)`
/// when it is not a key (a scalar), None when it is neither as far as this proof goes.
fn key_split(s: &str) -> Option<Option<&str>> {
    let b = s.as_bytes();
    let end = match b[0] {
        b'"' => double_quoted(s)?,
        b'\'' => single_quoted(s)?,
        _ => {
            let mut i = 0;
            loop {
                let Some(j) = memchr2(b':', b'#', &b[i..]) else {
                    return Some(None);
                };
                let p = i + j;
                if b[p] == b'#' {
                    if p > 0 && b[p - 1] == b' ' {
                        return Some(None);
                    }
                } else if p + 1 == b.len() || b[p + 1] == b' ' {
                    let key = &s[..p];
                    return (key.len() <= MAX_KEY_BYTES && plain_start(key.as_bytes()))
                        .then_some(Some(&s[p + 1..]));
                }
                i = p + 1;
            }
        }
    };
    match s[end..].strip_prefix(':') {
        Some(after) if after.is_empty() || after.starts_with(' ') => {
            (end <= MAX_KEY_BYTES).then_some(Some(after))
        }
        Some(_) => None,
        None => Some(None),
    }
}

/// Whether a plain scalar may start with these bytes (block context): not an indicator, except a
/// `-` followed by a letter, digit, `-`, `.` or `/` (`-1`, `--flag`).
fn plain_start(b: &[u8]) -> bool {
    match b.first() {
        None => false,
        Some(b'-') => b
            .get(1)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'/')),
        Some(c) => !matches!(
            c,
            b'?' | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
                | b' '
        ),
    }
}

/// A plain scalar value on one line, up to a comment: no `: ` in it and no `:` at its end (a
/// mapping there).
fn plain(v: &str) -> bool {
    let b = v.as_bytes();
    if !plain_start(b) {
        return false;
    }
    let mut i = 0;
    while let Some(j) = memchr2(b':', b'#', &b[i..]) {
        let p = i + j;
        if b[p] == b'#' {
            if b[p - 1] == b' ' {
                return true;
            }
        } else if p + 1 == b.len() || b[p + 1] == b' ' {
            return false;
        }
        i = p + 1;
    }
    true
}

/// The length of the double-quoted scalar `s` starts with, when it closes on this line and uses
/// only single-character escapes.
fn double_quoted(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    loop {
        let p = i + memchr2(b'"', b'\\', &b[i..])?;
        if b[p] == b'"' {
            return Some(p + 1);
        }
        if !b"0abtnvfre \"/\\N_LP".contains(b.get(p + 1)?) {
            return None;
        }
        i = p + 2;
    }
}

/// The length of the single-quoted scalar `s` starts with, when it closes on this line.
fn single_quoted(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    loop {
        let p = i + memchr(b'\'', &b[i..])?;
        if b.get(p + 1) == Some(&b'\'') {
            i = p + 2;
        } else {
            return Some(p + 1);
        }
    }
}

/// The length of the flow sequence (`[...]`) or flow mapping (`{...}`) `v` starts with, when it
/// closes on this line and holds only scalars, in a mapping as `key: value` pairs (a space after
/// the colon): no empty entry, no trailing comma, nothing nested.
fn flow_collection(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    let (close, pairs) = if b[0] == b'[' {
        (b']', false)
    } else {
        (b'}', true)
    };
    let spaces = |mut i: usize| {
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    let mut i = spaces(1);
    if b.get(i) == Some(&close) {
        return Some(i + 1);
    }
    loop {
        i = flow_scalar(v, i, close)?;
        if pairs {
            if b.get(i) != Some(&b':') || b.get(i + 1) != Some(&b' ') {
                return None;
            }
            i = flow_scalar(v, spaces(i + 1), close)?;
        }
        i = spaces(i);
        match *b.get(i)? {
            c if c == close => return Some(i + 1),
            b',' => {
                i = spaces(i + 1);
                if matches!(b.get(i), Some(&c) if c == close || c == b',') {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// The end of the scalar at `i` inside a flow collection closed by `close`: a quoted scalar, or a
/// simple plain one (letters, digits, `-_./=+$~@%()` and inner spaces; it ends before `,`, `:` or
/// `close`).
fn flow_scalar(v: &str, i: usize, close: u8) -> Option<usize> {
    let b = v.as_bytes();
    match *b.get(i)? {
        b'"' => Some(i + double_quoted(&v[i..])?),
        b'\'' => Some(i + single_quoted(&v[i..])?),
        c => {
            let starts = c.is_ascii_alphanumeric()
                || matches!(c, b'_' | b'.' | b'/' | b'$' | b'~')
                || (c == b'-'
                    && b.get(i + 1)
                        .is_some_and(|n| n.is_ascii_alphanumeric() || *n == b'-'));
            if !starts {
                return None;
            }
            let mut end = i;
            while let Some(&c) = b.get(end) {
                if c == b',' || c == b':' || c == close {
                    break;
                }
                if !(c.is_ascii_alphanumeric() || b"-_./=+$~@%() ".contains(&c)) {
                    return None;
                }
                end += 1;
            }
            Some(end)
        }
    }
}

/// Every character is one YAML allows in a document and this proof reads as itself: printable
/// ASCII, line feeds, and non-ASCII characters in YAML's printable set other than the byte order
/// mark, NEL and the Unicode line and paragraph separators (tabs and carriage returns: not proven).
fn printable(text: &str) -> bool {
    // No early exit: a loop the compiler can vectorize (nearly every text passes).
    let refused = text
        .bytes()
        .fold(false, |r, b| r | ((b < 0x20) & (b != b'\n')) | (b == 0x7F));
    !refused
        && (text.is_ascii()
            || text.chars().all(|c| {
                c.is_ascii()
                    || (matches!(u32::from(c), 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..)
                        && !matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}'))
            }))
}

#[cfg(test)]
mod tests {
    use super::certainly_valid;
    use crate::yaml::limits::Expansion;
    use crate::yaml::semantic::{document_slices, event_options, is_one_document, options};

    /// Whatever is proven valid, the loader's event parser (with the options `loads_as_parsed`
    /// gives it) reads as exactly one valid document: over the samples below and 200 mutants of
    /// each, every YAML file of the corpora and golden/, every document of each, and 24 mutants of
    /// each (one to three random edits with YAML's indicators, indentation, line breaks, tabs,
    /// escapes).
    /// Also: most documents of the corpora are proven, or the proof saves nothing.
    #[test]
    fn what_is_proven_the_event_parser_accepts() {
        use crate::testing::{corpus_files, is_yaml, mutant, Lcg};
        let events = event_options(&options(1 << 20, &Expansion::default()));
        let (mut proven, mut all) = (0usize, 0usize);
        let mut agree = |src: &str, what: &str| {
            all += 1;
            let yes = certainly_valid(src);
            if yes {
                proven += 1;
                assert!(
                    is_one_document(src, &events),
                    "{what}: proven valid, but the event parser refuses it or reads another \
                     number of documents:\n{src}"
                );
            }
            yes
        };
        let inserts = [
            ":", ": ", "- ", "-", " ", "  ", "\n", "\n  ", "\n- ", "\t", "\"", "'", "''", "[", "]",
            "{", "}", ",", ", ", "|", ">", "|-", ">+", "|2", "#", " #", "?", "? ", "%", "@", "`",
            "&a ", "---", "\n---\n", "...", "\n...\n", "\\", "\\x", "\\u12", "\r", "\r\n",
            "\u{FEFF}", "\u{85}", "\u{2028}", "a: ", "- a: ", "k:\n", "é", "\u{7F}",
        ];
        let mut rng = Lcg::new(0x2545_F491_4F6C_DD1D);
        for t in VALID.iter().chain(NOT_PROVEN) {
            agree(t, "sample");
            for _ in 0..200 {
                let mut m = (*t).to_owned();
                for _ in 0..=rng.below(3) {
                    m = mutant(&m, &mut rng, &inserts);
                }
                agree(&m, "sample mutant");
            }
        }
        let files = corpus_files(is_yaml);
        let mut originals = (0usize, 0usize);
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let what = path.display().to_string();
            let mut texts = vec![text.clone()];
            for _ in 0..24 {
                let mut t = text.clone();
                for _ in 0..=rng.below(3) {
                    t = mutant(&t, &mut rng, &inserts);
                }
                texts.push(t);
            }
            for (n, t) in texts.iter().enumerate() {
                agree(t, &what);
                if let Ok(file) = super::super::parse(t) {
                    for r in document_slices(&file.data) {
                        let yes = agree(r.slice(t), &what);
                        if n == 0 {
                            originals.0 += usize::from(yes);
                            originals.1 += 1;
                        }
                    }
                }
            }
        }
        eprintln!(
            "{proven} of {all} texts proven valid; {} of {} documents of the corpora",
            originals.0, originals.1
        );
        if !files.is_empty() {
            assert!(
                originals.0 * 4 > originals.1 * 3,
                "only {} of {} documents of the corpora proven",
                originals.0,
                originals.1
            );
        }
    }

    /// Texts of the common shapes: all proven.
    const VALID: &[&str] = &[
        "services:\n  web:\n    image: nginx:1.27 # pinned\n    ports:\n      - \"80:80\"\n",
        "---\n# c\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: {}\n",
        "a:\n- b: 1\n  c: [x, \"y z\", 'q''r']\nd: |\n  line\n\n  more\ne: >-\n  folded\n",
        "- - a\n  - b\n-\n  k: v\n- \"s\"\n-\n",
        "x:\n  y:\n    z: 1\nw: -1\nv: --flag=a:b\n",
        "r: {}\nq: [ ]\ns: {memory: 512M, \"cpus\": '0.5'}\nt: { a: b }\n",
        "key: \"a\\\"b\\n\"\n",
        "  a: 1\n  b: 2\n",
        "---\n",
    ];

    /// Texts outside the subset, valid or not: none proven.
    const NOT_PROVEN: &[&str] = &[
        "",
        "# only a comment\n",
        "a: b: c\n",
        "a:\n  b\n",
        "a: 1\n b: 2\n",
        "a: 1\n  b: 2\n",
        "- a\nb: 1\n",
        "a: 1\n---\nb: 2\n",
        "a: \"open\n  close\"\n",
        "a: [1,\n  2]\n",
        "a: {b: 1, c: {d: 2}}\n",
        "a: {b:1}\n",
        "a: {b: }\n",
        "a: [b: 1]\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: &x 1\n",
        "a: @x\n",
        "a: \"\\q\"\n",
        "a: |2\n  x\n",
        "a: |\n    x\n  y\n",
        "a: |\n   \n  x\n",
        "? a\n: b\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\n...\n",
        "scalar\n",
        "a: -\n",
        "a: \u{FEFF}b\n",
        "a: [b,]\n",
        "\"a\":b\n",
    ];

    #[test]
    fn the_common_shapes_are_proven() {
        for t in VALID {
            assert!(certainly_valid(t), "{t:?}");
        }
    }

    #[test]
    fn what_is_not_proven() {
        for t in NOT_PROVEN {
            assert!(!certainly_valid(t), "{t:?}");
        }
    }
}
