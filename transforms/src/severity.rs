//! How much a finding of each rule matters, for reports and for `--severity-threshold`.
//!
//! Critical: the container (or anyone who reaches it) can take over the host: the daemon socket,
//! `privileged`, a daemon TCP socket without TLS. High: a step away from that, or a secret exposed:
//! root, capabilities, privilege escalation, host namespaces, disabled security profiles, secrets,
//! piping downloads into a shell. Medium: defence in depth whose absence widens an attack (writable
//! root, no limits, unpinned images, exposed admin ports, networks). Low: hygiene.

use crate::suppression;

/// A finding's severity, lowest first (so thresholds compare with `>=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// GitHub code scanning's `security-severity` (a CVSS-like score: over 9.0 is critical, 7.0 to
    /// 8.9 high, 4.0 to 6.9 medium, below 4.0 low).
    #[must_use]
    pub const fn score(self) -> &'static str {
        match self {
            Self::Low => "3.0",
            Self::Medium => "5.5",
            Self::High => "8.0",
            Self::Critical => "9.5",
        }
    }

    /// Parse `low`, `medium`, `high` or `critical` (case-insensitive).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        ALL.into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Every severity, lowest first.
pub const ALL: [Severity; 4] = [
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

const TABLE: &[(&str, Severity)] = &[
    // Dockerfile
    ("DF001", Severity::Low),
    ("DF002", Severity::High),
    ("DF003", Severity::Medium),
    ("DF004", Severity::Low),
    ("DF005", Severity::High),
    ("DF006", Severity::High),
    ("DF007", Severity::Medium),
    ("DF008", Severity::Critical),
    ("DF009", Severity::Low),
    ("DF010", Severity::Low),
    ("DF011", Severity::Low),
    ("DF012", Severity::Medium),
    // compose
    ("DC001", Severity::Critical),
    ("DC002", Severity::High),
    ("DC003", Severity::High),
    ("DC004", Severity::Critical),
    ("DC005", Severity::High),
    ("DC006", Severity::Medium),
    ("DC007", Severity::High),
    ("DC008", Severity::Medium),
    ("DC009", Severity::Medium),
    ("DC010", Severity::Medium),
    ("DC011", Severity::High),
    ("DC012", Severity::High),
    ("DC013", Severity::Medium),
    ("DC014", Severity::Medium),
    ("DC015", Severity::Critical),
    ("DC016", Severity::Low),
    // Kubernetes
    ("K8S001", Severity::High),
    ("K8S002", Severity::Critical),
    ("K8S003", Severity::High),
    ("K8S004", Severity::High),
    ("K8S005", Severity::Medium),
    ("K8S006", Severity::Medium),
    ("K8S007", Severity::High),
    ("K8S008", Severity::Critical),
    ("K8S009", Severity::Medium),
    ("K8S010", Severity::Medium),
    ("K8S011", Severity::High),
    ("K8S012", Severity::Medium),
    // `docker run` lines in scripts, Makefiles, pipelines and units; daemon.json (as their
    // compose counterparts: DR001 = DC004, DR002 = DC001, DR013/DD001 = DC015, ...)
    ("DR001", Severity::Critical),
    ("DR002", Severity::Critical),
    ("DR003", Severity::High),
    ("DR004", Severity::High),
    ("DR005", Severity::High),
    ("DR006", Severity::Medium),
    ("DR007", Severity::High),
    ("DR008", Severity::Medium),
    ("DR009", Severity::Medium),
    ("DR010", Severity::High),
    ("DR011", Severity::Medium),
    ("DR012", Severity::High),
    ("DR013", Severity::Critical),
    ("DR014", Severity::Critical),
    ("DR015", Severity::Medium),
    ("DD001", Severity::Critical),
    ("DD002", Severity::Low),
    (suppression::UNUSED_CODE, Severity::Low),
];

/// The severity of a rule code.
///
/// # Panics
/// A code without an entry (a test checks every rule has one).
#[must_use]
pub fn of(code: &str) -> Severity {
    /// [`TABLE`] by code: asked for every finding written (a scan of the table compared up to
    /// eighty codes).
    static BY_CODE: std::sync::LazyLock<
        std::collections::HashMap<&'static str, Severity, foldhash::fast::FixedState>,
    > = std::sync::LazyLock::new(|| TABLE.iter().copied().collect());
    BY_CODE
        .get(code)
        .copied()
        .unwrap_or_else(|| panic!("no severity for rule {code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_exactly_one_severity() {
        for (code, _) in crate::codes::all_codes() {
            assert_eq!(
                TABLE.iter().filter(|(c, _)| *c == code).count(),
                1,
                "{code}"
            );
        }
        assert_eq!(TABLE.len(), crate::codes::all_codes().len());
    }

    #[test]
    fn the_guideline_dangers_are_critical() {
        for code in ["DC001", "DC004", "DC015", "DF008", "K8S002", "K8S008"] {
            assert_eq!(of(code), Severity::Critical, "{code}");
        }
        assert_eq!(of("DF002"), Severity::High);
        assert!(Severity::Critical > Severity::High && Severity::Medium > Severity::Low);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("severe"), None);
    }
}
