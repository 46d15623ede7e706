"""Prove that a refactor changed no suggestion: the same suggestion files at a base revision and now.

    PYTHONPATH=. .venv/bin/python scripts/compare_suggestions.py --base de1bb98
    PYTHONPATH=. .venv/bin/python scripts/compare_suggestions.py --base HEAD --kinds east_west --keep /tmp/cmp

For each side (the code at ``--base REV`` and the code of this working tree) the script runs
``python -m matcher suggest`` for every chosen kind and writes ``DIR/base/KIND.csv`` and
``DIR/work/KIND.csv``:

- every kind but the enterprise one: ``suggest --kind KIND --top 10`` on the bundled data;
- the enterprise kind: ``suggest --kind enterprise --data SYNTH --top 20`` on one synthetic data set,
  made once with this working tree's ``python -m matcher synth --enterprises N --seed 1`` and used by
  both sides.

The base code runs from a temporary ``git worktree add --detach`` of REV (removed afterwards, also on
failure or Ctrl-C), with ``PYTHONPATH`` and the working directory set to that worktree and the same
interpreter as this script; the script checks that each side really imports its own ``matcher``.

The files are read with pandas, every column as text (``keep_default_na=False``), and must have the
same header (same columns in the same order), the same number of rows and the same value in every
cell, except in ``run_id`` and timestamp columns (``created_at``, ``*_at``), which differ from run to
run. Per kind it prints ``identical`` or the first differing rows (at most 10) with their columns and
a count. Exit status: 0 when every kind is identical, 1 when some differ, 2 when the comparison could
not be made (bad arguments, git or a ``suggest`` run failed).

Kind names are read from the working tree's registry, never written here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

#: Partners per entity: the enterprise kind, and every other kind.
TOP_ENTERPRISE = 20
TOP_OTHER = 10
SYNTH_SEED = 1
DEFAULT_ENTERPRISES = 10_000
#: Columns whose values are expected to differ between two runs of the same code.
IGNORED_COLUMNS = frozenset({"run_id", "created_at"})
#: Differing rows printed per kind.
SHOWN_ROWS = 10


class CompareError(Exception):
    """The comparison could not be made (the message says why)."""


# --- kinds ---------------------------------------------------------------------------------------

def _import_from_this_tree():
    """Import the working tree's ``matcher`` (not an installed copy) for its kind names."""
    if str(ROOT) not in sys.path[:1]:
        sys.path.insert(0, str(ROOT))
    import matcher

    if Path(matcher.__file__).resolve().parent != ROOT / "matcher":
        raise CompareError(f"imported matcher from {matcher.__file__}, not from {ROOT}; run with PYTHONPATH={ROOT}")
    return matcher


def registry_kinds() -> list[str]:
    """Kind names from the working tree's registry, in registry order."""
    _import_from_this_tree()
    try:
        from matcher.docking.kinds import KINDS  # the registry: name -> DockingKind
    except ImportError:
        from matcher.vocab import KINDS  # before the registry existed
    return list(KINDS)


def enterprise_kind() -> str:
    """The kind that docks enterprises with each other: it runs on the synthetic data set."""
    _import_from_this_tree()
    try:
        from matcher.vocab import ENTERPRISE  # entity type; the kind has its name
    except ImportError:
        from matcher.ingest.dataset import ENTITY_TYPES

        ENTERPRISE = ENTITY_TYPES["enterprises"]
    return ENTERPRISE


# --- comparing two folders -----------------------------------------------------------------------

@dataclass
class KindComparison:
    """How the two files of one kind compare."""

    kind: str
    problems: list[str] = field(default_factory=list)  # missing file, header or row count differs
    rows: list[str] = field(default_factory=list)  # first differing rows, described
    differing_rows: int = 0
    differing_cells: int = 0
    rounding: dict[str, tuple[int, float]] = field(default_factory=dict)  # column -> (cells, max |diff|)

    @property
    def identical(self) -> bool:
        return not self.problems and self.differing_cells == 0

    def report(self) -> str:
        if self.identical and not self.rounding:
            return f"{self.kind}: identical"
        if self.identical:
            within = "; ".join(f"{c} {n:,} cells, max |diff| {d:.1e}" for c, (n, d) in self.rounding.items())
            return f"{self.kind}: identical but for float rounding ({within})"
        lines = [f"{self.kind}: DIFFERENT"]
        lines += [f"  {p}" for p in self.problems]
        if self.differing_cells:
            lines.append(f"  {self.differing_rows:,} rows differ ({self.differing_cells:,} cells); "
                         f"first {len(self.rows)}:")
            lines += [f"    {r}" for r in self.rows]
        return "\n".join(lines)


def ignored(column: str) -> bool:
    """Columns left out of the cell comparison: the run id and timestamps."""
    return column in IGNORED_COLUMNS or column.endswith("_at") or "timestamp" in column.lower()


def read_table(path: Path) -> pd.DataFrame:
    """A suggestion CSV with every column as text, empty cells as ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _row_label(frame: pd.DataFrame, i: int) -> str:
    """'row 3 (CSV line 4, left_id C001, right_id C140)': where to look in the file."""
    keys = [f"{c} {frame[c].iat[i]}" for c in ("left_id", "right_id", "rank") if c in frame.columns]
    return f"row {i + 1} (CSV line {i + 2}{', ' if keys else ''}{', '.join(keys)})"


def _numbers(cells: np.ndarray) -> np.ndarray:
    return pd.to_numeric(pd.Series(cells.ravel()), errors="coerce").to_numpy(dtype=float).reshape(cells.shape)


def compare_files(kind: str, base: Path, work: Path, shown: int = SHOWN_ROWS, atol: float = 0.0) -> KindComparison:
    """Compare the base and working-tree files of one kind cell by cell.

    With ``atol`` > 0, numbers that differ by at most ``atol`` are reported per column as float
    rounding instead of as differences (e.g. a float32 value computed in another order).
    """
    result = KindComparison(kind)
    missing = [f"{side} file {path} is missing" for side, path in (("base", base), ("work", work))
               if not path.is_file()]
    if missing:
        result.problems += missing
        return result
    a, b = read_table(base), read_table(work)
    if list(a.columns) != list(b.columns):
        first = next((i for i, (x, y) in enumerate(zip(a.columns, b.columns, strict=False)) if x != y),
                     min(len(a.columns), len(b.columns)))
        result.problems.append(
            f"columns differ from position {first + 1}: base {list(a.columns[first:first + 5])}, "
            f"work {list(b.columns[first:first + 5])} ({len(a.columns)} vs {len(b.columns)} columns)")
        if set(a.columns) - set(b.columns):
            result.problems.append(f"only in base: {sorted(set(a.columns) - set(b.columns))}")
        if set(b.columns) - set(a.columns):
            result.problems.append(f"only in work: {sorted(set(b.columns) - set(a.columns))}")
    if len(a) != len(b):
        result.problems.append(f"row count differs: base {len(a):,}, work {len(b):,} "
                               f"(cells compared over the first {min(len(a), len(b)):,})")
    columns = [c for c in a.columns if c in set(b.columns) and not ignored(c)]
    n = min(len(a), len(b))
    if not columns or n == 0:
        return result
    left = a[columns].iloc[:n].to_numpy(dtype=object)
    right = b[columns].iloc[:n].to_numpy(dtype=object)
    differs = left != right
    if atol > 0 and differs.any():
        x, y = _numbers(np.where(differs, left, "")), _numbers(np.where(differs, right, ""))
        close = differs & (np.abs(x - y) <= atol)
        for j in np.flatnonzero(close.any(axis=0)):
            result.rounding[columns[j]] = (int(close[:, j].sum()), float(np.nanmax(np.abs(x - y)[close[:, j], j])))
        differs &= ~close
    result.differing_cells = int(differs.sum())
    bad_rows = differs.any(axis=1).nonzero()[0]
    result.differing_rows = len(bad_rows)
    for i in bad_rows[:shown]:
        cells = [f"{columns[j]}: {left[i, j]!r} -> {right[i, j]!r}" for j in differs[i].nonzero()[0]]
        more = f" (+{len(cells) - 4} more columns)" if len(cells) > 4 else ""
        result.rows.append(f"{_row_label(a, int(i))}: {'; '.join(cells[:4])}{more}")
    return result


def compare_folders(base_dir: Path, work_dir: Path, kinds: Iterable[str], atol: float = 0.0
                    ) -> list[KindComparison]:
    """Compare ``base_dir/KIND.csv`` with ``work_dir/KIND.csv`` for every kind."""
    return [compare_files(k, Path(base_dir) / f"{k}.csv", Path(work_dir) / f"{k}.csv", atol=atol) for k in kinds]


# --- building the files --------------------------------------------------------------------------

class Progress:
    def __init__(self) -> None:
        self.began = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.began:6.1f}s] {message}", flush=True)


def _run(cmd: Sequence[str], *, cwd: Path, what: str) -> subprocess.CompletedProcess:
    """Run a command with PYTHONPATH set to ``cwd`` only; raise CompareError with its output on failure."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    done = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise CompareError(f"{what} failed (exit {done.returncode}) in {cwd}:\n  $ {' '.join(cmd)}\n{tail}")
    return done


def check_imports_from(root: Path, label: str) -> None:
    """Make sure ``python`` run in ``root`` with PYTHONPATH=root imports root/matcher, not another copy."""
    done = _run([sys.executable, "-c", "import matcher, sys; sys.stdout.write(matcher.__file__)"],
                cwd=root, what=f"importing matcher for the {label} side")
    where = Path(done.stdout.strip()).resolve()
    if where.parent != (root / "matcher").resolve():
        raise CompareError(f"the {label} side imports matcher from {where}, not from {root}")


def suggest_commands(kinds: Sequence[str], out: Path, synth_dir: Path, top: int | None = None
                     ) -> list[tuple[str, list[str]]]:
    """The ``suggest`` command of each kind (``top`` overrides --top: a debugging aid)."""
    enterprise = enterprise_kind()
    commands = []
    for kind in kinds:
        args = ["suggest", "--kind", kind, "--top", str(top or (TOP_ENTERPRISE if kind == enterprise else TOP_OTHER))]
        if kind == enterprise:
            args += ["--data", str(synth_dir)]
        commands.append((kind, [sys.executable, "-m", "matcher", *args, "--out", str(out / f"{kind}.csv")]))
    return commands


def build_side(label: str, root: Path, kinds: Sequence[str], out: Path, synth_dir: Path,
               progress: Progress, top: int | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    check_imports_from(root, label)
    for kind, cmd in suggest_commands(kinds, out, synth_dir, top):
        began = time.perf_counter()
        _run(cmd, cwd=root, what=f"{label}: suggest --kind {kind}")
        progress(f"{label}: {kind} done in {time.perf_counter() - began:.1f} s -> {out / (kind + '.csv')}")


def make_synthetic(out: Path, enterprises: int, progress: Progress) -> None:
    progress(f"synth: {enterprises:,} enterprises, seed {SYNTH_SEED}, with the working tree's code -> {out}")
    _run([sys.executable, "-m", "matcher", "synth", "--enterprises", str(enterprises), "--seed", str(SYNTH_SEED),
          "--out", str(out)], cwd=ROOT, what="synth")


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise CompareError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def build_base(rev: str, kinds: Sequence[str], out: Path, synth_dir: Path, progress: Progress,
               top: int | None = None) -> None:
    """Build the base side in a temporary detached worktree of ``rev``, removed afterwards."""
    try:
        commit = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except CompareError:
        commit = ""
    if not commit:
        raise CompareError(f"--base {rev!r} is not a commit of the repository at {ROOT} (see git log)")
    holder = Path(tempfile.mkdtemp(prefix="compare-base-"))
    tree = holder / "tree"
    try:
        progress(f"base: git worktree add --detach {tree} {rev} ({commit[:10]})")
        git("worktree", "add", "--detach", str(tree), commit)
        build_side("base", tree, kinds, out, synth_dir, progress, top)
    finally:
        if tree.exists():
            done = subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                print(f"warning: git worktree remove failed: {done.stderr.strip()}", file=sys.stderr)
        shutil.rmtree(holder, ignore_errors=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], capture_output=True)
        progress("base: temporary worktree removed")


# --- command line --------------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None, kinds: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Build suggestion files with the code at --base REV and with this working tree's code, "
        "then compare them cell by cell (run_id and timestamps ignored). Exit 0 only if every kind is "
        "identical; 1 if some differ; 2 if the comparison could not be made.",
        epilog="Example: PYTHONPATH=. .venv/bin/python scripts/compare_suggestions.py --base de1bb98",
    )
    p.add_argument("--base", required=True, metavar="REV", help="git revision of the code before the change "
                   "(commit, branch, tag, HEAD~1, ...)")
    p.add_argument("--kinds", nargs="+", choices=kinds, default=list(kinds), metavar="KIND",
                   help=f"kinds to compare (default: all: {', '.join(kinds)})")
    p.add_argument("--enterprises", type=int, default=DEFAULT_ENTERPRISES, metavar="N",
                   help=f"synthetic enterprises for the enterprise kind (default {DEFAULT_ENTERPRISES:,})")
    p.add_argument("--keep", metavar="DIR", help="write the files into DIR (base/, work/, synth/) and keep them "
                   "(default: a temporary folder, deleted at the end)")
    # Debugging aid, hidden: give the base side another --top to see that differences are caught.
    p.add_argument("--atol", type=float, default=0.0, metavar="X",
                   help="report numbers that differ by at most X as float rounding, not as differences "
                   "(default 0: every cell must be identical)")
    p.add_argument("--debug-base-top", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.enterprises < 1:
        p.error("--enterprises must be at least 1")
    args.kinds = list(dict.fromkeys(args.kinds))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    try:
        kinds = registry_kinds()
        enterprise = enterprise_kind()
    except (CompareError, ImportError) as err:
        print(f"error: cannot read the kind names from {ROOT}: {err}", file=sys.stderr)
        return 2
    # Bundled-data kinds first, the enterprise kind (the slowest) last.
    kinds = [k for k in kinds if k != enterprise] + [k for k in kinds if k == enterprise]
    args = parse_args(argv, kinds)
    chosen = [k for k in kinds if k in args.kinds]
    progress = Progress()
    out = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="compare-suggestions-"))
    if args.keep and out.exists() and any(out.iterdir()):
        print(f"error: --keep {out} exists and is not empty; choose a new folder", file=sys.stderr)
        return 2
    try:
        synth_dir = out / "synth"
        if enterprise in chosen:
            make_synthetic(synth_dir, args.enterprises, progress)
        build_base(args.base, chosen, out / "base", synth_dir, progress, args.debug_base_top)
        progress(f"work: the working tree {ROOT}")
        build_side("work", ROOT, chosen, out / "work", synth_dir, progress)
        progress("comparing")
        results = compare_folders(out / "base", out / "work", chosen, atol=args.atol)
    except CompareError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"files kept in {out}")
        else:
            shutil.rmtree(out, ignore_errors=True)
    print()
    for result in results:
        print(result.report())
    same = sum(r.identical for r in results)
    rounded = sum(r.identical and bool(r.rounding) for r in results)
    within = f" ({rounded} of them only within --atol {args.atol:g}: float rounding)" if rounded else ""
    print(f"\n{same} of {len(results)} kinds identical between {args.base} and the working tree{within}")
    return 0 if same == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
