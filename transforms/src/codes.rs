//! Rule codes where a user writes them (`--select`, `--ignore`, `select`/`ignore` in the config,
//! suppression comments, `explain`): our codes and prefixes, `ALL`, and the ids of other tools
//! (hadolint, checkov, trivy, KICS) that map to one of our rules. Anything else is an error that names it
//! and suggests the closest code, so that a typo never silently turns a rule (or the gate) off.

use crate::registry;
use crate::suppression;

/// A code or prefix that names no rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCode {
    /// As written.
    pub given: String,
    /// The closest code (with its name), if one is close enough to be a plausible typo.
    pub suggestion: Option<(String, String)>,
    /// A prefix where a full code is required (suppressions).
    pub prefix_only: bool,
}

impl std::fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.given.is_empty() {
            write!(f, "a rule code is missing (e.g. `ignore=DF001`)")
        } else if self.prefix_only {
            write!(
                f,
                "`{}` is a rule prefix; a full code is needed here (e.g. `{}`)",
                self.given,
                self.suggestion
                    .as_ref()
                    .map_or("DF001", |(c, _)| c.as_str())
            )
        } else {
            write!(f, "unknown rule code or prefix `{}`", self.given)?;
            match &self.suggestion {
                Some((code, name)) => write!(f, "; did you mean `{code}` ({name})?"),
                None => write!(f, " (`dockharden rules` lists every code)"),
            }
        }
    }
}

impl std::error::Error for UnknownCode {}

/// Every code with its name: the rules and the meta rule for unused suppressions.
#[must_use]
pub fn all_codes() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&'static str, &'static str)> = registry::all()
        .iter()
        .map(|t| (t.code(), t.name()))
        .collect();
    v.push((suppression::UNUSED_CODE, suppression::UNUSED_NAME));
    v
}

/// The tool a foreign id belongs to and our codes it maps to (`DL3002` → hadolint, `DF002`).
#[must_use]
pub fn foreign(id: &str) -> Option<(&'static str, Vec<String>)> {
    let ours = suppression::map_foreign(id);
    if ours.is_empty() {
        return None;
    }
    let upper = id.trim().to_ascii_uppercase();
    let tool = if suppression::is_kics(id) {
        "KICS"
    } else if upper.starts_with("DL") {
        "hadolint"
    } else if upper.starts_with("CKV") {
        "checkov"
    } else {
        "trivy"
    };
    Some((tool, ours))
}

/// Levenshtein distance, case-insensitive (codes and names are short).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_ascii_uppercase().chars().collect();
    let b: Vec<char> = b.to_ascii_uppercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest code to `given` (by code or by rule name), if it is a plausible typo.
#[must_use]
pub fn closest(given: &str) -> Option<(String, String)> {
    let given = given.trim();
    let codes = all_codes();
    if let Some((c, n)) = codes.iter().find(|(_, n)| n.eq_ignore_ascii_case(given)) {
        return Some(((*c).to_owned(), (*n).to_owned()));
    }
    // Ties go to the lower code (the list is in code order).
    let (d, c, n) = codes
        .iter()
        .flat_map(|&(c, n)| [(distance(given, c), c, n), (distance(given, n), c, n)])
        .min_by_key(|(d, _, _)| *d)?;
    let limit = (given.chars().count() / 2).max(2);
    (d <= limit).then(|| (c.to_owned(), n.to_owned()))
}

fn unknown(given: &str) -> UnknownCode {
    UnknownCode {
        given: given.trim().to_owned(),
        suggestion: closest(given),
        prefix_only: false,
    }
}

/// One selector of `--select`/`--ignore`/`select`/`ignore`, normalized: `ALL`, a code or a prefix of
/// codes (upper case), or for a foreign id the codes it maps to.
///
/// # Errors
/// Anything else, naming it and suggesting the closest code.
pub fn resolve_selector(given: &str) -> Result<Vec<String>, UnknownCode> {
    let s = given.trim();
    if s.eq_ignore_ascii_case("ALL") {
        return Ok(vec!["ALL".to_owned()]);
    }
    let upper = s.to_ascii_uppercase();
    if !upper.is_empty() && all_codes().iter().any(|(c, _)| c.starts_with(&upper)) {
        return Ok(vec![upper]);
    }
    if let Some((_, ours)) = foreign(s) {
        return Ok(ours);
    }
    Err(unknown(s))
}

/// [`resolve_selector`] over a list (duplicates removed, order kept).
///
/// # Errors
/// The first unknown selector.
pub fn resolve_selectors(list: &[String]) -> Result<Vec<String>, UnknownCode> {
    let mut out: Vec<String> = Vec::new();
    for s in list.iter().filter(|s| !s.trim().is_empty()) {
        for code in resolve_selector(s)? {
            if !out.contains(&code) {
                out.push(code);
            }
        }
    }
    Ok(out)
}

/// A full code where one is required (a suppression comment): our code, or the codes a foreign id
/// maps to.
///
/// # Errors
/// An unknown code, or a prefix.
pub fn resolve_code(given: &str) -> Result<Vec<String>, UnknownCode> {
    let s = given.trim();
    let upper = s.to_ascii_uppercase();
    let codes = all_codes();
    if codes.iter().any(|(c, _)| *c == upper) {
        return Ok(vec![upper]);
    }
    if let Some((_, ours)) = foreign(s) {
        return Ok(ours);
    }
    if !upper.is_empty() && codes.iter().any(|(c, _)| c.starts_with(&upper)) {
        let first = codes
            .iter()
            .find(|(c, _)| c.starts_with(&upper))
            .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()));
        return Err(UnknownCode {
            given: s.to_owned(),
            suggestion: first,
            prefix_only: true,
        });
    }
    Err(unknown(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert_eq!(resolve_selector("all").unwrap(), vec!["ALL"]);
        assert_eq!(resolve_selector("df").unwrap(), vec!["DF"]);
        assert_eq!(resolve_selector("DF00").unwrap(), vec!["DF00"]);
        assert_eq!(resolve_selector("K8S001").unwrap(), vec!["K8S001"]);
        assert_eq!(resolve_selector("x001").unwrap(), vec!["X001"]);
        assert_eq!(resolve_selector("DL3002").unwrap(), vec!["DF002"]);
        assert_eq!(resolve_selector("CKV_K8S_20").unwrap(), vec!["K8S001"]);
        assert_eq!(resolve_selector("DS002").unwrap(), vec!["DF002"]);
        // KICS query ids, in either case.
        assert_eq!(
            resolve_selector("fd54f200-402c-4333-a5a4-36ef6709af2f").unwrap(),
            vec!["DF002"]
        );
        assert_eq!(
            resolve_selector("5572CC5E-1E4C-4113-92A6-7A8A3BD25E6D").unwrap(),
            vec!["K8S001"]
        );
        assert_eq!(
            foreign("d6355c88-1e8d-49e9-b2f2-f8a1ca12c75b"),
            Some(("KICS", vec!["DC001".to_owned()]))
        );
        // A KICS query we have no rule for (Liveness Probe Is Not Defined) is unknown.
        assert!(resolve_selector("ade74944-a674-4e00-859e-c6eab5bde441").is_err());
        let e = resolve_selector("FOO").unwrap_err();
        assert_eq!(e.given, "FOO");
        let e = resolve_selector("DF0O1").unwrap_err();
        assert_eq!(e.suggestion.as_ref().map(|s| s.0.as_str()), Some("DF001"));
        assert!(e.to_string().contains("did you mean `DF001`"), "{e}");
        // A foreign id we have no rule for is unknown.
        assert!(resolve_selector("DL3008").is_err());
        assert!(resolve_selector("").is_err());
    }

    #[test]
    fn names_suggest_their_code() {
        let e = resolve_selector("add-instead-of-copy").unwrap_err();
        assert_eq!(e.suggestion.unwrap().0, "DF001");
    }

    #[test]
    fn far_off_input_gets_no_suggestion() {
        let e = resolve_selector("completely-unrelated-words").unwrap_err();
        assert_eq!(e.suggestion, None);
        assert!(e.to_string().contains("dockharden rules"));
    }

    #[test]
    fn suppressions_need_full_codes() {
        assert_eq!(resolve_code("df001").unwrap(), vec!["DF001"]);
        assert_eq!(resolve_code("DL3002").unwrap(), vec!["DF002"]);
        let e = resolve_code("DF").unwrap_err();
        assert!(e.prefix_only);
        assert!(resolve_code("DF999").is_err());
    }
}
