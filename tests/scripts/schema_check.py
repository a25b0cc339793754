#!/usr/bin/env python3
"""The JSON schemas in schemas/ against what the tool really prints and reads.

- schemas/report.schema.json: the `--format json` documents of real runs (`check`, `fix --diff`,
  `fix --check --unsafe-fixes`) over golden/examples and the whole golden/ tree, files that cannot be
  processed, and `fix --stdin-filename` (whose report goes to stderr) validate; the runs must show
  every shape the schema describes (fixes with edits, suggestions, findings without a fix, applied
  fixes, errors, a file of unknown kind), so that a run printing little cannot pass by accident.
- schemas/dockharden-config.schema.json: every configuration in the repository validates (the
  every-key fixture, the README's examples, any .dockharden.toml) and loads in the tool; every
  built-in knowledge entry validates as an `[[images]]` entry; configurations the tool refuses
  (unknown keys, wrong types) are refused by the schema too.

Run by tests/schemas.rs (cargo test) with the built binary.
"""

import argparse
import copy
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import tomllib

import jsonschema


def validator(schema, ref=None):
    if ref is not None:
        schema = copy.deepcopy(schema)
        schema = {
            "$schema": schema["$schema"],
            "$ref": ref,
            "definitions": schema["definitions"],
        }
    return jsonschema.Draft7Validator(schema)


def errors(v, doc):
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}" for e in v.iter_errors(doc)]


def run(binary, args, cwd, stdin=None):
    return subprocess.run(
        [binary, *args], cwd=cwd, input=stdin, capture_output=True, timeout=600
    )


def check_reports(binary, root, failures):
    schema = json.loads((root / "schemas/report.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    v = validator(schema)
    seen = {
        "fix with edits": 0,
        "display-only suggestion": 0,
        "finding without a fix": 0,
        "applied fix": 0,
        "remaining finding": 0,
        "error with a line": 0,
        "error without a line": 0,
        "file of unknown kind": 0,
        "clean file": 0,
    }

    def account(doc):
        for f in doc["files"]:
            if not f["findings"] and f["error"] is None:
                seen["clean file"] += 1
            if f["kind"] is None:
                seen["file of unknown kind"] += 1
            if f["error"] is not None:
                seen["error with a line" if f["error"]["line"] else "error without a line"] += 1
            seen["applied fix"] += len(f.get("fixes_applied", []))
            seen["remaining finding"] += len(f.get("remaining", []))
            for x in f["findings"]:
                if x["fix"] is None:
                    seen["finding without a fix"] += 1
                elif x["fix"]["applicability"] == "display-only":
                    seen["display-only suggestion"] += 1
                elif x["fix"]["edits"]:
                    seen["fix with edits"] += 1

    def validate(what, out):
        try:
            doc = json.loads(out)
        except json.JSONDecodeError as e:
            failures.append(f"report {what}: not JSON: {e}")
            return
        errs = errors(v, doc)
        if errs:
            failures.append(f"report {what}: " + "; ".join(errs[:5]))
        account(doc)

    for target in ["golden/examples", "golden"]:
        for mode in (["check"], ["fix", "--diff"], ["fix", "--check", "--unsafe-fixes"]):
            p = run(binary, [*mode, "--isolated", "--format", "json", "--no-progress", target], root)
            if p.returncode not in (0, 1):
                failures.append(f"{' '.join(mode)} {target}: exit {p.returncode}: {p.stderr.decode()[:500]}")
            validate(f"{' '.join(mode)} {target}", p.stdout)

    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        (d / "compose.yaml").write_text("services:\n  web: [unclosed\n")
        (d / "Dockerfile").write_bytes(b"FROM alpine:3.20\nRUN echo \xff\n")
        (d / "notes.txt").write_text("FROM alpine\n")
        (d / "ok").mkdir()
        (d / "ok/Dockerfile").write_text("FROM alpine:3.20@sha256:" + "0" * 64 + "\nUSER 10001:10001\n")
        for mode in (["check"], ["fix", "--diff"]):
            p = run(binary, [*mode, "--isolated", "--format", "json", ".", "notes.txt"], d)
            if p.returncode != 2:
                failures.append(f"{' '.join(mode)} over unprocessable files: exit {p.returncode}, expected 2")
            validate(f"{' '.join(mode)} over unprocessable files", p.stdout)
        p = run(
            binary,
            ["fix", "--isolated", "--format", "json", "--stdin-filename", "Dockerfile"],
            d,
            stdin=b"FROM alpine:3.20\nADD app /app\nUSER 10001:10001\n",
        )
        if b"COPY app /app" not in p.stdout:
            failures.append(f"fix --stdin-filename: the fixed text is not on stdout: {p.stdout[:300]!r}")
        validate("fix --stdin-filename (stderr)", p.stderr)

    # Every rule's code and name fit the schema's patterns (a new prefix must be added there).
    rules = json.loads(run(binary, ["rules", "--format", "json"], root).stdout)
    finding = schema["definitions"]["finding"]["properties"]
    for r in rules:
        for key in ("code", "name"):
            if not re.fullmatch(finding[key]["pattern"], r[key]):
                failures.append(f"report: rule {r['code']}: {key} `{r[key]}` does not fit the schema's pattern")
    for shape, n in seen.items():
        if n == 0:
            failures.append(f"report: no {shape} in any run: the validation would not cover it")
    return seen


def toml_blocks(markdown):
    return re.findall(r"```toml\n(.*?)```", markdown, flags=re.S)


def loads_in_tool(binary, text, workdir):
    cfg = workdir / "config.toml"
    cfg.write_text(text)
    empty = workdir / "empty"
    empty.mkdir(exist_ok=True)
    p = run(binary, ["check", "--config", str(cfg), "--no-progress", str(empty)], workdir)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


# Configurations the tool refuses; the schema must refuse each of them too.
REFUSED = {
    "an unknown top-level key": 'selcet = ["DF"]\n',
    "an unknown option": "[options]\nuids = 1000\n",
    "an unknown limit": '[options.limits]\nmemroy = "512M"\n',
    "an unknown healthcheck key": '[options.healthcheck]\nurl = "/healthz"\n',
    "an unknown override key": '[[overrides]]\npaths = ["a/**"]\nselcet = ["DF"]\n',
    "an unknown image fact": '[[images]]\nnames = ["acme/app"]\ncap-drop = ["ALL"]\n',
    "an image entry without names": '[[images]]\nuser = "1000"\n',
    "a variant without when": '[[images]]\nnames = ["acme/app"]\n[[images.variant]]\nuser = "1000"\n',
    "docker-api = true": '[[images]]\nnames = ["acme/app"]\ndocker-api = true\n',
    "a uid that is not a number": '[options]\nuid = "1000"\n',
    "a CPU limit that is not a string": "[options.limits]\ncpus = 0.5\n",
    "a pin that is not a string": "[options.pins]\npython = 3.12\n",
    "select that is not a list": 'select = "DF"\n',
}


def check_configs(binary, root, failures):
    schema = json.loads((root / "schemas/dockharden-config.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    v = validator(schema)
    configs = {}
    configs["tests/fixtures/every-key.dockharden.toml"] = (root / "tests/fixtures/every-key.dockharden.toml").read_text()
    readme = (root / "README.md").read_text()
    for i, block in enumerate(toml_blocks(readme)):
        configs[f"README.md toml block {i + 1}"] = block.replace("…", "0")
    for p in sorted(root.rglob("*.dockharden.toml")) + sorted(root.rglob(".dockharden.toml")):
        rel = p.relative_to(root)
        if rel.parts[0] in ("target", ".git"):
            continue
        configs[str(rel)] = p.read_text()
    if len([k for k in configs if k.startswith("README")]) < 2:
        failures.append("config: the README's configuration examples were not found")
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        for name, text in configs.items():
            errs = errors(v, tomllib.loads(text))
            if errs:
                failures.append(f"config {name}: " + "; ".join(errs[:5]))
            code, out = loads_in_tool(binary, text, d)
            if code != 0:
                failures.append(f"config {name}: the tool does not load it (exit {code}): {out[:500]}")
        for what, text in REFUSED.items():
            if not errors(v, tomllib.loads(text)):
                failures.append(f"config with {what}: the schema accepts it")
            code, out = loads_in_tool(binary, text, d)
            if code != 2:
                failures.append(f"config with {what}: the tool accepts it (exit {code}), so the schema must not refuse it")

    image = validator(schema, "#/definitions/image")
    entries = 0
    for f in sorted((root / "transforms/knowledge/images").glob("*.toml")):
        for i, entry in enumerate(tomllib.loads(f.read_text()).get("image", [])):
            entries += 1
            errs = errors(image, entry)
            if errs:
                failures.append(f"knowledge {f.name} entry {i + 1} ({entry.get('names')}): " + "; ".join(errs[:3]))
    if entries < 100:
        failures.append(f"knowledge: only {entries} entries found")
    return len(configs), entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parents[2]))
    a = ap.parse_args()
    root = pathlib.Path(a.root)
    binary = str(pathlib.Path(a.bin).resolve())
    failures = []
    seen = check_reports(binary, root, failures)
    configs, entries = check_configs(binary, root, failures)
    for f in failures:
        print("FAIL", f)
    print(
        f"report schema: {sum(seen.values())} items checked ({', '.join(f'{k}: {n}' for k, n in seen.items())}); "
        f"config schema: {configs} configurations, {len(REFUSED)} refused ones, {entries} knowledge entries"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
