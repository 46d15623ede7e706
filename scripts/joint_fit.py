"""Fit a kind's weights on the documented pairs and the dockings named by region together, out of sample.

    .venv/bin/python scripts/joint_fit.py --kind east_west

Leave-one-item-out over the items of ``data/known_dockings.csv`` and ``data/known_dockings_regional.csv``
together: for each item, weights are fitted (``matcher/learning/fit.py``; a region counts as found when
any of its partners is first) on every other item's pairs and regional rows, with the pull towards the
preset chosen by an inner leave-one-item-out (``crossval.fold_weights``), and rank the held-out item's
queries. Prints, for the pairs and for the regional rows, Hits@10 and MRR with the preset and with the
jointly fitted weights, and the weights fitted on everything. Ranks are over the query's candidate
pairs only (queries whose pair is not a candidate are left out), so they can differ slightly from
``python -m matcher evaluate``, which ranks every possible partner.
"""

from __future__ import annotations

import argparse

import numpy as np

from matcher import DockingEngine, load_dataset
from matcher.docking.kinds import EAST_WEST, KINDS
from matcher.learning import evaluate as ev
from matcher.learning import regional as rg
from matcher.learning.crossval import HeldOut, blocks, build_lists, fold_weights, list_ranks
from matcher.learning.fit import fit_weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=list(KINDS), default=EAST_WEST.name)
    args = parser.parse_args()
    engine = DockingEngine(load_dataset())
    E, pf = engine.entities(args.kind), engine.features(args.kind)
    pairs = ev.read_known(ev.KNOWN_DOCKINGS, args.kind, E.table).pairs
    rows, _ = rg.read_regional(rg.REGIONAL_DOCKINGS, args.kind, E)
    held = HeldOut(E, pf, pairs)
    sets = {"pairs": build_lists(args.kind, E, pf, pairs), "regional": rg.regional_lists(E, pf, rows)}
    lists: dict[str, list] = {}
    for part in sets.values():
        for group, items in part.items():
            lists.setdefault(group, []).extend(items)
    groups = sorted(lists)
    features = list(pf.features)
    prior = np.array([engine.weights(args.kind)[f] for f in features], dtype=np.float64)
    prior /= prior.sum()
    print(f"{args.kind}: {len(groups)} items; fitting {len(groups)} folds (each with an inner leave-one-item-out)",
          flush=True)
    folds = fold_weights(held, lists, groups, prior, features)
    for name, part in sets.items():
        preset, fitted = [], []
        for g in groups:
            mine = blocks(held, part, [g], set(), features)
            if mine:
                preset.append(list_ranks(mine, prior))
                fitted.append(list_ranks(mine, folds[g][0]))
        for label, ranks in (("preset", preset), ("jointly fitted, out of sample", fitted)):
            r = np.concatenate(ranks) if ranks else np.array([])
            print(f"{name:8s} {label:30s} queries {len(r):3d}  hits@10 {np.mean(r <= 10):.3f}  "
                  f"mrr {np.mean(1.0 / r):.3f}")
    everything = fit_weights(blocks(held, lists, groups, set(), features), prior,
                             float(np.median([fold[1] for fold in folds.values()])))
    print("pulls chosen per fold: " + ", ".join(f"{g} {fold[1]:g}" for g, fold in sorted(folds.items())))
    print("weights fitted on everything (median pull): "
          + ", ".join(f"{f} {v:.2f}" for f, v in zip(features, everything, strict=True)))


if __name__ == "__main__":
    main()
