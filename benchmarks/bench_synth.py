"""Benchmark: ``python -m matcher synth`` writes 1,000,000 enterprises (target: < 60 s, < 4 GB peak).

Run with ``.venv/bin/python benchmarks/bench_synth.py [--enterprises N] [--seed S] [--keep DIR]``.
The command runs as a child process, exactly as a planner would run it; the figures are its wall
time (start-up and loading included) and its peak resident memory, read with
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` after it ends. The written ``enterprises.csv`` is
then checked: header, number of rows, first and last id. Exit 0 when every check and both
targets hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from matcher.columns import ENTERPRISES  # noqa: E402

#: Targets of the issue.
TARGET_SECONDS = 60.0
TARGET_PEAK_BYTES = 4 * 1024**3


def run_synth(n: int, seed: int, out: Path) -> tuple[float, int, int]:
    """Run the synth command in a child process.

    Returns
    -------
    (float, int, int)
        Wall seconds, peak RSS of the child in bytes, and the child's exit code.
    """
    command = [
        sys.executable,
        "-m",
        "matcher",
        "synth",
        "--enterprises",
        str(n),
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--force",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    began = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, check=False)
    seconds = time.perf_counter() - began
    # ru_maxrss is the largest RSS among waited-for children, in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024
    return seconds, peak_bytes, done.returncode


def check_output(path: Path, n: int) -> list[str]:
    """Problems with the written enterprises file (empty list when it is right), read as a stream."""
    problems = []
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n")
        if header != ",".join(ENTERPRISES.names):
            problems.append(f"header is {header!r}")
        first = handle.readline()
        last, rows = first, 1 if first else 0
        for line in handle:
            last = line
            rows += 1
    if rows != n:
        problems.append(f"{rows} rows, expected {n}")
    width = max(7, len(str(n)))
    if not first.startswith(f"E{1:0{width}d},"):
        problems.append(f"first id is not E{1:0{width}d}")
    if not last.startswith(f"E{n:0{width}d},"):
        problems.append(f"last id is not E{n:0{width}d}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--enterprises",
        type=int,
        default=1_000_000,
        metavar="N",
        help="enterprises to generate (default: 1,000,000)",
    )
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="seed (default: 1)")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="write the data set here and keep it (default: a temporary folder, removed afterwards)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_synth_") as scratch:
        out = Path(args.keep) if args.keep else Path(scratch) / "dataset"
        seconds, peak_bytes, code = run_synth(args.enterprises, args.seed, out)
        target = out / "enterprises.csv"
        problems = [f"synth exited with {code}"] if code else []
        if not problems:
            problems += check_output(target, args.enterprises)
        size = target.stat().st_size if target.is_file() else 0

    time_ok = seconds < TARGET_SECONDS
    memory_ok = peak_bytes < TARGET_PEAK_BYTES
    print(f"enterprises            {args.enterprises:,}")
    print(f"seed                   {args.seed}")
    print(f"enterprises.csv        {size / 1024**2:,.1f} MiB")
    print(
        f"wall time              {seconds:.2f} s (target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if time_ok else 'MISSED'})"
    )
    print(
        f"peak RSS               {peak_bytes / 1024**2:,.0f} MiB (target < 4 GiB: "
        f"{'met' if memory_ok else 'MISSED'})"
    )
    print(f"rate                   {args.enterprises / seconds:,.0f} enterprises/s")
    print(f"output checks          {'OK' if not problems else '; '.join(problems)}")
    return 0 if time_ok and memory_ok and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
