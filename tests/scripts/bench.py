#!/usr/bin/env python3
"""Benchmark: `dockharden check` over the shared corpus, and a bulk `fix --check` over N copies of it.

Prints wall time (min / median of several runs), files per second and peak memory (max RSS of the
child process). Not a test: numbers depend on the machine; run it on an idle machine.

    cargo build --release && python3 tests/scripts/bench.py --bin target/release/dockharden \
        --corpus ../shared/corpus --runs 10 --copies 20
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time


def timed(cmd, cwd=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, after.ru_maxrss, proc, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--copies", type=int, default=20)
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    corpus = os.path.abspath(a.corpus)

    times = []
    files = 0
    for i in range(a.runs + 1):
        t, _, proc, _ = timed([binary, "check", "--isolated", "--format", "json", "--no-progress", corpus])
        if i == 0:  # warm-up (page cache)
            files = len(json.loads(proc.stdout)["files"])
            continue
        times.append(t)
    print(f"check, shared corpus: {files} files; min {min(times)*1000:.0f} ms, median {statistics.median(times)*1000:.0f} ms "
          f"over {a.runs} runs; {files/statistics.median(times):,.0f} files/s")

    work = tempfile.mkdtemp(prefix="dockharden-bench-")
    try:
        for i in range(a.copies):
            shutil.copytree(corpus, os.path.join(work, f"repo{i:02d}"), ignore=shutil.ignore_patterns("_schemas", "_snippets"))
        summary = os.path.join(work, "summary.json")
        t, rss, proc, cpu = timed([binary, "fix", "--check", "--unsafe-fixes", "--isolated", "--no-progress",
                                    "--summary-json", summary, work])
        s = json.load(open(summary))
        print(f"bulk fix --check, {a.copies} copies: {s['files_scanned']} files in {t:.2f} s "
              f"({s['files_scanned']/t:,.0f} files/s, cpu {cpu:.2f} s), {s['files_changed']} would change, "
              f"{s['fixes_applied']} fixes; peak RSS {rss/1024:.1f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
