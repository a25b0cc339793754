//! A JSON document with the byte range of every value and key, for edits on the original text of
//! `daemon.json` (the meaning comes from `serde_json`). A repeated key is an error: the daemon keeps
//! one of them, and which one a fix would change is not clear.

use crate::text::TextRange;

/// A JSON value with its place.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub range: TextRange,
    pub kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Object(Vec<Member>),
    Array(Vec<Value>),
    String(String),
    /// A number, `true`, `false` or `null`, as written.
    Other(String),
}

/// `"key": value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_range: TextRange,
    pub value: Value,
}

impl Value {
    #[must_use]
    pub fn members(&self) -> &[Member] {
        match &self.kind {
            Kind::Object(m) => m,
            _ => &[],
        }
    }

    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Member> {
        self.members().iter().find(|m| m.key == key)
    }

    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    /// `true` / `false`.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            Kind::Other(s) if s == "true" => Some(true),
            Kind::Other(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    #[must_use]
    pub fn items(&self) -> &[Value] {
        match &self.kind {
            Kind::Array(v) => v,
            _ => &[],
        }
    }
}

/// A parse error at a byte offset.
#[derive(Clone, Debug)]
pub struct Error {
    pub message: String,
    pub at: usize,
}

struct Parser<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn err<T>(&self, m: &str) -> Result<T, Error> {
        Err(Error {
            message: m.to_owned(),
            at: self.i.min(self.b.len()),
        })
    }

    fn value(&mut self) -> Result<Value, Error> {
        self.ws();
        self.depth += 1;
        if self.depth > 128 {
            return self.err("JSON nested too deeply");
        }
        let start = self.i;
        let kind = match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut members: Vec<Member> = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let ks = self.i;
                        let key = self.string()?;
                        let key_range = TextRange::new(ks, self.i);
                        if members.iter().any(|m| m.key == key) {
                            self.i = ks;
                            return self.err(&format!(
                                "duplicate key \"{key}\" (the daemon keeps one of them; remove the other)"
                            ));
                        }
                        self.ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return self.err("expected `:`");
                        }
                        self.i += 1;
                        let value = self.value()?;
                        members.push(Member {
                            key,
                            key_range,
                            value,
                        });
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return self.err("expected `,` or `}`"),
                        }
                    }
                }
                Kind::Object(members)
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return self.err("expected `,` or `]`"),
                        }
                    }
                }
                Kind::Array(items)
            }
            Some(b'"') => Kind::String(self.string()?),
            Some(_) => {
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.i += 1;
                }
                let t = &self.s[start..self.i];
                if t.is_empty() {
                    return self.err("expected a value");
                }
                Kind::Other(t.to_owned())
            }
            None => return self.err("expected a value"),
        };
        self.depth -= 1;
        Ok(Value {
            range: TextRange::new(start, self.i),
            kind,
        })
    }

    fn string(&mut self) -> Result<String, Error> {
        if self.b.get(self.i) != Some(&b'"') {
            return self.err("expected a string");
        }
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return serde_json::from_str(&self.s[start..self.i]).or_else(|_| {
                        self.i = start;
                        self.err("invalid string")
                    });
                }
                _ => self.i += 1,
            }
        }
        self.i = start;
        self.err("unterminated string")
    }
}

/// Parse a JSON text (a UTF-8 BOM is allowed). The text must also be valid to `serde_json`.
///
/// # Errors
/// Invalid JSON, or a repeated key.
pub fn parse(text: &str) -> Result<Value, Error> {
    let offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&text[offset..]) {
        let index = crate::text::LineIndex::new(text);
        let line = e
            .line()
            .saturating_sub(1)
            .min(index.line_count().saturating_sub(1));
        let mut at = (index.line_start(line)
            + e.column().saturating_sub(1)
            + offset * usize::from(line == 0))
        .min(text.len());
        while at > 0 && !text.is_char_boundary(at) {
            at -= 1;
        }
        return Err(Error {
            message: format!("invalid JSON: {e}"),
            at: at.min(text.len()),
        });
    }
    let mut p = Parser {
        b: text.as_bytes(),
        s: text,
        i: offset,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != text.len() {
        return p.err("text after the JSON value");
    }
    Ok(v)
}

/// The indentation of the line `offset` is on.
#[must_use]
pub fn indent_at(text: &str, offset: usize) -> &str {
    let ls = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[ls..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// The edit adding `"key": value` (value already JSON) as the last member of `object`, in the
/// object's layout: on a line of its own with the members' indentation, or inline for an object
/// written on one line.
#[must_use]
pub fn append_member(text: &str, object: &Value, key: &str, value: &str) -> crate::edit::Edit {
    let key = serde_json::to_string(key).unwrap_or_default();
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let members = object.members();
    match members.last() {
        Some(last) => {
            let multiline = text[object.range.start..object.range.end].contains('\n');
            if multiline {
                let indent = indent_at(text, last.key_range.start);
                crate::edit::Edit::insert(
                    last.value.range.end,
                    format!(",{eol}{indent}{key}: {value}"),
                )
            } else {
                crate::edit::Edit::insert(last.value.range.end, format!(", {key}: {value}"))
            }
        }
        None => {
            let close = object.range.end - 1;
            let outer = indent_at(text, object.range.start);
            crate::edit::Edit::replace(
                TextRange::new(object.range.start + 1, close),
                format!("{eol}{outer}  {key}: {value}{eol}{outer}"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_duplicates() {
        let t = "{\n  \"hosts\": [\"unix:///var/run/docker.sock\", \"tcp://0.0.0.0:2375\"],\n  \"debug\": true\n}\n";
        let v = parse(t).unwrap();
        let hosts = v.get("hosts").unwrap();
        assert_eq!(hosts.value.items()[1].as_str(), Some("tcp://0.0.0.0:2375"));
        assert_eq!(
            hosts.value.items()[1].range.slice(t),
            "\"tcp://0.0.0.0:2375\""
        );
        assert_eq!(v.get("debug").unwrap().value.as_bool(), Some(true));
        let e = append_member(t, &v, "icc", "false");
        let mut out = t.to_owned();
        out.insert_str(e.range.start, &e.replacement);
        assert!(out.contains("\"debug\": true,\n  \"icc\": false\n}"));
        assert!(parse("{\"a\": 1, \"a\": 2}")
            .unwrap_err()
            .message
            .contains("duplicate"));
        assert!(parse("{\"a\": }").is_err());
        let e = append_member("{}", &parse("{}").unwrap(), "icc", "false");
        assert_eq!(e.replacement, "\n  \"icc\": false\n");
    }
}
