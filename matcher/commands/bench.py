"""``python -m matcher bench``: run the benchmarks and print their figures."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="run the benchmarks (speed and memory figures) and print their results",
        description="Runs each script in benchmarks/ in its own process and prints its figures. "
        "Long benchmarks (scale to 1M enterprises) take minutes; pick some with --only.",
    )
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only this benchmark (repeat for several); one of: " + ", ".join(available()))
    p.add_argument("args", nargs=argparse.REMAINDER,
                   help="extra arguments passed to each benchmark script (after --, or any unknown option)")
    p.set_defaults(func=run, pass_through=True)


def run(args: argparse.Namespace) -> int:
    from matcher.exceptions import MatcherError

    extra = [a for a in args.args if a != "--"]
    names = args.only or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        raise MatcherError(f"unknown benchmark {unknown}; available: {', '.join(available())}")
    failed = []
    for name in names:
        print(f"== {name}", flush=True)
        code = subprocess.call([sys.executable, str(BENCH_DIR / f"bench_{name}.py"), *extra])
        if code:
            failed.append(name)
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
