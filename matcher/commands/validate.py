"""``python -m matcher validate PATH...``: check data files before loading them.

Exit 0 with one summary line per file when everything is valid; exit 2 with the table of every
problem (file, row, column, value, reason) otherwise. Never a traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path

import pandas as pd

from matcher.columns import SPECS
from matcher.exceptions import MatcherError, ValidationError
from matcher.ingest.dataset import BUNDLED_DATA, load_dataset
from matcher.ingest.read import PROBLEM_COLUMNS, read_table, text_encoding
from matcher.ingest.validate import check_table
from matcher.vocab import ENTERPRISE

#: Words in a file name that say which table it holds (checked in this order).
TABLE_WORDS: dict[str, tuple[str, ...]] = {
    "enterprises": (ENTERPRISE, "firm", "compan", "factor", "企业"),
    "clusters": ("cluster", "集群"),
    "markets": ("market", "市场"),
}
#: Problems printed on the terminal; the rest go to --problems-csv.
MAX_PRINTED = 200


def guess_table(path: Path) -> str | None:
    """The table a file holds, from words in its name (``None`` when the name does not say).

    Examples
    --------
    >>> guess_table(Path("data/clusters.csv")), guess_table(Path("2024 企业名录.xlsx")), guess_table(Path("x.csv"))
    ('clusters', 'enterprises', None)
    """
    name = path.name.lower()
    for table, words in TABLE_WORDS.items():
        if any(word in name for word in words):
            return table
    return None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check cluster, market and enterprise files (CSV or XLSX) and list every problem",
        description="Check data files and list every problem with file, row (as in Excel), column, "
        "value and reason. A folder is checked as a whole data set (clusters.csv required). "
        "Exit 0 when all files are valid, 2 otherwise; nothing is loaded or changed.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="CSV/XLSX files or data folders")
    parser.add_argument(
        "--table",
        choices=sorted(SPECS),
        help="which table the files hold (default: guessed from each file name)",
    )
    parser.add_argument(
        "--clusters",
        metavar="PATH",
        help="clusters file that enterprises' cluster_id must refer to (default: a clusters file "
        "among PATHs, else the bundled data)",
    )
    parser.add_argument("--problems-csv", metavar="PATH", help="also write every problem to this CSV file")
    parser.set_defaults(func=run)


def _cluster_ids(args: argparse.Namespace, paths: list[Path]) -> pd.Series | None:
    """Cluster ids enterprises are checked against; None when no clusters table is at hand."""
    source = Path(args.clusters) if args.clusters else None
    if source is None:
        source = next((p for p in paths if p.is_file() and guess_table(p) == "clusters"), None)
    if source is None and (BUNDLED_DATA / "clusters.csv").is_file():
        source = BUNDLED_DATA / "clusters.csv"
    if source is None:
        return None
    try:
        raw = read_table(source, SPECS["clusters"].aliases)
    except ValidationError:
        print(f"note: {source} cannot be read, so cluster_id is not checked", file=sys.stderr)
        return None
    typed, _ = check_table(raw, "clusters", source)
    return typed["id"].dropna()


def _check_file(path: Path, table: str, args, paths) -> tuple[str, pd.DataFrame]:
    raw = read_table(path, SPECS[table].aliases)
    cluster_ids = None
    if table == "enterprises" and "cluster_id" in raw.columns:
        cluster_ids = _cluster_ids(args, paths)
        if cluster_ids is None:
            print(f"note: {path}: no clusters table given, cluster_id not checked", file=sys.stderr)
    _, problems = check_table(raw, table, path, cluster_ids=cluster_ids)
    return f"{path}: {len(raw)} {table}", problems


def _width(text: str) -> int:
    """Columns a text takes on a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_problems(problems: pd.DataFrame, limit: int = MAX_PRINTED) -> str:
    """Problems as an aligned text table, reason last and unpadded so long reasons stay readable."""
    shown = problems.head(limit).astype(str)
    shown["value"] = shown["value"].map(lambda v: v if len(v) <= 40 else v[:37] + "...")
    heads = PROBLEM_COLUMNS[:-1]
    widths = {c: max([_width(c), *(_width(v) for v in shown[c])]) for c in heads}

    def pad(text: str, column: str) -> str:
        return text + " " * (widths[column] - _width(text))

    lines = ["  ".join(pad(c, c) for c in heads) + "  reason"]
    for record in shown.to_dict("records"):
        lines.append("  ".join(pad(record[c], c) for c in heads) + "  " + record["reason"])
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more (write them all with --problems-csv)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    found: list[pd.DataFrame] = []
    for path in paths:
        try:
            if path.is_dir():
                data = load_dataset(path)
                print(
                    f"{path}: {len(data.clusters)} clusters, {len(data.markets)} markets, "
                    f"{len(data.enterprises)} enterprises, version {data.version}, OK"
                )
                continue
            if not path.exists():
                raise MatcherError(f"{path}: file not found")
            table = args.table or guess_table(path)
            if table is None:
                raise MatcherError(
                    f"{path}: cannot tell which table this file holds from its name; "
                    f"give --table {'|'.join(sorted(SPECS))}"
                )
            summary, problems = _check_file(path, table, args, paths)
        except ValidationError as err:
            found.append(err.problems)
            print(f"{path}: {len(err.problems)} problem(s)")
            continue
        if path.suffix.lower() in (".csv", ".txt", ".tsv") and (named := text_encoding(path)) != "UTF-8":
            summary += f" (read as {named})"  # GB18030 or Big5: said, so a wrong guess would show
        if len(problems):
            found.append(problems)
            print(f"{summary}, {len(problems)} problem(s)")
        else:
            print(f"{summary}, OK")
    if not found:
        return 0
    problems = pd.concat(found, ignore_index=True)
    if args.problems_csv:
        from matcher.outputs.export import write_csv

        # Every text cell is user input (a hostile header lands in `column`, a file name in `file`):
        # the shared CSV writer neutralises all of them, not just `value`.
        write_csv(problems.astype({"value": str}), args.problems_csv)
    print(
        f"\n{len(problems)} problem(s) in {problems['file'].nunique()} file(s); nothing was loaded.",
        file=sys.stderr,
    )
    print(format_problems(problems), file=sys.stderr)
    return 2
