//! What the K8S rules ask of a container's image (ARCHITECTURE 4b): the one lookup
//! ([`Container::needs`]) read the same way by every rule.

use crate::images::Facts;
use crate::kubernetes::model::{as_int, Container};
use crate::needs::{is_root_user, Needs};

/// The image's own `USER` is a non-root user.
#[must_use]
pub fn default_non_root(f: &Facts) -> bool {
    f.user
        .as_deref()
        .is_some_and(|u| !is_root_user(u) && !u.contains('$'))
}

/// The image starts as root and its entrypoint (or master process) switches to `runs-as` itself.
#[must_use]
pub fn switches(f: &Facts) -> bool {
    !default_non_root(f) && f.switch_user.as_deref().is_some_and(|s| s != "none")
}

/// The image runs whatever command it is given (python, node, debian).
#[must_use]
pub fn runtime(f: &Facts) -> bool {
    f.kind.as_deref() == Some("runtime")
}

/// The effective `runAsUser` of the container as a number (container, else pod), if written.
#[must_use]
pub fn manifest_uid(c: &Container) -> Option<i64> {
    c.effective("runAsUser").and_then(|n| as_int(&n))
}

/// Whether the container's process runs as a non-root user: the manifest says so, or it leaves
/// the user to an image known to run as non-root.
#[must_use]
pub fn runs_non_root(c: &Container, needs: &Needs) -> bool {
    c.runs_as_non_root() || (c.effective("runAsUser").is_none() && needs.runs_non_root())
}

/// The capabilities a non-root process of the image can only have through file capabilities
/// (`setcap` on its binaries): the image's `cap-add`, unless its entrypoint starts as root and
/// switches users (then they are the entrypoint's, and a process started as its user needs none).
/// None when it needs none that way or nothing is known.
#[must_use]
pub fn file_capabilities(needs: &Needs) -> Option<Vec<String>> {
    let f = needs.facts.as_ref()?;
    let caps = f.cap_add.as_ref().filter(|c| !c.is_empty())?;
    (!switches(f)).then(|| caps.clone())
}

/// The numeric user and group of a `user-override` (`"999:999"`, `"1000"`, or the name of the
/// user the image runs as), completed from `runs-as`.
#[must_use]
pub fn override_ids(f: &Facts) -> Option<(u32, u32)> {
    let value = f.user_override.as_deref()?;
    let (u, g) = match value.split_once(':') {
        Some((u, g)) => (u.trim(), Some(g.trim())),
        None => (value.trim(), None),
    };
    let uid = u.parse::<u32>().ok().or_else(|| {
        f.runs_as
            .as_ref()
            .filter(|r| r.name.as_deref() == Some(u))
            .map(|r| r.uid)
    })?;
    let gid = match g {
        Some(g) => g.parse::<u32>().ok().or_else(|| {
            f.runs_as
                .as_ref()
                .filter(|r| r.uid == uid && r.name.as_deref() == Some(g))
                .map(|r| r.gid)
        })?,
        None => f
            .runs_as
            .as_ref()
            .filter(|r| r.uid == uid)
            .map_or(uid, |r| r.gid),
    };
    (uid != 0).then_some((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::UserId;

    #[test]
    fn override_ids_complete_from_runs_as() {
        let mut f = Facts {
            user_override: Some("999:999".into()),
            ..Facts::default()
        };
        assert_eq!(override_ids(&f), Some((999, 999)));
        f.user_override = Some("1000".into());
        assert_eq!(override_ids(&f), Some((1000, 1000)));
        f.runs_as = Some(UserId {
            name: Some("jovyan".into()),
            uid: 1000,
            gid: 100,
        });
        assert_eq!(override_ids(&f), Some((1000, 100)));
        f.user_override = Some("jovyan".into());
        assert_eq!(override_ids(&f), Some((1000, 100)));
        f.user_override = Some("telegraf".into());
        assert_eq!(override_ids(&f), None, "a name whose uid is not known");
        f.user_override = Some("0:0".into());
        assert_eq!(override_ids(&f), None);
    }

    #[test]
    fn file_capabilities_are_not_those_of_an_entrypoint_that_switches_users() {
        let needs = |f: Facts| Needs {
            facts: Some(f),
            ..Needs::default()
        };
        let setcap = Facts {
            user: Some("www-data".into()),
            switch_user: Some("none".into()),
            cap_add: Some(vec!["NET_BIND_SERVICE".into()]),
            ..Facts::default()
        };
        assert_eq!(
            file_capabilities(&needs(setcap)),
            Some(vec!["NET_BIND_SERVICE".into()])
        );
        let gosu = Facts {
            user: Some("root".into()),
            switch_user: Some("gosu".into()),
            cap_add: Some(vec!["CHOWN".into(), "SETUID".into()]),
            ..Facts::default()
        };
        assert_eq!(file_capabilities(&needs(gosu)), None);
        let none = Facts {
            cap_add: Some(Vec::new()),
            ..Facts::default()
        };
        assert_eq!(file_capabilities(&needs(none)), None);
    }
}
