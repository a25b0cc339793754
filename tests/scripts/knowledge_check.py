#!/usr/bin/env python3
"""Checks the image knowledge base (transforms/knowledge/images/*.toml) against its schema
(transforms/knowledge/SCHEMA.md): known keys and types, every fact field named by an evidence item,
and, with --mirrors DIR, that every evidence quote is found at the cited lines of the cited file in a
local git snapshot of the repository (DIR/<owner>+<name>/repo, as the search tool's fetch leaves them).

    python3 tests/scripts/knowledge_check.py [--mirrors /work/.mirror] [FILE ...]

Exit 1 when anything is wrong; every problem is printed as FILE: image NAME: message.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tomllib

STR = str
STRS = "strings"
FACTS = {
    "kind": ("enum", {"server", "runtime", "tool"}),
    "platform": ("enum", {"linux", "windows"}),
    "family": ("enum", {"alpine", "debian", "rhel", "distroless", "scratch", "windows"}),
    "user": STR,
    "runs-as": "user",
    "switch-user": (
        "enum",
        {
            "gosu", "su-exec", "setpriv", "chroot", "s6-overlay", "supervisord", "start-stop-daemon",
            "su", "runuser", "sudo", "capsh", "master-worker", "none",
        },
    ),
    "user-override": STR,
    "needs-root": STR,
    "cap-add": "caps",
    "read-only": bool,
    "read-only-why": STR,
    "tmpfs": "paths",
    "tmpfs-exec": "paths",
    "read-only-env": "env",
    "writes-when": "writes-when",
    "state": "paths",
    "volumes": "paths",
    "config-read-only": "paths",
    "config-writes": "paths",
    "file-env": STRS,
    "docker-api": "docker-api",
    "privileged-needs": "privileged-needs",
    "host-network": STR,
    "no-new-privileges-breaks": STR,
    "host-pid": STR,
    "ports": STRS,
    "http-port": int,
    "health-path": STR,
    "healthcheck": bool,
    "http-clients": ("set", {"curl", "wget"}),
    "memory-env": STRS,
    "min-memory": STR,
    "slim": STR,
}
# Facts that need no evidence of their own (descriptive, or checked elsewhere).
NO_EVIDENCE = {"kind", "platform", "slim"}
SECTIONS = {
    "CONTAINERS", "IMAGES", "NETWORKS", "VOLUMES", "SERVICES", "TASKS", "NODES", "EVENTS", "INFO",
    "VERSION", "EXEC", "BUILD", "SYSTEM", "SWARM", "PLUGINS", "SECRETS", "CONFIGS", "DISTRIBUTION",
    "AUTH", "SESSION", "POST", "PING",
}
CAP_RE = re.compile(r"^[A-Z_]+$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*(/\*)?$")


def check_type(key, spec, value):
    if spec is STR:
        return isinstance(value, str) and value.strip() != ""
    if spec is bool:
        return isinstance(value, bool)
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536
    if spec == STRS:
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    if spec == "paths":
        return isinstance(value, list) and all(isinstance(v, str) and v.startswith("/") for v in value)
    if spec == "caps":
        return (
            isinstance(value, list)
            and all(isinstance(v, str) and CAP_RE.match(v) and not v.startswith("CAP_") for v in value)
            and value == sorted(set(value))
        )
    if spec == "env":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if spec == "user":
        return (
            isinstance(value, dict)
            and set(value) <= {"name", "uid", "gid"}
            and isinstance(value.get("uid"), int)
            and isinstance(value.get("gid"), int)
        )
    if spec == "docker-api":
        if value is False:
            return True
        return (
            isinstance(value, dict)
            and set(value) <= {"endpoint-env", "sections", "write"}
            and all(s in SECTIONS for s in value.get("sections", []))
            and isinstance(value.get("write", False), bool)
        )
    if spec == "writes-when":
        return isinstance(value, list) and all(
            isinstance(w, dict)
            and set(w) <= {"mounted", "env", "path", "why"}
            and ("mounted" in w) != ("env" in w)
            and str(w.get("path", "")).startswith("/")
            and "why" in w
            for w in value
        )
    if spec == "privileged-needs":
        return isinstance(value, dict) and set(value) <= {"cap-add", "devices"}
    if isinstance(spec, tuple) and spec[0] == "enum":
        return value in spec[1]
    if isinstance(spec, tuple) and spec[0] == "set":
        return isinstance(value, list) and all(v in spec[1] for v in value)
    raise AssertionError(key)


def quote_parts(quote):
    """The verbatim fragments of a quote: split on the ellipsis, whitespace folded."""
    parts = []
    for p in quote.split("…"):
        p = " ".join(p.split())
        if len(p) >= 4:
            parts.append(p)
    return parts


def file_at(mirrors, repo, commit, path, cache):
    key = (repo, commit, path)
    if key in cache:
        return cache[key]
    git_dir = os.path.join(mirrors, repo.replace("/", "+"), "repo")
    text = None
    if os.path.isdir(git_dir):
        for rev in (commit, "HEAD"):
            r = subprocess.run(
                ["git", "--git-dir", git_dir, "show", f"{rev}:{path}"],
                capture_output=True,
            )
            if r.returncode == 0:
                text = r.stdout.decode("utf-8", "replace")
                break
    cache[key] = (text, os.path.isdir(git_dir))
    return cache[key]


def check_evidence(where, ev, errors, mirrors, cache, allowed_facts):
    for k in ("facts", "repo", "file", "lines", "commit", "quote"):
        if k not in ev:
            errors.append(f"{where}: evidence without `{k}`")
    extra = set(ev) - {"facts", "repo", "file", "lines", "commit", "quote", "note"}
    if extra:
        errors.append(f"{where}: evidence has unknown keys {sorted(extra)}")
    for f in ev.get("facts", []):
        if f not in allowed_facts:
            errors.append(f"{where}: evidence names unknown fact `{f}`")
    if not re.match(r"^[0-9a-f]{10,40}$", str(ev.get("commit", ""))):
        errors.append(f"{where}: evidence commit `{ev.get('commit')}` is not 10-40 hex digits")
    m = re.match(r"^(\d+)(?:-(\d+))?$", str(ev.get("lines", "")))
    if not m:
        errors.append(f"{where}: evidence lines `{ev.get('lines')}` is not N or N-M")
        return
    if not mirrors or "repo" not in ev or "file" not in ev:
        return
    text, have_repo = file_at(mirrors, ev["repo"], ev.get("commit", "HEAD"), ev["file"], cache)
    if not have_repo:
        return  # not fetched here: cannot check
    if text is None:
        errors.append(f"{where}: {ev['repo']}: no file `{ev['file']}` at {ev.get('commit')}")
        return
    lines = text.splitlines()
    a = int(m.group(1))
    b = int(m.group(2) or a)
    window = " ".join(" ".join(lines[max(0, a - 3) : b + 2]).split())
    for part in quote_parts(ev.get("quote", "")):
        if part not in window:
            errors.append(
                f"{where}: quote fragment not found at {ev['repo']}/{ev['file']}:{a}-{b}: {part!r}"
            )


def check_facts(where, table, errors, is_variant):
    allowed = set(FACTS) | {"evidence", "variant"} | ({"when"} if is_variant else {"names", "summary"})
    for k in table:
        if k not in allowed:
            errors.append(f"{where}: unknown key `{k}`")
    for k, spec in FACTS.items():
        if k in table and not check_type(k, spec, table[k]):
            errors.append(f"{where}: `{k}` has a wrong value: {table[k]!r}")
    if table.get("read-only") is False and "read-only-why" not in table:
        errors.append(f"{where}: `read-only = false` needs `read-only-why`")
    for k in ("tmpfs-exec",):
        for p in table.get(k, []):
            if p not in table.get("tmpfs", []) and not is_variant:
                errors.append(f"{where}: `{k}` path {p} is not in `tmpfs`")
    covered = set()
    for ev in table.get("evidence", []):
        covered.update(ev.get("facts", []))
    for k in FACTS:
        if k in table and k not in NO_EVIDENCE and k not in covered:
            errors.append(f"{where}: fact `{k}` cites no evidence")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirrors", help="folder of fetched repositories (owner+name/repo)")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or sorted(
        glob.glob(os.path.join(os.path.dirname(__file__), "../../transforms/knowledge/images/*.toml"))
    )
    errors = []
    names = {}
    cache = {}
    count = 0
    for path in files:
        try:
            with open(path, "rb") as f:
                doc = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            errors.append(f"{path}: {e}")
            continue
        if set(doc) - {"image"}:
            errors.append(f"{path}: unknown top-level keys {sorted(set(doc) - {'image'})}")
        for entry in doc.get("image", []):
            count += 1
            label = ",".join(entry.get("names", ["?"]))
            where = f"{os.path.basename(path)}: image {label}"
            for k in ("names", "summary", "evidence"):
                if k not in entry:
                    errors.append(f"{where}: missing `{k}`")
            for n in entry.get("names", []):
                if not isinstance(n, str) or not NAME_RE.match(n):
                    errors.append(f"{where}: bad name {n!r} (lower case, short form)")
                elif n.startswith(("docker.io/", "library/", "index.docker.io/")):
                    errors.append(f"{where}: name {n!r} must be in short form (without docker.io/library)")
                if n in names:
                    errors.append(f"{where}: name {n!r} is also in {names[n]}")
                names[n] = where
            check_facts(where, entry, errors, False)
            for ev in entry.get("evidence", []):
                check_evidence(where, ev, errors, args.mirrors, cache, FACTS)
            for i, v in enumerate(entry.get("variant", [])):
                vw = f"{where} variant {i + 1}"
                when = v.get("when")
                if not isinstance(when, dict) or not when or set(when) - {"tag-contains", "versions"}:
                    errors.append(f"{vw}: `when` must have tag-contains and/or versions")
                elif "versions" in when and not re.match(
                    r"^\s*(>=|<=|>|<|=)\s*[0-9][0-9.]*(\s*,\s*(>=|<=|>|<|=)\s*[0-9][0-9.]*)*\s*$",
                    when["versions"],
                ):
                    errors.append(f"{vw}: bad version range {when['versions']!r}")
                check_facts(vw, v, errors, True)
                for ev in v.get("evidence", []):
                    check_evidence(vw, ev, errors, args.mirrors, cache, FACTS)
    for e in errors:
        print(e)
    print(f"{count} entries, {len(errors)} problems")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
