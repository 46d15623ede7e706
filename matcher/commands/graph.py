"""``python -m matcher graph``: export the chain graph as GraphML or JSON."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "graph",
        help="export the chain graph (stages, entities, supply links) as GraphML or JSON",
        description="Write the industry-chain graph: stage nodes with input-output supply strengths, and "
        "every cluster, market (and enterprise) linked to the stages it works in and buys from.",
    )
    p.add_argument("--data", metavar="DIR", help="dataset folder (default: the bundled data)")
    p.add_argument("--out", metavar="FILE", required=True, help="output file: .graphml or .json")
    p.add_argument("--no-enterprises", action="store_true", help="leave enterprise nodes out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matcher.docking.chain import build_chain_graph, export_graph
    from matcher.ingest.dataset import load_dataset

    dataset = load_dataset(args.data)
    G = build_chain_graph(dataset, include_enterprises=not args.no_enterprises)
    path = export_graph(G, args.out)
    print(f"wrote {G.number_of_nodes()} nodes and {G.number_of_edges()} edges to {path}", file=sys.stderr)
    return 0
