"""``python -m matcher``: the same jobs as the app, for batch use.

Each command lives in its own module under ``matcher/commands/`` and exposes
``register(subparsers)``, which adds a sub-parser whose ``func(args) -> int`` runs it.
Errors the user can act on (``MatcherError``) print as a message and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from matcher import commands
from matcher.exceptions import MatcherError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m matcher",
        description="Industry-chain docking matchmaker: find, explain, shortlist and schedule "
        "docking pairs between textile clusters, markets and enterprises.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"matcher.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if not getattr(args, "pass_through", False):
            parser.parse_args(argv)  # reports the unknown options and exits 2, as argparse does
        args.args = [*getattr(args, "args", []), *unknown]
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except MatcherError as err:
        print(f"error: {err}", file=sys.stderr)
        problems = getattr(err, "problems", None)
        if problems is not None and len(problems):
            print(problems.to_string(index=False), file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
