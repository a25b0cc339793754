#!/usr/bin/env python3
"""Fuzz the Kubernetes fixes: small mutations of the corpus manifests (and security contexts written
in every YAML style), fixed with `--unsafe-fixes`; any "internal error" (a fix that produces text
that does not parse or does not verify) is reported with the input that caused it.

Not a test (it runs thousands of processes); a tool to find regression cases for golden/.

    cargo build --release && python3 tests/scripts/fuzz_k8s.py --bin target/release/dockharden \
        --corpus ../shared/corpus --select K8S004 --seed 1 --per-file 20 --out /tmp/k8s-fuzz
"""
import argparse
import os
import random
import subprocess
import sys

# Security contexts as a pod or a container may carry them, in every style the rules must edit.
CONTEXTS = [
    "securityContext: {}",
    "securityContext: { }",
    "securityContext: {runAsUser: 0}",
    "securityContext: {runAsNonRoot: false, runAsUser: 0}",
    "securityContext: {runAsUser: 0, }",
    "securityContext:\n{i}  runAsUser: 0",
    "securityContext:\n{i}  runAsUser: 0 # root",
    "securityContext:\n{i}  runAsNonRoot: false\n{i}  # trailing comment",
    "securityContext:\n{i}  runAsUser: !!int 0",
    "securityContext:\n{i}  runAsUser: \"0\"",
    "securityContext:\n{i}  runAsUser:\n{i}    0",
    "securityContext: # none yet",
    "securityContext: null",
    "securityContext: ~",
    "securityContext:",
    "securityContext: &sc\n{i}  runAsUser: 0",
    "securityContext:\n{i}  capabilities:\n{i}    drop: [ALL]",
    "securityContext:\n{i}  seccompProfile: {type: RuntimeDefault}",
    "securityContext:\n{i}    runAsUser: 0\n{i}    runAsGroup: 0",
    "securityContext:\n{i}\trunAsUser: 0",
    "securityContext: {runAsUser: 0,\n{i}  runAsGroup: 0}",
    "securityContext: {\n{i}  runAsUser: 0\n{i}}",
    "securityContext:\n{i}  runAsUser: 0\n\n{i}# after a blank line",
    "securityContext: |\n{i}  text",
]


def indent_of(line):
    return line[: len(line) - len(line.lstrip(" "))]


def inject(text, rng):
    """Write a security context after a `containers:` item's `- name:` or a pod `spec:` key."""
    lines = text.split("\n")
    spots = []
    for n, line in enumerate(lines):
        s = line.strip()
        if s.startswith("- name:") or s == "spec:" or s.startswith("- image:"):
            spots.append(n)
    if not spots:
        return None
    n = rng.choice(spots)
    line = lines[n]
    ind = indent_of(line)
    if line.strip().startswith("- "):
        ind = ind + "  "
    else:
        ind = ind + "  "
    ctx = rng.choice(CONTEXTS).replace("{i}", ind)
    lines.insert(n + 1, ind + ctx)
    return "\n".join(lines)


def mutate(text, rng):
    lines = text.split("\n")
    if not lines:
        return text
    k = rng.randrange(10)
    n = rng.randrange(len(lines))
    if k == 0:
        del lines[n]
    elif k == 1:
        lines.insert(n, lines[n])
    elif k == 2:
        lines[n] = " " + lines[n]
    elif k == 3:
        lines.insert(n, indent_of(lines[n]) + "# fuzz comment")
    elif k == 4:
        lines[n] = lines[n] + "  # tail"
    elif k == 5:
        return "\r\n".join(lines)
    elif k == 6:
        lines[n] = lines[n] + "   "
    elif k == 7:
        lines.insert(n, "")
    elif k == 8:
        return text.rstrip("\n")
    else:
        return text + "...\n"
    return "\n".join(lines)


def run(binary, select, text):
    p = subprocess.run(
        [binary, "fix", "--unsafe-fixes", "--isolated", "--select", select, "--kind", "kubernetes",
         "--stdin-filename", "fuzz.yaml"],
        input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stderr.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--select", default="K8S004")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-file", type=int, default=20)
    ap.add_argument("--out", default="/tmp/k8s-fuzz")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    files = []
    with open(os.path.join(a.corpus, "SOURCES.tsv")) as f:
        for row in f.read().splitlines()[1:]:
            cols = row.split("\t")
            if cols[0] == "k8s":
                files.append(os.path.join(a.corpus, cols[1].replace("/", "__"), cols[3]))
    found = 0
    runs = 0
    for path in files:
        try:
            base = open(path, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError):
            continue
        if "{{" in base:
            continue
        for _ in range(a.per_file):
            text = inject(base, rng) or base
            for _ in range(rng.randrange(3)):
                text = mutate(text, rng)
            runs += 1
            code, err = run(a.bin, a.select, text)
            if "internal error" in err:
                found += 1
                name = os.path.join(a.out, f"case{found:03d}.yaml")
                with open(name, "w", encoding="utf-8", newline="") as out:
                    out.write(text)
                first = next((l for l in err.splitlines() if "internal error" in l), "")
                print(f"{name}: {first}", flush=True)
    print(f"{runs} runs, {found} internal errors", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
