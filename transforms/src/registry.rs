//! The `Transform` trait and the registry of every transform.

use crate::finding::Finding;
use crate::settings::{ImageResolver, Settings, Workspace};
use crate::source::{FileKind, Parsed};

/// Everything a transform may look at. Pure data: no I/O.
pub struct Context<'a> {
    pub text: &'a str,
    pub kind: FileKind,
    pub parsed: &'a Parsed,
    pub settings: &'a Settings,
    pub resolver: &'a dyn ImageResolver,
    /// The files next to this one (`.env`, a service's Dockerfile).
    pub workspace: &'a dyn Workspace,
    /// The image lookups of this check, shared by the rules.
    pub memo: &'a crate::needs::Memo,
    /// The file's path as given by the user, if any (used for messages and override-file logic).
    pub path: Option<&'a str>,
}

/// Whether a transform offers fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixAvailability {
    /// Every finding comes with an applicable fix.
    Always,
    /// Some findings have an applicable fix, others only a suggestion or none.
    Sometimes,
    /// Detection only (display-only suggestions at most).
    None,
}

impl FixAvailability {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Sometimes => "sometimes",
            Self::None => "none",
        }
    }
}

/// One rule: detects a problem and attaches the fix to each finding. `check` is the exact negation of
/// the fixed state: after applying a finding's fix, `check` is silent on that construct. A fix derives
/// everything from the parsed document and the construct it found; it never searches the text again.
pub trait Transform: Send + Sync {
    fn code(&self) -> &'static str;
    fn name(&self) -> &'static str;
    fn kind(&self) -> FileKind;
    /// The doc comment of the transform's struct, as written (each line starts with a space).
    fn raw_docs(&self) -> &'static str;
    /// The source file that declares the rule (with its documentation), as `file!()` gives it.
    fn source_file(&self) -> &'static str;
    fn fix_availability(&self) -> FixAvailability;
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding>;

    /// Whether the transform runs on files of `kind` (its [`Transform::kind`], or a group of
    /// kinds for rules that read `docker run` wherever it is written).
    fn applies_to(&self, kind: FileKind) -> bool {
        self.kind() == kind
    }

    /// The kind, or the name of the group of kinds, for listings (`compose`, `scripts`, `ci`).
    fn kind_label(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The full documentation (the doc comment of the transform's struct), in Markdown.
    fn docs(&self) -> String {
        self.raw_docs()
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// One line of "why it matters": the first line of the docs' "Why is this bad?" section.
    fn why(&self) -> String {
        let docs = self.docs();
        docs.split_once("## Why is this bad?")
            .map(|(_, rest)| rest.trim_start())
            .and_then(|rest| rest.lines().next())
            .unwrap_or("")
            .to_owned()
    }
}

/// Declare a transform struct whose doc comment is also its runtime documentation.
///
/// ```ignore
/// declare_transform! {
///     /// ## What it does
///     /// ...
///     pub struct AddInsteadOfCopy => "DF001", "add-instead-of-copy", Dockerfile, Sometimes;
/// }
/// ```
/// The struct must then `impl Check for AddInsteadOfCopy { fn check(&self, ctx) -> Vec<Finding> }`.
#[macro_export]
macro_rules! declare_transform {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident => $code:literal, $rule:literal, group $group:ident, $avail:ident;
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Default, Clone, Copy)]
        pub struct $name;

        impl $name {
            pub const CODE: &'static str = $code;
            pub const NAME: &'static str = $rule;
        }

        impl $crate::registry::Transform for $name {
            fn code(&self) -> &'static str { $code }
            fn name(&self) -> &'static str { $rule }
            fn kind(&self) -> $crate::source::FileKind {
                $crate::registry::group_kinds(stringify!($group))[0]
            }
            fn applies_to(&self, kind: $crate::source::FileKind) -> bool {
                $crate::registry::group_kinds(stringify!($group)).contains(&kind)
            }
            fn kind_label(&self) -> &'static str {
                match stringify!($group) {
                    "Scripts" => "scripts",
                    _ => "ci",
                }
            }
            fn raw_docs(&self) -> &'static str { concat!($($doc, "\n"),*) }
            fn source_file(&self) -> &'static str { file!() }
            fn fix_availability(&self) -> $crate::registry::FixAvailability {
                $crate::registry::FixAvailability::$avail
            }
            fn check(&self, ctx: &$crate::registry::Context<'_>) -> Vec<$crate::finding::Finding> {
                $crate::registry::Check::run(self, ctx)
            }
        }
    };
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident => $code:literal, $rule:literal, $kind:ident, $avail:ident;
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Default, Clone, Copy)]
        pub struct $name;

        impl $name {
            pub const CODE: &'static str = $code;
            pub const NAME: &'static str = $rule;
        }

        impl $crate::registry::Transform for $name {
            fn code(&self) -> &'static str { $code }
            fn name(&self) -> &'static str { $rule }
            fn kind(&self) -> $crate::source::FileKind { $crate::source::FileKind::$kind }
            fn raw_docs(&self) -> &'static str { concat!($($doc, "\n"),*) }
            fn source_file(&self) -> &'static str { file!() }
            fn fix_availability(&self) -> $crate::registry::FixAvailability {
                $crate::registry::FixAvailability::$avail
            }
            fn check(&self, ctx: &$crate::registry::Context<'_>) -> Vec<$crate::finding::Finding> {
                $crate::registry::Check::run(self, ctx)
            }
        }
    };
}

/// The kinds a group name stands for in [`declare_transform!`]: `Scripts` (every file kind that
/// holds shell commands: shell scripts, Makefiles, GitHub Actions, GitLab CI, systemd units,
/// Markdown) and `Ci` (GitHub Actions and GitLab CI).
#[must_use]
pub fn group_kinds(group: &str) -> &'static [FileKind] {
    match group {
        "Scripts" => FileKind::SCRIPT_HOSTS,
        "Ci" => &[FileKind::GithubActions, FileKind::GitlabCi],
        _ => &[],
    }
}

/// The body of a transform declared with [`declare_transform!`].
pub trait Check {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding>;
}

/// Every transform, in code order.
#[must_use]
pub fn all() -> Vec<&'static dyn Transform> {
    ALL.clone()
}

/// Every transform, sorted by code: built once (every file of a run asks).
static ALL: std::sync::LazyLock<Vec<&'static dyn Transform>> = std::sync::LazyLock::new(|| {
    let mut v: Vec<&'static dyn Transform> = Vec::new();
    v.extend(crate::dockerfile::transforms());
    v.extend(crate::compose::transforms());
    v.extend(crate::kubernetes::transforms());
    v.extend(crate::scripts::transforms());
    v.sort_by_key(|t| t.code());
    v
});

/// The transforms that apply to `kind`.
#[must_use]
pub fn for_kind(kind: FileKind) -> Vec<&'static dyn Transform> {
    all().into_iter().filter(|t| t.applies_to(kind)).collect()
}

/// Look a transform up by code (case-insensitive) or name.
#[must_use]
pub fn find(code_or_name: &str) -> Option<&'static dyn Transform> {
    all()
        .into_iter()
        .find(|t| t.code().eq_ignore_ascii_case(code_or_name) || t.name() == code_or_name)
}
