#!/usr/bin/env python3
"""Independent checks of `dockharden fix --unsafe-fixes` over a copy of the shared corpus.

Checkers that no one here wrote must agree with the fixes:
- BuildKit's own parser (PyPI `dockerfile`) parses every fixed Dockerfile it parsed before, with the
  same number of stages and no CMD/ENTRYPOINT/WORKDIR/LABEL/VOLUME/SHELL/ONBUILD lost or altered;
- hadolint reports no more DL3002/DL3006/DL3007/DL3020 after than before, and no new DL1000;
- every compose file that validated against the compose-spec JSON schema still validates;
- running the fix a second time changes nothing (idempotence, through the real binary).
Exit 1 on any violation.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import dockerfile
import jsonschema
import yaml

KEPT = {"cmd", "entrypoint", "workdir", "label", "volume", "shell", "onbuild"}
HADOLINT_RULES = {"DL3002", "DL3006", "DL3007", "DL3020"}
# compose-lint rules that our DC rules fix without configuration (pins and limits need a config).
COMPOSE_LINT_COVERED = {"CL-0001", "CL-0002", "CL-0003", "CL-0006", "CL-0007", "CL-0018"}


def load_sources(corpus):
    with open(os.path.join(corpus, "SOURCES.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            yield row["kind"], os.path.join(row["repo"].replace("/", "__"), row["path"])


def bk_parse(text):
    try:
        return dockerfile.parse_string(text)
    except Exception:  # noqa: BLE001 - any parser error means "does not parse"
        return None


def kept_instructions(cmds):
    return [(c.cmd.lower(), c.value, c.flags) for c in cmds if c.cmd.lower() in KEPT]


def hadolint(path):
    try:
        out = subprocess.run(["hadolint", "--no-fail", "-f", "json", path], capture_output=True, text=True, timeout=60)
        return [r["code"] for r in json.loads(out.stdout or "[]")]
    except Exception as e:  # noqa: BLE001
        return ["ERROR:" + str(e)]


def compose_valid(validator, text):
    try:
        data = yaml.safe_load(text)
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(data, dict):
        return None
    return not list(validator.iter_errors(data))


def compose_lint_counts(paths):
    """Per-rule finding counts of compose-lint over `paths` (None when compose-lint is missing)."""
    if not shutil.which("compose-lint"):
        return None
    counts = {}
    for i in range(0, len(paths), 50):
        batch = paths[i:i + 50]
        out = subprocess.run(["compose-lint", "check", "--format", "json", "--no-merge-overrides", "--no-env",
                              "--allow-partial-coverage", *batch], capture_output=True, text=True)
        try:
            findings = json.loads(out.stdout)["findings"]
        except (ValueError, KeyError):
            findings = []
            for p in batch:  # one unreadable file: go file by file
                o = subprocess.run(["compose-lint", "check", "--format", "json", "--no-merge-overrides", "--no-env",
                                    "--allow-partial-coverage", p], capture_output=True, text=True)
                try:
                    findings += json.loads(o.stdout)["findings"]
                except (ValueError, KeyError):
                    pass
        for f in findings:
            counts[f["rule_id"]] = counts.get(f["rule_id"], 0) + 1
    return counts


def run_fix(binary, root):
    out = subprocess.run([binary, "fix", "--unsafe-fixes", "--isolated", "--format", "json", root], capture_output=True, text=True)
    return json.loads(out.stdout), out.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--no-hadolint", action="store_true")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    corpus = os.path.abspath(args.corpus)
    schema = json.load(open(os.path.join(corpus, "_schemas", "compose-spec.json")))
    validator = jsonschema.Draft7Validator(schema)
    files = list(load_sources(corpus))
    problems = []
    work = tempfile.mkdtemp(prefix="dockharden-corpus-")
    try:
        for _, rel in files:
            dst = os.path.join(work, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(corpus, rel), dst)
        report, code = run_fix(binary, work)
        bugs = [f for f in report["files"] if f["error"] and "internal error" in f["error"]["message"]]
        for f in bugs:
            problems.append(f"{f['path']}: {f['error']['message']}")
        changed = sum(1 for f in report["files"] if f.get("changed"))
        errors = sum(1 for f in report["files"] if f["error"])
        report2, _ = run_fix(binary, work)
        again = [f["path"] for f in report2["files"] if f.get("changed")]
        for p in again:
            problems.append(f"{p}: second fix changed the file again (not idempotent)")
        stats = {"dockerfiles": 0, "bk_parsed_before": 0, "bk_parsed_after": 0, "compose_valid_before": 0,
                 "compose_valid_after": 0, "hadolint_before": 0, "hadolint_after": 0}
        for kind, rel in files:
            before = open(os.path.join(corpus, rel), encoding="utf-8", errors="surrogateescape").read()
            after = open(os.path.join(work, rel), encoding="utf-8", errors="surrogateescape").read()
            if kind == "dockerfile":
                stats["dockerfiles"] += 1
                b = bk_parse(before)
                if b is None:
                    continue
                stats["bk_parsed_before"] += 1
                a = bk_parse(after)
                if a is None:
                    problems.append(f"{rel}: BuildKit parsed it before the fix, not after")
                    continue
                stats["bk_parsed_after"] += 1
                if sum(c.cmd.lower() == "from" for c in a) != sum(c.cmd.lower() == "from" for c in b):
                    problems.append(f"{rel}: number of stages changed")
                if kept_instructions(a) != kept_instructions(b):
                    problems.append(f"{rel}: a CMD/ENTRYPOINT/WORKDIR/LABEL/VOLUME/SHELL/ONBUILD instruction was lost or altered")
            elif kind == "compose":
                vb = compose_valid(validator, before)
                if vb:
                    stats["compose_valid_before"] += 1
                    va = compose_valid(validator, after)
                    if va:
                        stats["compose_valid_after"] += 1
                    else:
                        problems.append(f"{rel}: valid against compose-spec.json before the fix, not after")
        compose = [rel for kind, rel in files if kind == "compose"]
        before_cl = compose_lint_counts([os.path.join(corpus, r) for r in compose])
        if before_cl is not None:
            after_cl = compose_lint_counts([os.path.join(work, r) for r in compose])
            rules = sorted(set(before_cl) | set(after_cl))
            print("compose-lint (before -> after): " + ", ".join(f"{r} {before_cl.get(r, 0)}->{after_cl.get(r, 0)}" for r in rules))
            for r in COMPOSE_LINT_COVERED:
                if before_cl.get(r, 0) and after_cl.get(r, 0) >= before_cl.get(r, 0):
                    problems.append(f"compose-lint {r}: not fewer findings after the fix ({before_cl.get(r, 0)} -> {after_cl.get(r, 0)})")
        if not args.no_hadolint and shutil.which("hadolint"):
            orig = tempfile.mkdtemp(prefix="dockharden-orig-")
            for kind, rel in files:
                if kind != "dockerfile":
                    continue
                src = os.path.join(corpus, rel)
                hb = hadolint(src)
                ha = hadolint(os.path.join(work, rel))
                stats["hadolint_before"] += sum(c in HADOLINT_RULES for c in hb)
                stats["hadolint_after"] += sum(c in HADOLINT_RULES for c in ha)
                if ha.count("DL1000") > hb.count("DL1000"):
                    problems.append(f"{rel}: hadolint reports a new parse error (DL1000)")
            shutil.rmtree(orig, ignore_errors=True)
            if stats["hadolint_after"] > stats["hadolint_before"]:
                problems.append("hadolint reports more DL3002/DL3006/DL3007/DL3020 findings after the fix")
        print(f"corpus check: {len(files)} files, {changed} changed, {errors} with errors (templates/unparseable), exit {code}")
        print("corpus check: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print("PROBLEM:", p)
    print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
