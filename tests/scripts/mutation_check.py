#!/usr/bin/env python3
"""Seeded mutation run of `dockharden fix --unsafe-fixes` over Dockerfiles, with BuildKit's own parser
(PyPI `dockerfile`) as the oracle for what a Dockerfile means.

Inputs: every Dockerfile of the shared corpus (SOURCES.tsv, BuildKit's parser test files included),
mutated with a seeded random generator (continuations left dangling at the end of a line or of the
file, missing final newlines, escape directives, comments and blank lines inside continuations,
heredocs, CRLF, BOMs, deleted / duplicated / swapped lines, inserted instructions and characters).
All mutants are written to one temporary tree and fixed by ONE `dockharden fix` process (the way
users run it), then fixed a second time.

For every mutant that BuildKit parses, when the fix changed it:
- BuildKit parses the fixed file, with the same number of stages and the same escape directive;
- every instruction of the input that the fix did not edit (none of its lines changed, nothing
  inserted between its lines; found by a line diff of input and output) is still there, in order,
  and BuildKit reads it exactly as before (keyword, flags, arguments, JSON form, heredocs, original
  text): an instruction appended after a line that ends in the escape character would be joined to
  that line by BuildKit, and this check fails;
- the instructions the fix edited, removed or wrote are of the kinds the rules edit (removed: ARG;
  written: USER, HEALTHCHECK, RUN, ADD, COPY, FROM);
and for every mutant: no internal error, and fixing again changes nothing.
Exit 1 on any violation.
"""
import argparse
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

import dockerfile

# What the fixes may edit or remove, and what they may write ("only inserted USER / HEALTHCHECK /
# changed RUN-ADD-COPY-FROM lines may differ"; DF005 also removes the ARG it moves to a secret
# mount, DF003 pins an image through an ARG default, DF007/DF008 remove an admin or Docker daemon
# port from an EXPOSE, DF002 replaces a trailing `USER root`). An ONBUILD counts as the
# instruction it wraps. Any other instruction may only be edited in a way BuildKit reads the same
# (the dangling escape character removed from a last line, a final newline added).
EDITED = {"RUN", "ADD", "COPY", "FROM", "ARG", "EXPOSE", "USER"}
WRITTEN = EDITED | {"USER", "HEALTHCHECK"}

CONFIG = """\
[options.healthcheck]
path = "/healthz"

[options.pins]
alpine = "3.20"
ubuntu = "24.04"
debian = "bookworm-slim"
node = "20-alpine"
python = "3.12-slim"
golang = "1.22"
nginx = "1.27"
busybox = "1.36"
"""

FRAGMENTS = [
    "", "# a comment", "  # indented comment", " ", "\t",
    "USER root", "USER 1000", "USER app:app", "HEALTHCHECK NONE", "HEALTHCHECK CMD true",
    "ADD app /app", "ADD --chown=1:1 a b /c/", "ADD https://example.com/x.tgz /x",
    "COPY --from=build /a /b", "ARG TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "ARG VERSION=1.0", "ENV API_KEY=sk_live_abcdefghijklmnop", "ENV A=b C=d",
    "RUN apt-get update && apt-get install -y curl", "RUN apk add curl", "RUN echo $TOKEN",
    "RUN curl -fsSL https://example.com/i.sh | sh", "RUN [\"echo\", \"hi\"]",
    "FROM alpine", "FROM ubuntu AS build", "FROM scratch", "FROM node:20 AS app",
    "EXPOSE 22", "EXPOSE 80/tcp", "ENV DOCKER_HOST=tcp://docker:2375", "WORKDIR /app",
    "CMD [\"run\"]", "ENTRYPOINT [\"/bin/sh\", \"-c\"]", "ONBUILD ADD . /src", "ONBUILD RUN make",
    "SHELL [\"/bin/bash\", \"-c\"]", "VOLUME /data", "LABEL a=b", "STOPSIGNAL SIGTERM",
    "RUN <<EOF", "RUN <<-EOT", "COPY <<EOF /etc/x", "EOF", "\tEOT", "echo in a heredoc",
    "# escape=`", "# escape=\\", "# syntax=docker/dockerfile:1", "# check=skip=all",
    "&& echo continued", "    --no-install-recommends \\", "RUN set -e; \\",
]
CHARS = ["\\", "`", "\"", "'", "#", " ", "\t", "<<", "$", "{", "}", "[", "]", "=", "--", "\\\\", "\r"]


def load_dockerfiles(corpus):
    """(relative path, text) of every Dockerfile in SOURCES.tsv that is UTF-8."""
    out = []
    with open(os.path.join(corpus, "SOURCES.tsv"), encoding="utf-8") as f:
        for line in f.read().splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) < 4 or cols[0] != "dockerfile":
                continue
            rel = os.path.join(cols[1].replace("/", "__"), cols[3])
            try:
                with open(os.path.join(corpus, rel), encoding="utf-8", newline="") as g:
                    out.append((rel, g.read()))
            except (OSError, UnicodeDecodeError):
                continue
    return out


def split_lines(text):
    """Lines as BuildKit reads them: split after `\\n` only (a lone `\\r` is not a line break)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


DIRECTIVE = re.compile(r"#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")


def escape_char(text):
    """The escape character that BuildKit's parser directives (the comment lines at the very top)
    set: `\\` unless `# escape=` says otherwise."""
    for line in split_lines(text.lstrip("\ufeff")):
        m = DIRECTIVE.match(line.rstrip("\r\n"))
        if not m:
            break
        if m.group(1).lower() == "escape":
            return m.group(2) if m.group(2) in ("\\", "`") else "\\"
    return "\\"


def mutate(rng, text):
    """One to three random mutations of `text`."""
    for _ in range(rng.randint(1, 3)):
        lines = split_lines(text)
        esc = escape_char(text)
        op = rng.randrange(16)
        i = rng.randrange(len(lines)) if lines else 0
        if op in (0, 1):  # a dangling continuation at the end of a line / of the file
            j = len(lines) - 1 if (op == 1 or not lines) else i
            if lines:
                body = lines[j].rstrip("\r\n")
                end = lines[j][len(body):]
                lines[j] = body + " " + esc + rng.choice(["", " ", "  ", "\t"]) + (end if rng.random() < 0.7 else "")
            else:
                lines = [esc]
        elif op == 2:  # no final newline
            if lines:
                lines[-1] = lines[-1].rstrip("\r\n")
        elif op == 3 and lines:
            del lines[i]
        elif op == 4 and lines:
            lines.insert(i, lines[i])
        elif op == 5 and len(lines) > 1:
            j = min(i + 1, len(lines) - 1)
            lines[i], lines[j] = lines[j], lines[i]
        elif op in (6, 7, 8):  # an inserted line
            frag = rng.choice(FRAGMENTS).replace("\\", esc) if op == 8 else rng.choice(FRAGMENTS)
            lines.insert(rng.randint(0, len(lines)), frag + "\n")
        elif op == 9:  # a comment or blank line inside a continuation
            conts = [k for k, l in enumerate(lines) if l.rstrip(" \t\r\n").endswith(esc)]
            k = rng.choice(conts) if conts else i
            lines.insert(k + 1, rng.choice(["# inside\n", "\n", "   \n", "  # x \\\n"]))
        elif op == 10 and lines:  # a character somewhere in a line
            body = lines[i].rstrip("\r\n")
            p = rng.randint(0, len(body))
            lines[i] = body[:p] + rng.choice(CHARS) + body[p:] + lines[i][len(body):]
        elif op == 11:  # truncated
            t = "".join(lines)
            lines = [t[: rng.randint(0, len(t))]]
        elif op == 12:  # CRLF
            if rng.random() < 0.5:
                lines = [l[:-1] + "\r\n" if l.endswith("\n") and not l.endswith("\r\n") else l for l in lines]
            elif lines and lines[i].endswith("\n") and not lines[i].endswith("\r\n"):
                lines[i] = lines[i][:-1] + "\r\n"
        elif op == 13:  # an escape or syntax directive at the top
            lines.insert(0, rng.choice(["# escape=`\n", "# escape=\\\n", "# syntax=docker/dockerfile:1\n", "#escape = `\n"]))
        elif op == 14:  # a BOM, or leading blank lines before the directives
            lines.insert(0, rng.choice(["\ufeff", "\n", "# comment\n"]))
        else:  # a heredoc, terminated or not
            name = rng.choice(["EOF", "EOT", "'EOF'", "\"E\""])
            bare = name.strip("'\"")
            body = ["RUN <<" + name + "\n", "echo hi\n"] + ([bare + "\n"] if rng.random() < 0.7 else [])
            at = rng.randint(0, len(lines))
            lines[at:at] = body
        text = "".join(lines)
    return text


def bk_parse(text):
    try:
        return dockerfile.parse_string(text)
    except Exception:  # noqa: BLE001 - any parser error means "does not parse"
        return None


def kw(c):
    return (c.cmd or "").upper()


def kind(c):
    """The keyword, or for an ONBUILD the keyword it wraps."""
    if kw(c) == "ONBUILD":
        return (c.sub_cmd or "").upper()
    return kw(c)


def meaning(c):
    return (kw(c), c.sub_cmd, c.json, c.original, tuple(c.flags), tuple(c.value), tuple(c.heredocs))


def touched(before_text, after_text):
    """From a line diff: the 1-based lines of the input that changed, the 0-based points where lines
    were inserted (before input line p+1), and the 1-based lines of the output that were written."""
    a, b = split_lines(before_text), split_lines(after_text)
    changed, inserted, written = set(), set(), set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag in ("replace", "delete"):
            changed.update(range(i1 + 1, i2 + 1))
        if tag == "insert":
            inserted.add(i1)
        if tag in ("replace", "insert"):
            written.update(range(j1 + 1, j2 + 1))
        if tag == "delete":
            # Text removed between output lines j1 and j1+1: an output instruction spanning that
            # point is not "untouched".
            written.add(j1 + 0.5)
    return changed, inserted, written


def check_one(before_text, after_text, b, a):
    """Problems of one changed mutant (b, a: BuildKit's parses of input and output)."""
    if a is None:
        return ["BuildKit parsed the input but not the fixed file"]
    problems = []
    if sum(kw(c) == "FROM" for c in a) != sum(kw(c) == "FROM" for c in b):
        problems.append("the number of stages changed")
    if escape_char(before_text) != escape_char(after_text):
        problems.append("the escape directive changed")
    changed, inserted, written = touched(before_text, after_text)

    def edited(c):
        return any(c.start_line <= l <= c.end_line for l in changed) or any(
            c.start_line <= p < c.end_line for p in inserted)

    def new(c):
        return any(c.start_line <= l <= c.end_line for l in written)

    kept_before = [c for c in b if not edited(c)]
    kept_after = [c for c in a if not new(c)]
    if [meaning(c) for c in kept_before] != [meaning(c) for c in kept_after]:
        mb = [meaning(c) for c in kept_before]
        ma = [meaning(c) for c in kept_after]
        k = next((k for k in range(min(len(mb), len(ma))) if mb[k] != ma[k]), min(len(mb), len(ma)))
        was = kept_before[k].original if k < len(kept_before) else "(nothing)"
        now = kept_after[k].original if k < len(kept_after) else "(nothing)"
        problems.append(f"an instruction the fix did not edit changed: BuildKit read {was!r}, now reads {now!r}")
    # Other kinds: only edits that BuildKit reads the same way.
    others_before = [meaning(c)[:3] + meaning(c)[4:] for c in b if edited(c) and kind(c) not in EDITED]
    others_after = [meaning(c)[:3] + meaning(c)[4:] for c in a if new(c) and kind(c) not in WRITTEN]
    if others_before != others_after:
        for c in b:
            if edited(c) and kind(c) not in EDITED:
                problems.append(f"the fix edited or removed a {kw(c)} instruction (line {c.start_line}): {c.original!r}")
        for c in a:
            if new(c) and kind(c) not in WRITTEN:
                problems.append(f"the fix wrote a {kw(c)} instruction (line {c.start_line}): {c.original!r}")
    return problems


def run_fix(binary, config, root):
    out = subprocess.run([binary, "fix", "--unsafe-fixes", "--no-progress", "--config", config, "--format", "json", root],
                         capture_output=True, text=True)
    return json.loads(out.stdout), out.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--save", help="copy the failing inputs and outputs into this folder")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    started = time.monotonic()
    bases = load_dockerfiles(os.path.abspath(args.corpus))
    if not bases:
        print("no Dockerfiles in the corpus")
        return 1
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="dockharden-mutants-")
    problems = []
    stats = {"inputs": args.count, "buildkit_parses_input": 0, "we_refuse_buildkit_parses": 0,
             "changed": 0, "changed_buildkit_parses": 0, "changed_buildkit_rejects_input": 0,
             "instructions_compared": 0}
    try:
        inputs = []
        for n in range(args.count):
            rel, base = bases[rng.randrange(len(bases))]
            text = mutate(rng, base)
            inputs.append((rel, text))
            d = os.path.join(work, "m", f"{n:05d}")
            os.makedirs(d)
            with open(os.path.join(d, "Dockerfile"), "w", encoding="utf-8", newline="") as f:
                f.write(text)
        config = os.path.join(work, "dockharden.toml")
        with open(config, "w") as f:
            f.write(CONFIG)
        t0 = time.monotonic()
        report, code = run_fix(binary, config, os.path.join(work, "m"))
        fix_seconds = time.monotonic() - t0
        results = {os.path.basename(os.path.dirname(f["path"])): f for f in report["files"]}
        if len(results) != args.count:
            problems.append(f"the report lists {len(results)} files, not {args.count}")
        outputs = []
        for n in range(args.count):
            with open(os.path.join(work, "m", f"{n:05d}", "Dockerfile"), encoding="utf-8", newline="") as f:
                outputs.append(f.read())
        t0 = time.monotonic()
        report2, _ = run_fix(binary, config, os.path.join(work, "m"))
        again = {os.path.basename(os.path.dirname(f["path"])) for f in report2["files"] if f.get("changed")}
        t1 = time.monotonic()
        failed = []
        refused = []
        for n, ((rel, before), after) in enumerate(zip(inputs, outputs)):
            key = f"{n:05d}"
            r = results.get(key, {})
            mine = []
            err = (r.get("error") or {}).get("message", "")
            if "internal error" in err:
                mine.append(err)
            if key in again:
                mine.append("fixing again changed the file (not idempotent)")
            b = bk_parse(before)
            if b is not None:
                stats["buildkit_parses_input"] += 1
                if err and "internal error" not in err:
                    stats["we_refuse_buildkit_parses"] += 1
                    refused.append((n, err))
            if after != before:
                stats["changed"] += 1
                if b is None:
                    stats["changed_buildkit_rejects_input"] += 1
                else:
                    a = bk_parse(after)
                    stats["changed_buildkit_parses"] += a is not None
                    stats["instructions_compared"] += len(b)
                    mine += check_one(before, after, b, a)
            if mine:
                failed.append(n)
                for p in mine:
                    problems.append(f"mutant {key} (from {rel}): {p}")
        oracle_seconds = time.monotonic() - t1
        for n, err in refused[:5]:
            print(f"note: mutant {n:05d} (from {inputs[n][0]}): BuildKit parses it, dockharden does not: {err}")
        if args.save and (failed or refused):
            os.makedirs(args.save, exist_ok=True)
            for n in failed + [n for n, _ in refused]:
                for suffix, text in (("in", inputs[n][1]), ("out", outputs[n])):
                    with open(os.path.join(args.save, f"{n:05d}.{suffix}.Dockerfile"), "w", encoding="utf-8", newline="") as f:
                        f.write(text)
        print(f"mutation check: seed {args.seed}, {args.count} Dockerfile mutants of {len(bases)} corpus files; "
              f"fix exit {code}, {fix_seconds:.1f} s for the fix over all of them, {t1 - t0:.1f} s for the second fix, "
              f"{oracle_seconds:.1f} s for the BuildKit comparison, {time.monotonic() - started:.1f} s in all")
        print("mutation check: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for p in problems[:50]:
        print("PROBLEM:", p)
    if len(problems) > 50:
        print(f"... and {len(problems) - 50} more")
    print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
