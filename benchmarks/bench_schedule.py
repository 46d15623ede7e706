"""Benchmark: schedule 3,000 requested meetings among 500 participants (target: under 2 s).

Run with ``.venv/bin/python benchmarks/bench_schedule.py`` (``--help`` for the options). Prints the
wall time of selection-free scheduling, the slots used against König's lower bound, idle slots and
whether the schedule passed ``check_validity()``. A seeded generator makes every run identical.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.meetings.schedule import schedule  # noqa: E402
from matcher.meetings.timetable import Schedule  # noqa: E402


def synthetic_requests(n_participants: int = 500, n_meetings: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Distinct random pairs between two equal sides (clusters C…, markets M…), seeded.

    Loads are uneven on purpose (a few popular participants), as at a real docking meeting.
    """
    rng = np.random.default_rng(seed)
    n_left = n_participants // 2
    n_right = n_participants - n_left
    if n_meetings > n_left * n_right:
        raise ValueError("more meetings than distinct pairs")
    # Zipf-like popularity, so the largest load is well above the average.
    weight_l = 1.0 / np.arange(1, n_left + 1) ** 0.5
    weight_r = 1.0 / np.arange(1, n_right + 1) ** 0.5
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < n_meetings:
        need = n_meetings - len(pairs)
        ls = rng.choice(n_left, size=need * 2, p=weight_l / weight_l.sum())
        rs = rng.choice(n_right, size=need * 2, p=weight_r / weight_r.sum())
        for a, b in zip(ls, rs, strict=False):
            if len(pairs) == n_meetings:
                break
            pairs.add((int(a), int(b)))
    ordered = sorted(pairs)
    return pd.DataFrame(
        {
            "left_id": [f"C{a:04d}" for a, _ in ordered],
            "right_id": [f"M{b:04d}" for _, b in ordered],
            "left_name_zh": [f"集群{a}" for a, _ in ordered],
            "right_name_zh": [f"市场{b}" for _, b in ordered],
            "score": rng.random(len(ordered)).round(4),
        }
    )


def run(
    n_participants: int = 500,
    n_meetings: int = 3000,
    n_slots: int | None = None,
    n_tables: int | None = None,
    seed: int = 0,
) -> tuple[Schedule, float]:
    """Schedule the synthetic requests; return the schedule and the seconds it took."""
    requests = synthetic_requests(n_participants, n_meetings, seed)
    loads = pd.concat([requests["left_id"], requests["right_id"]]).value_counts()
    max_load = int(loads.max())
    # Default room: enough tables that König's bound is reachable, a few spare slots.
    tables = n_tables or -(-n_meetings // max_load)
    slots = n_slots or max_load + 5
    began = time.perf_counter()
    plan = schedule(requests, n_slots=slots, n_tables=tables)
    return plan, time.perf_counter() - began


def docking_day(n_east: int = 60, n_inland: int = 60, per_east: int = 8, n_slots: int = 16, seed: int = 1
                ) -> tuple[Schedule, float]:
    """A docking day as planners run it: each eastern cluster meets ``per_east`` inland ones."""
    rng = np.random.default_rng(seed)
    rows = [{"left_id": f"E{a:02d}", "right_id": f"W{b:02d}", "score": float(rng.random())}
            for a in range(n_east) for b in rng.choice(n_inland, size=per_east, replace=False)]
    began = time.perf_counter()
    plan = schedule(pd.DataFrame(rows), n_slots=n_slots, n_tables=40)
    return plan, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--meetings", type=int, default=3000)
    parser.add_argument("--slots", type=int, default=None, help="default: largest load + 5")
    parser.add_argument("--tables", type=int, default=None, help="default: meetings / largest load")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    plan, seconds = run(args.participants, args.meetings, args.slots, args.tables, args.seed)
    valid = plan.check_validity()
    print(f"participants           {args.participants}")
    print(f"requested meetings     {args.meetings}")
    print(f"slots x tables         {plan.n_slots} x {plan.n_tables}")
    print(f"scheduled / missing    {len(plan.meetings)} / {len(plan.unscheduled)}")
    print(f"largest load (Δ)       {plan.max_load}")
    print(f"lower bound            {plan.lower_bound}")
    print(f"slots used             {plan.slots_used}")
    print(
        f"idle slots total       {plan.idle_slots_total} "
        f"(mean {plan.idle_slots_total / max(1, len(plan.idle_slots)):.2f} per participant)"
    )
    print(f"valid                  {valid}")
    print(f"time                   {seconds:.3f} s (target < 2 s: {'met' if seconds < 2 else 'MISSED'})")
    day, day_seconds = docking_day()
    idle = day.participants()["idle_slots"]
    print("docking day: 60 eastern x 60 inland clusters, 8 meetings each, 16 slots x 40 tables")
    print(f"  scheduled {len(day.meetings)} / {len(day.meetings) + len(day.unscheduled)} in {day.slots_used} slots "
          f"(bound {day.lower_bound}); idle slots per participant: mean {idle.mean():.2f}, max {idle.max()}, "
          f"none for {(idle == 0).mean():.0%}; {day_seconds:.3f} s; valid {day.check_validity()}")
    return 0 if seconds < 2 and valid else 1


if __name__ == "__main__":
    raise SystemExit(main())
