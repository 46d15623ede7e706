"""``python -m matcher``: the same jobs as the app, for batch use.

Each command lives in its own module under ``matcher/commands/`` and exposes
``register(subparsers)``, which adds a sub-parser whose ``func(args) -> int`` runs it.
Errors the user can act on (``MatcherError``) print as a message and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
from pathlib import Path

from matcher import commands
from matcher.exceptions import MatcherError


def command_names() -> list[str]:
    """Every command: a module of ``matcher.commands`` of the same name."""
    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``only`` (then only that command's module is imported:
    a batch job does not pay for the imports of the others)."""
    parser = argparse.ArgumentParser(
        prog="python -m matcher",
        description="Industry-chain docking matchmaker: find, explain, shortlist and schedule "
        "docking pairs between textile clusters, markets and enterprises.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only else command_names():
        module = importlib.import_module(f"matcher.commands.{name}")
        module.register(sub)
    return parser


#: Control characters that would act on a terminal (escape sequences, bells, backspaces), not show.
_TERMINAL_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _Shown:
    """A text stream that shows control characters as ``\\x1b`` instead of sending them on: text from
    data (a name, a cell in a problem table) never moves the cursor, clears or retitles the terminal."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_TERMINAL_CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


#: Longest error message printed whole; past it the message is cut and says how long it was (a value
#: quoted in it may be a megabyte pasted on the command line).
MAX_MESSAGE_CHARS = 2_000


def main(argv: list[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Shown(out), _Shown(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str] | None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(given[0] if given and given[0] in command_names() else None)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if not getattr(args, "pass_through", False):
            parser.parse_args(argv)  # reports the unknown options and exits 2, as argparse does
        args.args = [*getattr(args, "args", []), *unknown]
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        _refuse_overwriting_inputs(args)
        return int(args.func(args) or 0)
    except MatcherError as err:
        from matcher.ingest.validate import clip  # only on an error: it loads the validators

        print(f"error: {clip(str(err), MAX_MESSAGE_CHARS)}", file=sys.stderr)  # a pasted megabyte in a message
        problems = getattr(err, "problems", None)
        if problems is not None and len(problems):
            print(problems.to_string(index=False), file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except OSError as err:  # a file or folder that cannot be read or written: named, never a traceback
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"error: cannot use{where}: {err.strerror or err}", file=sys.stderr)
        return MatcherError.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _refuse_overwriting_inputs(args: argparse.Namespace) -> None:
    """Refuse, before anything runs, an output option that names an input (``atomic.overwritten_input``)."""
    from matcher.ingest.dataset import BUNDLED_DATA
    from matcher.outputs.atomic import INPUT_OPTIONS, OUTPUT_OPTIONS, overwritten_input

    def given(names: tuple[str, ...]) -> dict[str, str]:
        found = {}
        for name in names:
            value = getattr(args, name, None)
            values = value if isinstance(value, (list, tuple)) else [value]  # validate's PATH...: each an input
            for i, one in enumerate(values, start=1):
                if isinstance(one, (str, Path)) and str(one) not in ("", "-"):
                    found[name if i == 1 else f"{name} {i}"] = one
        return found

    outputs = given(OUTPUT_OPTIONS)
    if outputs:
        inputs = given(INPUT_OPTIONS)
        store_file = _sqlite_file(str(inputs.pop("db", "")))
        if store_file is not None:
            inputs["db"] = store_file
        for name, out in outputs.items():  # a file into a folder that is not there: said now, not after the work
            folder = Path(out).parent
            if name != "ics_dir" and not getattr(args, "out_is_folder", False) and not folder.is_dir():
                what = "is a file, not a folder" if folder.exists() else "does not exist; create it first"
                raise MatcherError(f"--{name.replace('_', '-')} {out}: the folder {folder} {what}, or choose "
                                   "another. Nothing was run")
        derived = getattr(args, "derived_outputs", None)  # files a command writes beside --out (evaluate's _regional)
        for written in (outputs, *([derived(args)] if derived is not None else [])):
            reason = overwritten_input(written, inputs, {"bundled data": BUNDLED_DATA})
            if reason:
                raise MatcherError(reason)


def _sqlite_file(url: str) -> Path | None:
    """The store's SQLite file (``--db`` or the workspace's default), which no output may replace."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from matcher.store.connection import default_url

    try:
        parsed = make_url(url or default_url())
    except ArgumentError:
        return None
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None

