#!/usr/bin/env python3
"""Bench: does the cost of `check` and `fix --diff --unsafe-fixes` grow linearly with the input?

Generates inputs of growing size (Kubernetes files of many small documents, compose files of many
services, Dockerfiles of many instructions), runs the binary on each under /usr/bin/time -v, and
prints wall time and peak RSS with the ratio to the previous size (the size doubles, so a linear
cost shows a ratio near 2; a quadratic one near 4). Not a test: numbers depend on the machine.

    cargo build --release && python3 tests/scripts/scaling.py --bin target/release/dockharden
"""
import argparse
import os
import re
import subprocess
import tempfile


def k8s(n):
    return "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n"
        f"  - name: c\n    image: nginx:1.25\n"
        for i in range(n))


def compose(n):
    out = ["x-logging: &logging\n  driver: json-file\n", "services:\n"]
    for i in range(n):
        out.append(f"  s{i}:\n    image: nginx:1.27\n    logging: *logging\n    ports:\n"
                   f"      - \"{8000 + i % 1000}:80\"\n    volumes:\n      - ./d{i}:/data\n")
    return "".join(out)


def dockerfile(n):
    out = ["FROM debian:12\n"]
    for i in range(n):
        out.append(f"ADD file{i}.txt /opt/file{i}.txt\n")
        out.append(f"RUN apt-get update && apt-get install -y curl{i}\n")
    return "".join(out)


CASES = [
    ("kubernetes documents", k8s, "deploy.yaml", [1000, 2000, 4000, 8000]),
    ("compose services", compose, "compose.yaml", [1000, 2000, 4000, 8000]),
    ("Dockerfile instructions", dockerfile, "Dockerfile", [5000, 10000, 20000, 40000]),
]


def measure(binary, args, cwd):
    p = subprocess.run(["/usr/bin/time", "-v", binary] + args, cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)",
                     p.stderr)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return seconds, rss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    with tempfile.TemporaryDirectory(prefix="dockharden-scaling-") as work:
        for title, gen, name, sizes in CASES:
            print(f"\n{title}")
            print(f"{'n':>7} {'bytes':>9}  {'check s':>8} {'MiB':>7}  {'fix s':>8} {'MiB':>7}  ratio fix s")
            prev = None
            for n in sizes:
                path = os.path.join(work, name)
                text = gen(n)
                with open(path, "w") as f:
                    f.write(text)
                cs, cm = measure(binary, ["check", "--isolated", "--no-progress", name], work)
                fs, fm = measure(binary, ["fix", "--diff", "--unsafe-fixes", "--isolated",
                                          "--no-progress", name], work)
                ratio = f"{fs / prev:.2f}" if prev else "-"
                prev = fs
                print(f"{n:>7} {len(text):>9}  {cs:>8.2f} {cm:>7.1f}  {fs:>8.2f} {fm:>7.1f}  {ratio:>6}")


if __name__ == "__main__":
    main()
