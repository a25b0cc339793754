#!/usr/bin/env python3
"""Benchmark: what `dockharden` costs compared with reading the same files.

In one run, over the shared corpus and over N copies of it (default 10), it times:
  - `cat` of every input file (the floor: reading the files),
  - `dockharden check`,
  - `dockharden fix --check`,
  - `dockharden fix --check --unsafe-fixes`,
and prints the minimum wall time of several runs, the ratio to `cat` of the same files, the CPU time
and the peak memory (max RSS of the child). Not a test: the numbers depend on the machine; run it on
an idle machine.

    cargo build --release && python3 tests/scripts/bench.py --bin target/release/dockharden \
        --corpus ../shared/corpus --runs 5 --copies 10
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import time

# The files dockharden reads in the corpus (the same walk as `check`: everything it lists).


TIME = shutil.which("time") and "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def measure(cmd, cwd):
    """Wall time, CPU time and peak RSS (KiB) of one run of `cmd`.

    The peak comes from GNU time (`/usr/bin/time -f %M`), which forks the command from a small
    process: a child forked or vforked from this Python process would count Python's memory as its
    own peak (the high-water mark survives exec)."""
    out = tempfile.NamedTemporaryFile(prefix="dockharden-bench-rss-", delete=False)
    out.close()
    full = [TIME, "-f", "%M", "-o", out.name, *cmd] if TIME else cmd
    start = time.perf_counter()
    proc = subprocess.Popen(full, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    rss = 0
    if TIME:
        with open(out.name) as fh:
            lines = [l for l in fh.read().split() if l.isdigit()]
            rss = int(lines[-1]) if lines else 0
    os.unlink(out.name)
    return elapsed, usage.ru_utime + usage.ru_stime, rss, os.waitstatus_to_exitcode(status)


def best(cmd, cwd, runs):
    results = [measure(cmd, cwd) for _ in range(runs)]
    wall = min(r[0] for r in results)
    cpu = min(r[1] for r in results)
    rss = max(r[2] for r in results)
    return wall, cpu, rss, results[0][3]


def listed_files(binary, root):
    """The files `check` reads, from its JSON report."""
    import json

    out = subprocess.run(
        [binary, "check", "--isolated", "--exit-zero", "--format", "json", "--no-progress", "."],
        cwd=root, capture_output=True, text=True,
    )
    files = [f["path"] for f in json.loads(out.stdout)["files"]]
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--copies", type=int, default=10)
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    corpus = os.path.abspath(a.corpus)

    work = tempfile.mkdtemp(prefix="dockharden-bench-")
    try:
        one = os.path.join(work, "one")
        shutil.copytree(corpus, one, ignore=shutil.ignore_patterns("SOURCES.tsv"))
        many = os.path.join(work, "many")
        os.makedirs(many)
        for i in range(a.copies):
            shutil.copytree(corpus, os.path.join(many, f"c{i}"), ignore=shutil.ignore_patterns("SOURCES.tsv"))
        print(f"{'input':<14} {'command':<40} {'files':>6} {'wall s':>8} {'x cat':>6} {'cpu s':>8} {'peak MiB':>9}")
        peaks = {}
        for label, root in (("corpus", one), (f"{a.copies} copies", many)):
            files = listed_files(binary, root)
            size = sum(os.path.getsize(os.path.join(root, f)) for f in files)
            # `cat` of the same files, in as few processes as the argument limit allows.
            listing = os.path.join(work, "files.txt")
            with open(listing, "w") as fh:
                fh.write("\0".join(files))
            cat = ["sh", "-c", f"exec xargs -0 cat < {listing}"]
            cat_wall, cat_cpu, cat_rss, _ = best(cat, root, a.runs)
            print(f"{label:<14} {'cat':<40} {len(files):>6} {cat_wall:>8.3f} {1.0:>6.1f} {cat_cpu:>8.3f} {cat_rss / 1024:>9.1f}"
                  f"   ({size / 1e6:.1f} MB)")
            for name, args in (
                ("check", ["check", "--exit-zero"]),
                ("fix --check", ["fix", "--check"]),
                ("fix --check --unsafe-fixes", ["fix", "--check", "--unsafe-fixes"]),
            ):
                cmd = [binary, *args, "--isolated", "--no-progress", "."]
                wall, cpu, rss, _ = best(cmd, root, a.runs)
                peaks[(label, name)] = rss
                print(f"{label:<14} {name:<40} {len(files):>6} {wall:>8.3f} {wall / cat_wall:>6.1f} {cpu:>8.3f} {rss / 1024:>9.1f}")
        for name in ("check", "fix --check --unsafe-fixes"):
            r = peaks[(f"{a.copies} copies", name)] / peaks[("corpus", name)]
            print(f"peak memory of `{name}`: {a.copies} copies / 1 copy = {r:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
