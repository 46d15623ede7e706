"""``python -m matcher gaps``: chain position and chain gaps, with partners to fill each gap."""

from __future__ import annotations

import argparse
import sys

from matcher.exceptions import MatcherError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gaps",
        help="show an entity's position in the chain and the stages it lacks, with partners to fill them",
        description="For each cluster (or only --for ID): the stages it works in, its position on the "
        "fibre-to-garment chain, and its chain gaps: input stages its products need that it does not have, "
        "with the best partners (clusters and markets) working in each gap stage.",
    )
    p.add_argument("--data", metavar="DIR", help="dataset folder (default: the bundled data)")
    p.add_argument("--for", dest="for_id", metavar="ID", help="only this entity (e.g. C056 for Xintang)")
    p.add_argument("--partners", type=int, default=5, help="partners listed per gap (default 5)")
    p.add_argument("--threshold", type=float, default=0.2,
                   help="minimum IO supply strength (0..1) for an input stage to count as needed (default 0.2)")
    p.add_argument("--out", metavar="FILE", help="write the table as .csv (UTF-8 with BOM) instead of printing")
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="language of the printed text: stages and names in words (default en)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from matcher.docking.chain import build_chain_graph, chain_gaps, chain_position
    from matcher.docking.engine import DockingEngine
    from matcher.ingest.dataset import load_dataset

    if args.out:
        from matcher.outputs.atomic import csv_output

        csv_output(args.out, "--out")
    if not 1 <= args.partners <= 100:
        raise MatcherError(f"--partners must be from 1 to 100, not {args.partners}")
    if not 0.0 < args.threshold <= 1.0:  # NaN fails too
        raise MatcherError(f"--threshold must be above 0 and at most 1 (an input-output strength), not {args.threshold}")
    if args.for_id is not None:
        args.for_id = args.for_id.strip()
        if not args.for_id:  # an empty id is a mistake, not "every cluster" (leave out --for for that)
            raise MatcherError("--for needs an id, e.g. --for C056; leave out --for for every cluster")
    dataset = load_dataset(args.data)
    G = build_chain_graph(dataset, include_enterprises=bool(args.for_id))
    ids = [args.for_id] if args.for_id else list(dataset.clusters["id"])
    for entity_id in ids:
        if entity_id not in G:
            same = [str(n) for n in G.nodes if str(n).casefold() == entity_id.casefold()]
            hint = f"; did you mean {same[0]}?" if same else ""
            raise MatcherError(f"no cluster, market or enterprise has the id {entity_id!r}{hint}")
    # partners for each gap are ranked by their best docking score with the entity over every kind
    # that reaches them (cluster_cluster, and east_west across regions)
    engine = DockingEngine(dataset)
    frames = [chain_gaps(G, entity_id, threshold=args.threshold, partners=args.partners,
                         partner_scores=engine.partner_scores(entity_id)) for entity_id in ids]

    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if args.out:
        from matcher.outputs.export import write_csv

        write_csv(table, args.out)
        print(f"wrote {len(table)} rows to {args.out}", file=sys.stderr)
        return 0
    from matcher.vocab import STAGES

    zh = args.lang == "zh"
    sep = "、" if zh else ", "

    def stage(code: str) -> str:
        return STAGES.get(code, (code, code))[0 if zh else 1]

    def name(zh_name: object, en_name: object) -> str:
        first, second = (zh_name, en_name) if zh else (en_name, zh_name)
        return str(first or second or "")

    for entity_id in ids:
        pos = chain_position(G, entity_id)
        node = G.nodes[entity_id]
        works = sep.join(stage(s) for s in pos["stages"])
        title = name(node.get("name_zh"), node.get("name_en"))
        at = pos["position"]
        if at != at:  # NaN: an entity that works in no making stage (a market trades) has no place on the chain
            print(f"{entity_id} {title}：所在环节 {works or '无'}（产业链位置未知：不在任何生产环节）" if zh
                  else f"{entity_id} {title}: works in {works or 'no stage'} (chain position unknown: no making stage)")
        else:
            print(f"{entity_id} {title}：所在环节 {works}（产业链位置 {at:.2f}，0 = 纤维端，1 = 成品端）" if zh
                  else f"{entity_id} {title}: works in {works} (chain position {at:.2f}, 0 = fibre, 1 = garments)")
        rows = table[table["id"] == entity_id]
        if rows.empty:
            print("  没有超过阈值的产业链缺口" if zh else "  no chain gaps above the threshold")
        for gap, group in rows.groupby("gap_stage", sort=False):
            first = group.iloc[0]
            partners = sep.join(
                f"{r.partner_id} {name(r.partner_name_zh, r.partner_name_en)}" for r in group.itertuples() if r.partner_id
            ) or ("本数据中无人" if zh else "nobody in this dataset")
            print(f"  缺少{stage(gap)}（供给其{stage(first['feeds'])}，需求 {first['need']:.2f}）：{partners}" if zh
                  else f"  lacks {stage(gap)} (feeds its {stage(first['feeds'])}, need {first['need']:.2f}): {partners}")
    return 0
