//! The interactive fix session as a UI-free state machine (like `git add -p`): it offers one fixable
//! finding at a time, takes the user's answer, applies accepted fixes through the engine (apply,
//! re-parse, verify) and re-checks the text before the next question. Declined findings are not
//! asked again. The terminal front end lives in the binary; tests drive this with scripted answers.

use std::collections::BTreeSet;

use crate::apply::apply_fixes;
use crate::engine::{AppliedFix, Engine, EngineError};
use crate::finding::{Finding, Need};
use crate::fix::Applicability;
use crate::registry::Transform;
use crate::settings::{ImageResolver, Settings, Workspace};
use crate::source::{parse, FileKind};
use crate::text::LineIndex;

/// An answer to a question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `y`: apply this fix.
    Yes,
    /// `n`: skip this fix.
    No,
    /// `a`: apply this fix and every remaining fix of the same rule (in this file and the next).
    AllOfRule,
    /// `d`: skip this and every remaining fix of the same rule.
    SkipRule,
    /// `q`: keep what was accepted and stop asking.
    Quit,
}

impl Answer {
    /// The answer for a key (`y n a d q`), if it is one.
    #[must_use]
    pub fn from_key(key: char) -> Option<Self> {
        match key.to_ascii_lowercase() {
            'y' => Some(Self::Yes),
            'n' => Some(Self::No),
            'a' => Some(Self::AllOfRule),
            'd' => Some(Self::SkipRule),
            'q' => Some(Self::Quit),
            _ => None,
        }
    }
}

/// One question: a finding with an applicable fix, and the text as it would be with this fix alone;
/// or, when `need` is set, a display-only fix that waits for a value (answer with
/// [`Session::provide`], or decline with `n` / `d` / `q`).
#[derive(Clone, Debug)]
pub struct Question {
    pub finding: Finding,
    /// The value the fix needs (the front end asks for it).
    pub need: Option<Need>,
    /// The current text (before this fix).
    pub before: String,
    /// The text with only this fix applied (for the preview).
    pub after: String,
    /// 1-based line of the finding in the current text.
    pub line: usize,
}

/// Choices that span files (a/d answers apply to the rest of the session).
#[derive(Clone, Debug, Default)]
pub struct RuleChoices {
    pub apply_all: BTreeSet<&'static str>,
    pub skip: BTreeSet<&'static str>,
    pub quit: bool,
}

/// The session over one file. It owns its settings: values the user provides during the session
/// (a uid, a memory limit, a pin) are set there and used by the following checks.
pub struct Session<'e> {
    transforms: Vec<&'static dyn Transform>,
    settings: Settings,
    resolver: &'e dyn ImageResolver,
    workspace: &'e dyn Workspace,
    path: Option<&'e str>,
    base_services: Option<&'e [String]>,
    kind: FileKind,
    /// Options already provided in this session (not asked again).
    provided: BTreeSet<(&'static str, Option<String>)>,
    text: String,
    declined: Vec<(&'static str, String, String)>,
    pending: Option<Finding>,
    accepted: Vec<AppliedFix>,
    /// Ask about fixes at least this safe (`Unsafe`: Safe and Unsafe ones; `Safe`: only Safe ones).
    min_applicability: Applicability,
}

/// What identifies a finding across re-checks (offsets move as other fixes apply): its rule, its
/// message and the whole lines it is on.
fn key_of(text: &str, f: &Finding) -> (&'static str, String, String) {
    let start = text[..f.range.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[f.range.end..]
        .find('\n')
        .map_or(text.len(), |i| f.range.end + i);
    (f.code, text[start..end].to_owned(), f.message.clone())
}

impl<'e> Session<'e> {
    /// Start a session over `text` with the engine's transforms, options and resolver.
    ///
    /// # Errors
    /// The text does not parse.
    pub fn new(
        engine: &Engine<'e>,
        kind: FileKind,
        text: &str,
        min_applicability: Applicability,
    ) -> Result<Self, EngineError> {
        parse(kind, text).map_err(EngineError::Syntax)?;
        Ok(Self {
            transforms: engine.transforms.clone(),
            settings: engine.settings.clone(),
            resolver: engine.resolver,
            workspace: engine.workspace,
            path: engine.path,
            base_services: engine.base_services,
            provided: BTreeSet::new(),
            kind,
            text: text.to_owned(),
            declined: Vec::new(),
            pending: None,
            accepted: Vec::new(),
            min_applicability,
        })
    }

    fn engine(&self) -> Engine<'_> {
        Engine {
            transforms: self.transforms.clone(),
            settings: &self.settings,
            resolver: self.resolver,
            workspace: self.workspace,
            path: self.path,
            base_services: self.base_services,
        }
    }

    /// The text with the accepted fixes.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The fixes applied so far.
    #[must_use]
    pub fn accepted(&self) -> &[AppliedFix] {
        &self.accepted
    }

    /// The settings with the values provided so far (to save them to the config file).
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Provide the value the pending question's fix needs. On success the next question is normally
    /// the same finding, now with an applicable fix to confirm.
    ///
    /// # Errors
    /// The value is invalid (the message says what is expected); the question stays pending.
    pub fn provide(&mut self, value: &str) -> Result<(), String> {
        let Some(f) = self.pending.as_ref() else {
            return Err("no pending question".into());
        };
        let Some(need) = f.need.clone() else {
            return Err("this question does not take a value".into());
        };
        self.settings.set(need.option, need.key.as_deref(), value)?;
        self.provided.insert((need.option, need.key));
        self.pending = None;
        Ok(())
    }

    fn apply(&mut self, f: &Finding) -> Result<(), EngineError> {
        let verified = self
            .engine()
            .apply_verified(self.kind, &self.text, None, &[f])?;
        if verified.applied.is_empty() {
            return Ok(());
        }
        let fix = f.fix.as_ref().expect("questions have fixes");
        self.accepted.push(AppliedFix {
            code: f.code,
            name: f.name,
            title: fix.title.clone(),
            applicability: fix.applicability,
            line: self.line_of(f.range.start),
        });
        self.text = verified.text;
        Ok(())
    }

    /// 1-based line of `offset` in the current text (YAML line breaks include a lone CR).
    fn line_of(&self, offset: usize) -> usize {
        let index = if self.kind == FileKind::Dockerfile {
            LineIndex::new(&self.text)
        } else {
            LineIndex::with_cr_breaks(&self.text)
        };
        index.line_of(offset) + 1
    }

    fn applicable(&self, f: &Finding) -> bool {
        f.fix.as_ref().is_some_and(|x| {
            x.applicability >= self.min_applicability
                && x.applicability > Applicability::DisplayOnly
                && !x.edits.is_empty()
        })
    }

    fn wants_value(&self, f: &Finding) -> bool {
        !self.applicable(f)
            && f.need
                .as_ref()
                .is_some_and(|n| !self.provided.contains(&(n.option, n.key.clone())))
    }

    /// The next question, applying the fixes of rules answered with `a` on the way; None when done.
    ///
    /// # Errors
    /// A fix misbehaved (nothing of this file must be written then).
    pub fn next_question(
        &mut self,
        choices: &RuleChoices,
    ) -> Result<Option<Question>, EngineError> {
        if choices.quit {
            return Ok(None);
        }
        // Bounded: every iteration applies a fix or returns.
        for _ in 0..10_000 {
            let findings =
                self.engine()
                    .check(self.kind, &self.text)
                    .map_err(|e| EngineError::Bug {
                        codes: self.accepted.iter().map(|a| a.code).collect(),
                        message: format!("the fixed text does not parse: {}", e.message),
                    })?;
            let next = findings.into_iter().find(|f| {
                (self.applicable(f) || self.wants_value(f))
                    && !choices.skip.contains(f.code)
                    && !self.declined.contains(&key_of(&self.text, f))
            });
            let Some(f) = next else { return Ok(None) };
            let line = self.line_of(f.range.start);
            if !self.applicable(&f) {
                self.pending = Some(f.clone());
                return Ok(Some(Question {
                    need: f.need.clone(),
                    finding: f,
                    before: self.text.clone(),
                    after: self.text.clone(),
                    line,
                }));
            }
            if choices.apply_all.contains(f.code) {
                let before = self.text.clone();
                self.apply(&f)?;
                if self.text == before {
                    // Could not apply (conflict): do not loop on it.
                    self.declined.push(key_of(&self.text, &f));
                }
                continue;
            }
            let fix = f.fix.as_ref().expect("filtered");
            let after = apply_fixes(&self.text, &[fix]).text;
            self.pending = Some(f.clone());
            return Ok(Some(Question {
                finding: f,
                need: None,
                before: self.text.clone(),
                after,
                line,
            }));
        }
        Ok(None)
    }

    /// Answer the pending question.
    ///
    /// # Errors
    /// An accepted fix misbehaved.
    pub fn answer(&mut self, answer: Answer, choices: &mut RuleChoices) -> Result<(), EngineError> {
        let Some(f) = self.pending.take() else {
            return Ok(());
        };
        if !self.applicable(&f) {
            // A value question answered without a value: nothing can be applied.
            match answer {
                Answer::Yes | Answer::No => self.declined.push(key_of(&self.text, &f)),
                Answer::AllOfRule | Answer::SkipRule => {
                    choices.skip.insert(f.code);
                }
                Answer::Quit => choices.quit = true,
            }
            return Ok(());
        }
        match answer {
            Answer::Yes => self.apply(&f)?,
            Answer::No => self.declined.push(key_of(&self.text, &f)),
            Answer::AllOfRule => {
                choices.apply_all.insert(f.code);
                self.apply(&f)?;
            }
            Answer::SkipRule => {
                choices.skip.insert(f.code);
            }
            Answer::Quit => choices.quit = true,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKERFILE: &str = "FROM alpine:3.20\nADD a /a\nADD b /b\nADD c /c\n";

    /// A display-only rule that needs `uid` to fix (a stand-in for the real rules, to test the
    /// session's value questions without depending on their messages).
    struct NeedsUid;

    impl Transform for NeedsUid {
        fn code(&self) -> &'static str {
            "T001"
        }
        fn name(&self) -> &'static str {
            "needs-uid"
        }
        fn kind(&self) -> FileKind {
            FileKind::Dockerfile
        }
        fn source_file(&self) -> &'static str {
            file!()
        }
        fn raw_docs(&self) -> &'static str {
            " ## Why is this bad?\n test\n"
        }
        fn fix_availability(&self) -> crate::registry::FixAvailability {
            crate::registry::FixAvailability::Sometimes
        }
        fn check(&self, ctx: &crate::registry::Context<'_>) -> Vec<Finding> {
            use crate::edit::Edit;
            use crate::fix::Fix;
            if ctx.text.contains("USER ") {
                return Vec::new();
            }
            let at = ctx.text.len();
            let edit = Edit::insert(at, format!("USER {}\n", ctx.settings.uid));
            let fix = if ctx.settings.uid == 10001 {
                Fix::display_only("Add USER", vec![edit])
            } else {
                Fix::unsafe_("Add USER", vec![edit])
            };
            vec![Finding::new(
                "T001",
                "needs-uid",
                crate::text::TextRange::new(0, 4),
                "no USER",
            )
            .with_fix(fix)
            .with_need(Need {
                option: "uid",
                key: None,
                prompt: "uid".into(),
                default: Some("10001".into()),
            })]
        }
    }

    #[test]
    fn value_questions() {
        static T: NeedsUid = NeedsUid;
        let engine = Engine {
            transforms: vec![&T],
            ..Engine::with_defaults()
        };
        let text = "FROM alpine:3.20\n";
        let mut s =
            Session::new(&engine, FileKind::Dockerfile, text, Applicability::Unsafe).unwrap();
        let mut c = RuleChoices::default();
        let q = s.next_question(&c).unwrap().unwrap();
        assert_eq!(q.need.as_ref().unwrap().option, "uid");
        assert!(s.provide("root").is_err(), "validated");
        s.provide("1000").unwrap();
        let q = s.next_question(&c).unwrap().unwrap();
        assert!(q.need.is_none());
        assert!(q.after.ends_with("USER 1000\n"));
        s.answer(Answer::Yes, &mut c).unwrap();
        assert!(s.next_question(&c).unwrap().is_none());
        assert_eq!(s.text(), "FROM alpine:3.20\nUSER 1000\n");
        assert_eq!(s.settings().uid, 1000);
        // Declining the value question: not asked again, nothing applied.
        let mut s =
            Session::new(&engine, FileKind::Dockerfile, text, Applicability::Unsafe).unwrap();
        let mut c = RuleChoices::default();
        s.next_question(&c).unwrap().unwrap();
        s.answer(Answer::No, &mut c).unwrap();
        assert!(s.next_question(&c).unwrap().is_none());
        assert_eq!(s.text(), text);
    }

    /// A session with one real rule where every value question gets the next of `values` and every
    /// fix is accepted: the options asked (with their keys) and the final text.
    fn with_values(
        code: &str,
        kind: FileKind,
        text: &str,
        values: &[&str],
    ) -> (Vec<String>, String) {
        let engine = Engine {
            transforms: vec![crate::registry::find(code).unwrap()],
            ..Engine::with_defaults()
        };
        let mut s = Session::new(&engine, kind, text, Applicability::Unsafe).unwrap();
        let mut c = RuleChoices::default();
        let mut values = values.iter();
        let mut asked = Vec::new();
        while let Some(q) = s.next_question(&c).unwrap() {
            assert_eq!(q.finding.code, code, "{}", q.finding.message);
            match &q.need {
                Some(need) => {
                    asked.push(match &need.key {
                        Some(k) => format!("{} {k}", need.option),
                        None => need.option.to_owned(),
                    });
                    let v = values
                        .next()
                        .unwrap_or_else(|| panic!("unexpected question {asked:?}"));
                    s.provide(v).unwrap();
                }
                None => s.answer(Answer::Yes, &mut c).unwrap(),
            }
        }
        assert!(values.next().is_none(), "unused values, asked {asked:?}");
        (asked, s.text().to_owned())
    }

    /// The values the README promises the session asks for (limits, healthcheck, pins, the
    /// Secret name), each producing the fix.
    #[test]
    fn value_questions_of_the_real_rules_produce_their_fixes() {
        // DC010: memory, then CPU, then the process count, one applied fix each.
        let compose = "services:\n  web:\n    image: nginx:1.27\n";
        let (asked, out) =
            with_values("DC010", FileKind::Compose, compose, &["512M", "0.5", "200"]);
        assert_eq!(asked, ["limits.memory", "limits.cpus", "limits.pids"]);
        assert!(
            out.contains("memory: 512M") && out.contains("cpus: 0.5") && out.contains("pids: 200"),
            "{out}"
        );
        // DR008: the same three for `docker run`.
        let (asked, out) = with_values(
            "DR008",
            FileKind::Shell,
            "docker run -d nginx:1.27\n",
            &["512m", "0.5", "200"],
        );
        assert_eq!(asked, ["limits.memory", "limits.cpus", "limits.pids"]);
        assert!(
            out.contains("512m") && out.contains("0.5") && out.contains("200"),
            "{out}"
        );
        // K8S009: both limits asked before the one fix (requests follow the limits).
        let deployment = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n";
        let (asked, out) = with_values(
            "K8S009",
            FileKind::Kubernetes,
            deployment,
            &["512Mi", "500m"],
        );
        assert_eq!(asked, ["limits.memory", "limits.cpus"]);
        assert!(
            out.contains("memory: 512Mi") && out.contains("cpu: 500m"),
            "{out}"
        );
        // K8S010: the pin for the image.
        let latest = deployment.replace("nginx:1.27", "nginx:latest");
        let (asked, out) = with_values("K8S010", FileKind::Kubernetes, &latest, &["1.27-alpine"]);
        assert_eq!(asked, ["pins nginx"]);
        assert!(out.contains("image: nginx:1.27-alpine\n"), "{out}");
        // K8S011: the Secret the credential moves to.
        let secret = format!("{deployment}      env:\n        - name: DB_PASSWORD\n          value: hunter2hunter2\n");
        let (asked, out) =
            with_values("K8S011", FileKind::Kubernetes, &secret, &["db-credentials"]);
        assert_eq!(asked, ["kubernetes.secret-name"]);
        assert!(
            out.contains("name: db-credentials") && !out.contains("hunter2"),
            "{out}"
        );
        // DC012 / K8S004: the non-root uid:gid an unknown image works as (an `[[images]]` fact).
        let agent = "services:\n  agent:\n    image: ghcr.io/acme/agent:1.2\n";
        let (asked, out) = with_values("DC012", FileKind::Compose, agent, &["1000:1000"]);
        assert_eq!(asked, ["images.user-override ghcr.io/acme/agent"]);
        assert!(out.contains("user: \"1000:1000\""), "{out}");
        let pod = deployment.replace("nginx:1.27", "ghcr.io/acme/agent:1.2");
        let (asked, out) = with_values("K8S004", FileKind::Kubernetes, &pod, &["1000:1000"]);
        assert_eq!(asked, ["images.user-override ghcr.io/acme/agent"]);
        assert!(out.contains("runAsUser: 1000"), "{out}");
        let run = "docker run -d ghcr.io/acme/agent:1.2\n";
        let (asked, out) = with_values("DR007", FileKind::Shell, run, &["1000:1000"]);
        assert_eq!(asked, ["images.user-override ghcr.io/acme/agent"]);
        assert!(
            out.contains("-u 1000:1000") || out.contains("--user 1000:1000"),
            "{out}"
        );
        // What an unknown image needs back, writes and whether it uses the Docker API.
        let compose_agent = |extra: &str| {
            format!("services:\n  agent:\n    image: ghcr.io/acme/agent:1.2\n{extra}")
        };
        let pod_agent = |extra: &str| {
            format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: ghcr.io/acme/agent:1.2\n{extra}")
        };
        let socket_pod = pod_agent("      volumeMounts:\n        - name: sock\n          mountPath: /var/run/docker.sock\n  volumes:\n    - name: sock\n      hostPath:\n        path: /var/run/docker.sock\n");
        let socket_compose =
            compose_agent("    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n");
        for (code, kind, text, value, option, expect) in [
            ("DC002", FileKind::Compose, compose_agent(""), "chown", "images.cap-add", "- CHOWN"),
            ("K8S003", FileKind::Kubernetes, pod_agent(""), "chown", "images.cap-add", "- CHOWN"),
            ("DR005", FileKind::Shell, run.to_owned(), "chown", "images.cap-add", "--cap-add CHOWN"),
            ("DC008", FileKind::Compose, compose_agent(""), "/tmp", "images.tmpfs", "read_only: true"),
            ("K8S005", FileKind::Kubernetes, pod_agent(""), "/tmp", "images.tmpfs", "readOnlyRootFilesystem: true"),
            ("DR006", FileKind::Shell, run.to_owned(), "/tmp", "images.tmpfs", "--read-only"),
            ("DC001", FileKind::Compose, socket_compose, "no", "images.docker-api", "image: ghcr.io/acme/agent:1.2\n"),
            ("K8S008", FileKind::Kubernetes, socket_pod, "no", "images.docker-api", "image: ghcr.io/acme/agent:1.2\n"),
            ("DR002", FileKind::Shell, "docker run -d -v /var/run/docker.sock:/var/run/docker.sock ghcr.io/acme/agent:1.2\n".to_owned(), "no", "images.docker-api", "docker run -d ghcr.io/acme/agent:1.2"),
        ] {
            let (asked, out) = with_values(code, kind, &text, &[value]);
            assert_eq!(asked, [format!("{option} ghcr.io/acme/agent")], "{code}");
            assert!(out.contains(expect), "{code}: {out}");
            if option == "images.docker-api" {
                assert!(!out.contains("docker.sock"), "{code}: {out}");
            }
        }
        // DF004: a distroless image has no shell or curl: the command is asked for.
        let dockerfile = "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\nEXPOSE 8080\nENTRYPOINT [\"/app\"]\n";
        let (asked, out) = with_values(
            "DF004",
            FileKind::Dockerfile,
            dockerfile,
            &["/app healthcheck"],
        );
        assert_eq!(asked, ["healthcheck.command"]);
        assert!(out.contains("CMD [\"/app\", \"healthcheck\"]\n"), "{out}");
        // DF004: with curl in the image and a port, only the path is unknown.
        let path = "FROM nginx:1.27\nCOPY site /usr/share/nginx/html\nEXPOSE 80\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n";
        let (asked, out) = with_values("DF004", FileKind::Dockerfile, path, &["/healthz"]);
        assert_eq!(asked, ["healthcheck.path"]);
        assert!(out.contains("http://127.0.0.1:80/healthz"), "{out}");
    }

    fn run(text: &str, kind: FileKind, answers: &[Answer]) -> (String, Vec<&'static str>) {
        let engine = Engine {
            transforms: vec![crate::registry::find("DF001").unwrap()],
            ..Engine::with_defaults()
        };
        let mut s = Session::new(&engine, kind, text, Applicability::Unsafe).unwrap();
        let mut choices = RuleChoices::default();
        let mut answers = answers.iter();
        while let Some(q) = s.next_question(&choices).unwrap() {
            let a = *answers
                .next()
                .unwrap_or_else(|| panic!("unexpected question: {}", q.finding.message));
            s.answer(a, &mut choices).unwrap();
        }
        assert!(answers.next().is_none(), "unused answers");
        (
            s.text().to_owned(),
            s.accepted().iter().map(|a| a.code).collect(),
        )
    }

    #[test]
    fn yes_no_and_declined_not_asked_again() {
        let engine = Engine {
            transforms: vec![crate::registry::find("DF001").unwrap()],
            ..Engine::with_defaults()
        };
        let mut s = Session::new(
            &engine,
            FileKind::Dockerfile,
            DOCKERFILE,
            Applicability::Unsafe,
        )
        .unwrap();
        let mut c = RuleChoices::default();
        let q = s.next_question(&c).unwrap().unwrap();
        assert_eq!(q.line, 2);
        assert!(q.after.contains("COPY a /a"));
        s.answer(Answer::Yes, &mut c).unwrap();
        let q = s.next_question(&c).unwrap().unwrap();
        assert_eq!(q.line, 3);
        s.answer(Answer::No, &mut c).unwrap();
        let q = s.next_question(&c).unwrap().unwrap();
        assert_eq!(q.line, 4);
        s.answer(Answer::Yes, &mut c).unwrap();
        assert!(s.next_question(&c).unwrap().is_none());
        assert_eq!(
            s.text(),
            "FROM alpine:3.20\nCOPY a /a\nADD b /b\nCOPY c /c\n"
        );
    }

    #[test]
    fn all_of_rule_and_quit() {
        let engine = Engine {
            transforms: vec![crate::registry::find("DF001").unwrap()],
            ..Engine::with_defaults()
        };
        let mut s = Session::new(
            &engine,
            FileKind::Dockerfile,
            DOCKERFILE,
            Applicability::Unsafe,
        )
        .unwrap();
        let mut c = RuleChoices::default();
        s.next_question(&c).unwrap().unwrap();
        s.answer(Answer::AllOfRule, &mut c).unwrap();
        assert!(s.next_question(&c).unwrap().is_none());
        assert_eq!(
            s.text(),
            "FROM alpine:3.20\nCOPY a /a\nCOPY b /b\nCOPY c /c\n"
        );

        let mut s = Session::new(
            &engine,
            FileKind::Dockerfile,
            DOCKERFILE,
            Applicability::Unsafe,
        )
        .unwrap();
        let mut c = RuleChoices::default();
        s.next_question(&c).unwrap().unwrap();
        s.answer(Answer::Yes, &mut c).unwrap();
        s.next_question(&c).unwrap().unwrap();
        s.answer(Answer::Quit, &mut c).unwrap();
        assert!(s.next_question(&c).unwrap().is_none());
        assert_eq!(
            s.text(),
            "FROM alpine:3.20\nCOPY a /a\nADD b /b\nADD c /c\n"
        );
    }

    #[test]
    fn skip_rule_and_multi_rule_script() {
        let (text, accepted) = run(DOCKERFILE, FileKind::Dockerfile, &[Answer::SkipRule]);
        assert_eq!(text, DOCKERFILE);
        assert!(accepted.is_empty());
        let compose = "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n      - ./a:/a\n";
        let engine = Engine {
            transforms: vec![crate::registry::find("DC001").unwrap()],
            ..Engine::with_defaults()
        };
        let mut s =
            Session::new(&engine, FileKind::Compose, compose, Applicability::Unsafe).unwrap();
        let mut c = RuleChoices::default();
        let q = s.next_question(&c).unwrap().unwrap();
        assert_eq!(q.finding.code, "DC001");
        s.answer(Answer::Yes, &mut c).unwrap();
        assert!(s.next_question(&c).unwrap().is_none());
        assert_eq!(
            s.text(),
            "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - ./a:/a\n"
        );
        // Safe-only sessions do not ask about Unsafe fixes.
        let s2 = Session::new(&engine, FileKind::Compose, compose, Applicability::Safe);
        let mut s2 = s2.unwrap();
        assert!(s2.next_question(&RuleChoices::default()).unwrap().is_none());
    }
}
