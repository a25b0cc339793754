#!/usr/bin/env python3
"""Independent checks of `dockharden fix --unsafe-fixes` on the Kubernetes manifests of the shared corpus.

Checkers that no one here wrote must agree with the K8S fixes. The Kubernetes files listed in
SOURCES.tsv are copied to a temporary folder and fixed there with the real binary, twice: with the
default options (`--isolated`), and with every K8S option set (limits, secret name, automount) so
that all twelve fixes are exercised. For each run and each file:

- idempotent: a second `fix --unsafe-fixes` changes nothing;
- no internal error (a fix that did not verify, converge or parse);
- re-parses: PyYAML (an independent YAML parser) loads the fixed file whenever it loaded the
  original, with the same number of documents;
- scope: the semantic difference (PyYAML's view) touches only what the K8S rules may change: in a
  pod spec its `securityContext`, `volumes`, `hostNetwork`/`hostPID`/`hostIPC`,
  `automountServiceAccountToken`; in a container its `securityContext`, `volumeMounts`, `resources`,
  `image`, `env[*].value`/`valueFrom`; the pod template's AppArmor/seccomp annotations;
- schema: every resource that `kubernetes-validate` (the Kubernetes OpenAPI schemas, offline)
  accepted before still validates, in strict mode where the original passed strict mode, against
  the oldest and the newest Kubernetes version the installed package ships.

Then checkov (its CKV_K8S rules) scans the originals and the fixed copies: it must report fewer
failed checks after than before, and no more for any check that one of our rules addresses.
The last line is `N passed, M failed` (one check per file and run, plus the checkov comparisons).
Exit 1 when anything failed.

Needs: PyYAML, kubernetes-validate (`pip install kubernetes-validate`), and for the last part
checkov (`pip install checkov`; `--checkov PATH` or on PATH; skipped with a notice when absent).
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

import yaml

try:
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError
except ImportError:  # pragma: no cover - reported in main
    kubernetes_validate = None

WORKLOADS = {
    "Pod": [],
    "Deployment": ["spec", "template"],
    "StatefulSet": ["spec", "template"],
    "DaemonSet": ["spec", "template"],
    "ReplicaSet": ["spec", "template"],
    "ReplicationController": ["spec", "template"],
    "Job": ["spec", "template"],
    "CronJob": ["spec", "jobTemplate", "spec", "template"],
    "PodTemplate": ["template"],
}
POD_KEYS = {"securityContext", "volumes", "hostNetwork", "hostPID", "hostIPC", "automountServiceAccountToken"}
CONTAINER_KEYS = {"securityContext", "volumeMounts", "resources", "image"}
CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}
ANNOTATION_PREFIXES = (
    "container.apparmor.security.beta.kubernetes.io/",
    "container.seccomp.security.alpha.kubernetes.io/",
    "seccomp.security.alpha.kubernetes.io/pod",
)
# checkov checks that one of our rules addresses (from the suppression mapping).
OUR_CHECKS = {
    "CKV_K8S_10": "K8S009", "CKV_K8S_11": "K8S009", "CKV_K8S_12": "K8S009", "CKV_K8S_13": "K8S009",
    "CKV_K8S_14": "K8S010", "CKV_K8S_16": "K8S002", "CKV_K8S_17": "K8S007", "CKV_K8S_18": "K8S007",
    "CKV_K8S_19": "K8S007", "CKV_K8S_20": "K8S001", "CKV_K8S_22": "K8S005", "CKV_K8S_23": "K8S004",
    "CKV_K8S_27": "K8S008", "CKV_K8S_28": "K8S003", "CKV_K8S_31": "K8S006",
    "CKV_K8S_37": "K8S003", "CKV_K8S_38": "K8S012", "CKV_K8S_40": "K8S004",
}
# Not compared: CKV_K8S_35 ("prefer secrets as files over secrets as environment variables") flags
# `valueFrom.secretKeyRef` in `env`, exactly what K8S011 writes in place of a literal value (which
# CKV_K8S_35 does not see): its count rises by design. CKV_K8S_25 ("minimize added capabilities")
# rises where K8S003 adds back the capabilities an image that starts as root needs after
# `drop: [ALL]`. Both are printed with the other differences.
ALL_OPTIONS = """\
[options]
[options.limits]
memory = "512Mi"
cpus = "0.5"
[options.kubernetes]
secret-name = "app-secrets"
fix-automount = true
"""


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.problems = []

    def check(self, ok, message):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.problems.append(message)


def k8s_files(corpus):
    with open(os.path.join(corpus, "SOURCES.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["kind"] == "k8s":
                yield os.path.join(row["repo"].replace("/", "__"), row["path"])


def load_all(text):
    try:
        return list(yaml.safe_load_all(text))
    except Exception:  # noqa: BLE001 - any parser error means "does not load"
        return None


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k in b:
                diff(a[k], b[k], path + [str(k)], out)
            else:
                out.append(path + [str(k)])
        for k in b:
            if k not in a:
                out.append(path + [str(k)])
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, path + [str(i)], out)
    elif a != b:
        out.append(path)


def pod_templates(resource, prefix, out, depth=0):
    """Key paths (from the document root) of every pod template (the mapping holding metadata + spec)."""
    if not isinstance(resource, dict):
        return
    kind = resource.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(resource.get("items"), list) and depth < 4:
        for i, item in enumerate(resource["items"]):
            pod_templates(item, prefix + ["items", str(i)], out, depth + 1)
        return
    if kind not in WORKLOADS:
        return
    node = resource
    for k in WORKLOADS[kind]:
        node = node.get(k) if isinstance(node, dict) else None
    if isinstance(node, dict) and isinstance(node.get("spec"), dict):
        out.append(prefix + WORKLOADS[kind])


def allowed(path, templates):
    for t in templates:
        n = len(t)
        if path[:n] != t or len(path) <= n + 1:
            continue
        rest = path[n:]
        if rest[0] == "metadata":
            if len(rest) == 3 and rest[1] == "annotations" and rest[2].startswith(ANNOTATION_PREFIXES):
                return True
            continue
        if rest[0] != "spec":
            continue
        rest = rest[1:]
        if rest[0] in POD_KEYS:
            return True
        if rest[0] in CONTAINER_LISTS and len(rest) >= 3:
            if rest[2] in CONTAINER_KEYS:
                return True
            if rest[2] == "env" and len(rest) >= 5 and rest[4] in ("value", "valueFrom"):
                return True
    return False


def resources_of(docs):
    for d in docs:
        if not isinstance(d, dict):
            continue
        if isinstance(d.get("kind"), str) and d["kind"].endswith("List") and isinstance(d.get("items"), list):
            yield from resources_of(d["items"])
        elif "apiVersion" in d and "kind" in d:
            yield d


def validation(docs, version):
    """Per resource: (kind/name, 'strict' | 'loose' | 'invalid' | 'unknown')."""
    out = []
    for i, r in enumerate(resources_of(docs)):
        name = f"{r.get('kind')}/{(r.get('metadata') or {}).get('name', i)}#{i}"
        status = "unknown"
        for strict in (True, False):
            try:
                kubernetes_validate.validate(r, version, strict)
                status = "strict" if strict else "loose"
                break
            except SchemaNotFoundError:
                status = "unknown"
                break
            except kubernetes_validate.ValidationError:
                status = "invalid"
            except Exception:  # noqa: BLE001 - a schema problem: cannot judge
                status = "unknown"
                break
        out.append((name, status))
    return out


RANK = {"strict": 2, "loose": 1, "invalid": 0}


def run_fix(binary, root, config):
    cmd = [binary, "fix", "--unsafe-fixes", "--format", "json"]
    cmd += ["--config", config] if config else ["--isolated"]
    out = subprocess.run(cmd + [root], capture_output=True, text=True)
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        return {"files": [], "stderr": out.stderr}


def checkov_failures(checkov, root):
    out = subprocess.run(
        [checkov, "-d", root, "--framework", "kubernetes", "-o", "json", "--quiet", "--skip-download"],
        capture_output=True, text=True,
    )
    data = json.loads(out.stdout or "[]")
    if isinstance(data, dict):
        data = [data]
    counts = Counter()
    for report in data:
        for f in report.get("results", {}).get("failed_checks", []):
            counts[f["check_id"]] += 1
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the dockharden binary")
    ap.add_argument("--corpus", required=True, help="the shared corpus folder")
    ap.add_argument("--checkov", default=shutil.which("checkov"), help="checkov executable")
    ap.add_argument("--no-checkov", action="store_true")
    args = ap.parse_args()
    if kubernetes_validate is None:
        print("kubernetes-validate is not installed (pip install kubernetes-validate)")
        print("0 passed, 1 failed")
        return 1
    versions = sorted(
        {d.split("-")[0][1:] for d in os.listdir(os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")) if d.startswith("v")},
        key=lambda v: tuple(int(x) for x in v.split(".")),
    )
    versions = [versions[0], versions[-1]]
    binary = os.path.abspath(args.bin)
    corpus = os.path.abspath(args.corpus)
    files = list(k8s_files(corpus))
    tally = Tally()
    base = tempfile.mkdtemp(prefix="dockharden-k8s-")
    try:
        orig = os.path.join(base, "original")
        for rel in files:
            dst = os.path.join(orig, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(corpus, rel), dst)
        config_path = os.path.join(base, "all-options.toml")
        with open(config_path, "w") as f:
            f.write(ALL_OPTIONS)
        before = {}
        for rel in files:
            text = open(os.path.join(orig, rel), encoding="utf-8", errors="surrogateescape").read()
            docs = load_all(text)
            before[rel] = (docs, {v: validation(docs, v) for v in versions} if docs is not None else None)
        fixed_dirs = {}
        for label, config in (("default", None), ("all-options", config_path)):
            work = os.path.join(base, label)
            shutil.copytree(orig, work)
            fixed_dirs[label] = work
            report = run_fix(binary, work, config)
            by_path = {os.path.relpath(f["path"], work) if os.path.isabs(f["path"]) else os.path.relpath(os.path.abspath(f["path"]), work): f for f in report.get("files", [])}
            tally.check(len(by_path) == len(files), f"[{label}] the fix report lists {len(by_path)} of {len(files)} files")
            report2 = run_fix(binary, work, config)
            again = {os.path.relpath(os.path.abspath(f["path"]), work) for f in report2.get("files", []) if f.get("changed")}
            changed = 0
            stats = Counter()
            for rel in files:
                entry = by_path.get(rel, {})
                err = (entry.get("error") or {}).get("message", "")
                tally.check("internal error" not in err, f"[{label}] {rel}: {err}")
                tally.check(rel not in again, f"[{label}] {rel}: a second fix changed it again (not idempotent)")
                b_text = open(os.path.join(orig, rel), encoding="utf-8", errors="surrogateescape").read()
                a_text = open(os.path.join(work, rel), encoding="utf-8", errors="surrogateescape").read()
                if a_text == b_text:
                    continue
                changed += 1
                b_docs, b_valid = before[rel]
                a_docs = load_all(a_text)
                if b_docs is None:
                    continue
                ok = a_docs is not None and len(a_docs) == len(b_docs)
                tally.check(ok, f"[{label}] {rel}: PyYAML loaded the original, not the fixed file (or the document count changed)")
                if not ok:
                    continue
                bad = []
                for i, (x, y) in enumerate(zip(b_docs, a_docs)):
                    paths = []
                    diff(x, y, [], paths)
                    templates = []
                    pod_templates(x, [], templates)
                    bad += [f"doc {i + 1}: " + ".".join(p) for p in paths if not allowed(p, templates)]
                    stats["semantic changes"] += len(paths)
                tally.check(not bad, f"[{label}] {rel}: changes outside the K8S rules' keys: {bad[:5]}")
                for v in versions:
                    a_valid = validation(a_docs, v)
                    regress = [
                        f"{n}: {s} -> {t}"
                        for (n, s), (_, t) in zip(b_valid[v], a_valid)
                        if s in RANK and RANK.get(t, 0) < RANK[s]
                    ]
                    stats[f"resources valid before ({v})"] += sum(s in ("strict", "loose") for _, s in b_valid[v])
                    stats[f"resources valid after ({v})"] += sum(s in ("strict", "loose") for _, s in a_valid)
                    tally.check(not regress and len(a_valid) == len(b_valid[v]),
                                f"[{label}] {rel}: kubernetes-validate {v} accepted it before, not after: {regress[:3]}")
            print(f"k8s check [{label}]: {len(files)} files, {changed} changed, "
                  + ", ".join(f"{k}={v}" for k, v in sorted(stats.items())) + " (changed files)")
        if args.no_checkov or not args.checkov:
            print("k8s check: checkov not available; independent finding counts skipped")
        else:
            counts_before = checkov_failures(args.checkov, orig)
            for label, work in fixed_dirs.items():
                counts_after = checkov_failures(args.checkov, work)
                tb, ta = sum(counts_before.values()), sum(counts_after.values())
                ours_b = sum(c for k, c in counts_before.items() if k in OUR_CHECKS)
                ours_a = sum(c for k, c in counts_after.items() if k in OUR_CHECKS)
                print(f"checkov [{label}]: {tb} failed checks before, {ta} after; "
                      f"checks our rules address: {ours_b} before, {ours_a} after")
                for cid in sorted(set(counts_before) | set(counts_after), key=lambda c: (len(c), c)):
                    b, a = counts_before.get(cid, 0), counts_after.get(cid, 0)
                    if a != b:
                        print(f"  {cid:<12} {OUR_CHECKS.get(cid, ''):<7} {b:>5} -> {a:>5}")
                tally.check(ta < tb, f"[{label}] checkov reports {ta} failed checks after the fix, {tb} before")
                for cid in OUR_CHECKS:
                    b, a = counts_before.get(cid, 0), counts_after.get(cid, 0)
                    tally.check(a <= b, f"[{label}] checkov {cid} ({OUR_CHECKS[cid]}) fails {a} times after, {b} before")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for p in tally.problems:
        print("PROBLEM:", p)
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
