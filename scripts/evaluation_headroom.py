"""Upper bound of what weights alone can do on the documented dockings (in-sample, overfitted).

    .venv/bin/python scripts/evaluation_headroom.py --kind east_west [--tries 5000] [--seed 1]

Tries random weight vectors (Dirichlet, seeded) on every documented pair at once, each pair's docking
experience computed without its own item, and prints the best Hits@10 and MRR over all queries with
the weights that gave them. These weights are fitted on the test itself: the figure is a ceiling for
the kind's features, never a result (``python -m matcher evaluate`` gives the cross-validated ones).
Queries whose pair is not a candidate count as misses.
"""

from __future__ import annotations

import argparse

import numpy as np

from matcher import DockingEngine, load_dataset
from matcher.docking.kinds import EAST_WEST, KINDS
from matcher.learning import evaluate as ev
from matcher.learning.crossval import HeldOut, blocks, build_lists, group_of, list_ranks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=list(KINDS), default=EAST_WEST.name)
    parser.add_argument("--tries", type=int, default=5000, help="random weight vectors (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the weight vectors (default 1)")
    args = parser.parse_args()
    engine = DockingEngine(load_dataset())
    E, pf = engine.entities(args.kind), engine.features(args.kind)
    pairs = ev.read_known(ev.KNOWN_DOCKINGS, args.kind, E.table).pairs
    held, lists = HeldOut(E, pf, pairs), build_lists(args.kind, E, pf, pairs)
    features = list(pf.features)
    candidates = [x for g in sorted(set(group_of(pairs))) for x in blocks(held, lists, [g], set(), features)]
    queries = 2 * len(pairs)
    rng = np.random.default_rng(args.seed)
    best = (-1.0, -1.0, None)
    for _ in range(args.tries):
        w = rng.dirichlet(np.full(len(features), 0.3))
        ranks = list_ranks(candidates, w)
        hits, rr = int((ranks <= 10).sum()), float((1.0 / ranks).sum())
        if (hits, rr) > (best[0], best[1]):
            best = (hits, rr, w)
    print(f"{args.kind}: {queries} queries, {len(candidates)} with the pair among the candidates")
    print(f"in-sample ceiling: hits@10 {best[0] / queries:.3f}, mrr {best[1] / queries:.3f} with weights "
          + ", ".join(f"{f} {v:.2f}" for f, v in zip(features, best[2], strict=True)))


if __name__ == "__main__":
    main()
