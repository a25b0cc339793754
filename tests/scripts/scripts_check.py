#!/usr/bin/env python3
"""Independent checks of `dockharden fix --unsafe-fixes` over a copy of ../shared/corpus-scripts.

Checkers that no one here wrote must agree with the fixes:
- every shell script that `bash -n` accepted before the fix still parses after it, and `shellcheck`
  (Debian's) reports no error-level finding after the fix that it did not report before;
- every GitHub Actions workflow (GitLab CI file) that validated against the SchemaStore schema
  vendored by `check-jsonschema` (PyPI) still validates, and every `run:` script (every `script`
  line) that `bash -n` accepted still parses;
- every `daemon.json` is still valid JSON with the same keys apart from the daemon settings the
  DD rules edit;
- Markdown is never edited;
- running the fix a second time changes nothing (idempotence, through the real binary), and no
  file is reported as an internal error.
The files are found by walking the copy (discovery by name, path and shebang), as a user would run
it; the kinds found are compared with the kinds `SOURCES.tsv` gives. Exit 1 on any violation.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

DAEMON_KEYS = {"hosts", "tlsverify", "tlscacert", "tlscert", "tlskey", "no-new-privileges", "icc",
               "live-restore", "userland-proxy"}
KIND_NAMES = {"shell": "shell", "makefile": "makefile", "github-workflow": "github-actions",
              "gitlab-ci": "gitlab-ci", "systemd": "systemd", "daemon-json": "daemon-json",
              "markdown": "markdown"}


def load_sources(corpus):
    with open(os.path.join(corpus, "SOURCES.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            yield row["kind"], os.path.join(row["repo"].replace("/", "__"), row["path"])


def read(path):
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


def bash_n(text):
    r = subprocess.run(["bash", "-n"], input=text.encode("utf-8", "surrogateescape"), capture_output=True)
    return r.returncode == 0


def shellcheck_errors(path, text):
    if not shutil.which("shellcheck"):
        return None
    args = ["shellcheck", "-f", "json", "-S", "error"]
    first = text.split("\n", 1)[0]
    if not first.startswith("#!"):
        args += ["-s", "bash"]
    r = subprocess.run(args + [path], capture_output=True, text=True)
    try:
        return sorted((c["code"], c["message"]) for c in json.loads(r.stdout or "[]"))
    except ValueError:
        return [("parse", r.stdout[:200])]


def schema_valid(schema, path):
    r = subprocess.run(["check-jsonschema", "--builtin-schema", schema, path], capture_output=True, text=True)
    return r.returncode == 0


def yaml_scripts(kind, text):
    """The shell scripts of a workflow (`run:`) or a GitLab file (`script` items)."""
    try:
        docs = list(yaml.safe_load_all(text))
    except Exception:  # noqa: BLE001
        return None
    out = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if kind == "github-workflow":
            for job in (doc.get("jobs") or {}).values():
                if isinstance(job, dict):
                    for step in job.get("steps") or []:
                        if isinstance(step, dict) and isinstance(step.get("run"), str):
                            shell = str(step.get("shell", "bash"))
                            if shell.split()[0].rsplit("/", 1)[-1] in ("bash", "sh"):
                                out.append(step["run"])
        else:
            for job in doc.values():
                if isinstance(job, dict):
                    for key in ("before_script", "script", "after_script"):
                        v = job.get(key)
                        items = v if isinstance(v, list) else [v]
                        for item in items:
                            if isinstance(item, str):
                                out.append(item)
    return out


# A configuration that pins the scanner's action, so that DR015 inserts scan steps (Unsafe) and
# the schema check sees them; nothing else is configured.
CONFIG = """[options.pipelines]
scanner = "trivy"
scan-action = "aquasecurity/trivy-action@915b19bbe73b92a6cf82a1bc12b087c9a19a5fe2"
"""


def run_fix(binary, root):
    config = os.path.join(os.path.dirname(root), "dockharden-scripts-check.toml")
    with open(config, "w") as f:
        f.write(CONFIG)
    out = subprocess.run([binary, "fix", "--unsafe-fixes", "--config", config, "--format", "json", root],
                         capture_output=True, text=True)
    return json.loads(out.stdout), out.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True)
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    corpus = os.path.abspath(args.corpus)
    files = list(load_sources(corpus))
    problems = []
    stats = {k: 0 for k in ["shell", "bash_n_before", "bash_n_after", "shellcheck_new_errors",
                            "workflows", "workflow_schema_before", "workflow_schema_after",
                            "gitlab", "gitlab_schema_before", "gitlab_schema_after",
                            "ci_scripts_bash_n_before", "ci_scripts_bash_n_after",
                            "daemon_json", "daemon_json_valid_after", "markdown_unchanged"]}
    work = tempfile.mkdtemp(prefix="dockharden-scripts-")
    try:
        for _, rel in files:
            dst = os.path.join(work, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(corpus, rel), dst)
        report, code = run_fix(binary, work)
        by_path = {os.path.relpath(os.path.join(work, f["path"]) if not os.path.isabs(f["path"]) else f["path"], work): f
                   for f in report["files"]}
        for f in report["files"]:
            if f["error"] and "internal error" in f["error"]["message"]:
                problems.append(f"{f['path']}: {f['error']['message']}")
        findings = sum(len(f.get("findings") or []) for f in report["files"])
        applied = sum(len(f.get("fixes_applied") or []) for f in report["files"])
        changed = sum(1 for f in report["files"] if f.get("changed"))
        errors = sum(1 for f in report["files"] if f["error"])
        report2, _ = run_fix(binary, work)
        for f in report2["files"]:
            if f.get("changed"):
                problems.append(f"{f['path']}: second fix changed the file again (not idempotent)")
        undetected = []
        for kind, rel in files:
            got = by_path.get(rel)
            if got is None or got.get("kind") != KIND_NAMES[kind]:
                undetected.append(f"{rel} ({kind}: {'not found' if got is None else got.get('kind')})")
            before = read(os.path.join(corpus, rel))
            path_after = os.path.join(work, rel)
            after = read(path_after)
            if kind == "shell":
                stats["shell"] += 1
                if bash_n(before):
                    stats["bash_n_before"] += 1
                    if bash_n(after):
                        stats["bash_n_after"] += 1
                    else:
                        problems.append(f"{rel}: `bash -n` accepted it before the fix, not after")
                if before != after:
                    tmp = os.path.join(work, ".before-" + os.path.basename(rel))
                    with open(tmp, "w", encoding="utf-8", errors="surrogateescape", newline="") as t:
                        t.write(before)
                    eb = shellcheck_errors(tmp, before)
                    ea = shellcheck_errors(path_after, after)
                    os.remove(tmp)
                    if eb is not None and ea is not None:
                        new = [e for e in ea if e not in eb]
                        if new:
                            stats["shellcheck_new_errors"] += len(new)
                            problems.append(f"{rel}: shellcheck reports new errors after the fix: {new[:3]}")
            elif kind in ("github-workflow", "gitlab-ci"):
                schema = "vendor.github-workflows" if kind == "github-workflow" else "vendor.gitlab-ci"
                key = "workflow" if kind == "github-workflow" else "gitlab"
                stats["workflows" if kind == "github-workflow" else "gitlab"] += 1
                if before != after:
                    tmp = os.path.join(work, ".before.yml")
                    with open(tmp, "w", encoding="utf-8", errors="surrogateescape", newline="") as t:
                        t.write(before)
                    vb = schema_valid(schema, tmp)
                    os.remove(tmp)
                    va = schema_valid(schema, path_after)
                else:
                    vb = va = schema_valid(schema, path_after)
                stats[f"{key}_schema_before"] += vb
                stats[f"{key}_schema_after"] += va
                if vb and not va:
                    problems.append(f"{rel}: valid against the {schema} schema before the fix, not after")
                sb, sa = yaml_scripts(kind, before), yaml_scripts(kind, after)
                if sb is not None and sa is not None and len(sb) == len(sa):
                    for b, a in zip(sb, sa):
                        if bash_n(b):
                            stats["ci_scripts_bash_n_before"] += 1
                            if bash_n(a):
                                stats["ci_scripts_bash_n_after"] += 1
                            else:
                                problems.append(f"{rel}: a script `bash -n` accepted before the fix does not parse after it")
                elif sb is not None and sa is None:
                    problems.append(f"{rel}: the YAML loaded before the fix, not after")
            elif kind == "daemon-json":
                stats["daemon_json"] += 1
                try:
                    jb = json.loads(before)
                except ValueError:
                    continue
                try:
                    ja = json.loads(after)
                except ValueError:
                    problems.append(f"{rel}: valid JSON before the fix, not after")
                    continue
                stats["daemon_json_valid_after"] += 1
                if isinstance(jb, dict) and isinstance(ja, dict):
                    lost = set(jb) - set(ja)
                    added = set(ja) - set(jb) - DAEMON_KEYS
                    changed_keys = {k for k in jb if k in ja and jb[k] != ja[k]} - DAEMON_KEYS
                    if lost or added or changed_keys:
                        problems.append(f"{rel}: keys changed beyond the daemon settings: lost {lost}, added {added}, changed {changed_keys}")
            elif kind == "markdown":
                if before == after:
                    stats["markdown_unchanged"] += 1
                else:
                    problems.append(f"{rel}: Markdown was edited")
        print(f"scripts check: {len(files)} files, {findings} findings, {applied} fixes applied in {changed} files, "
              f"{errors} with errors (templates, repeated keys), exit {code}")
        print("scripts check: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
        by_code = {}
        for f in report["files"]:
            for x in f.get("findings") or []:
                code_ = x.get("code") if isinstance(x, dict) else None
                if code_:
                    by_code[code_] = by_code.get(code_, 0) + 1
            for x in f.get("fixes_applied") or []:
                code_ = x.get("code") if isinstance(x, dict) else None
                if code_:
                    by_code[code_ + " fixed"] = by_code.get(code_ + " fixed", 0) + 1
        print("scripts check, by rule: " + ", ".join(f"{k}={v}" for k, v in sorted(by_code.items())))
        if undetected:
            print(f"scripts check: {len(undetected)} files not found by the walk with the kind SOURCES.tsv gives "
                  "(templates with a .j2 name are not walked): " + "; ".join(undetected))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print("PROBLEM:", p)
    print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
