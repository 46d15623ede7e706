"""Files written whole or not at all: each is written to a temporary file beside it and renamed over
it only when complete (a rename within one folder is atomic), so a failed or interrupted write leaves
the earlier file as it was and never a half file under the real name.

Every writer of the package goes through :func:`replacing`; :func:`remove_orphans` clears the
temporary files a killed process left behind.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from matcher.exceptions import MatcherError

#: The temporary files' names: ``.<name>.<random>.partial`` beside ``<name>``.
PARTIAL_SUFFIX = ".partial"


def partial_path(path: str | Path) -> Path:
    """A fresh temporary name in the same folder as ``path`` (hidden, unique, ``.partial``)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{PARTIAL_SUFFIX}")


@contextmanager
def replacing(path: str | Path, *, private: bool = False) -> Iterator[Path]:
    """Write to the yielded temporary path; it becomes ``path`` when the block ends without error.

    On an error (or an interrupt) the temporary file is removed and ``path`` is left as it was; an
    error writing the temporary file names ``path``, the file asked for (``MatcherError``). The file gets
    the permissions a new file normally gets (not a temporary file's private ones), or, when
    ``private`` (a file holding password hashes), only its owner may read it (0600).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with replacing(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("whole")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('whole', ['a.txt'])
    """
    asked = Path(path)
    path = target(asked)
    remove_orphans(path.parent)
    tmp = partial_path(path)
    try:
        yield tmp
        if not tmp.exists():  # the writer wrote nothing: an empty file, as writing it directly would
            tmp.touch()
        if private:
            os.chmod(tmp, 0o600)
        with open(tmp, "rb+") as handle:  # on disk before it takes the name (a power cut keeps one or the other)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        discard(tmp)
        named = {Path(f) for f in (err.filename, err.filename2) if f}
        if not named or tmp in named:  # writing the file: named as asked, not as the hidden one (pyarrow names none)
            raise MatcherError(f"cannot write {asked}: {err.strerror or err}") from err
        raise
    except BaseException:
        discard(tmp)
        raise


def target(path: str | Path) -> Path:
    """The file a write of ``path`` replaces: ``path``, or the file a symbolic link at ``path`` points to
    (the link is kept). Refused (``MatcherError``, naming ``path``): a missing folder, a folder, and
    anything that is not a regular file, such as a device (``/dev/null``) or a pipe, which a rename
    would replace with a file for every program that uses it."""
    asked = Path(path)
    try:
        path = asked.resolve() if asked.is_symlink() else asked
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11 and 3.12)
        raise MatcherError(f"cannot write {asked}: it is a symbolic link that points round in a loop; remove it "
                           "or choose another file") from None
    if not path.parent.is_dir():
        raise MatcherError(f"cannot write {asked}: the folder {path.parent} does not exist; create it first")
    if path.is_dir():
        raise MatcherError(f"cannot write {asked}: it is a folder")
    if path.exists() and not path.is_file():
        raise MatcherError(f"cannot write {asked}: it is not a regular file (a device, a pipe or a socket); "
                           "choose a file")
    return path


def csv_output(path: str | Path, option: str) -> None:
    """Refuse, before any work, a CSV output that is not named ``.csv`` (a CSV under ``.xlsx`` is a file Excel
    will not open) or cannot be written (a folder, a device, a missing folder: ``atomic.target``)."""
    if Path(path).suffix.lower() != ".csv":
        raise MatcherError(f"{option} {path}: this table is written as CSV; name the file .csv. Nothing was run")
    target(path)


def discard(tmp: Path) -> None:
    """Remove a temporary file, if it is there; never raises (on a read-only disk even removing a file
    that is not there fails, and that error would hide the one that names the file asked for)."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def write_bytes(path: str | Path, data: bytes) -> Path:
    """``path.write_bytes(data)``, atomically."""
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """``path.write_text(text)``, atomically."""
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return path


def remove_orphans(folder: str | Path, older_than_s: float = 3600.0) -> list[Path]:
    """Remove what interrupted writes left in ``folder`` (not in its subfolders): ``*.partial`` files (these
    and the streamed writers' ``FILE.partial``) and ``*.partial`` staging folders (a set of calendars written
    before it is moved in) older than ``older_than_s`` (a write in progress is younger). Called before every
    write into a folder; returns what was removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now, removed = time.time(), []
    for found in folder.glob(f"*{PARTIAL_SUFFIX}"):
        try:
            if found.is_symlink() or now - found.stat().st_mtime <= older_than_s:
                continue
            if found.is_dir():
                shutil.rmtree(found)
            elif found.is_file():
                found.unlink()
            else:
                continue
            removed.append(found)
        except OSError:  # gone meanwhile, or not ours to remove
            continue
    return removed


#: The command-line options that name files a command writes, and those that name what it reads (a
#: file, or a data folder whose tables it reads).
OUTPUT_OPTIONS = ("out", "ics_dir", "problems_csv")
INPUT_OPTIONS = ("data", "suggestions", "shortlist", "locks", "availability", "known", "regional", "weights", "model",
                 "outcomes", "benetton", "file", "db", "forbid", "capacities", "clusters", "paths")


def _option(name: str) -> str:
    """How the command line names an input: ``--known``; ``PATH`` for ``validate``'s positional paths
    (``paths``, ``paths 2``, ...)."""
    return "PATH" if name.split()[0] == "paths" else f"--{name.replace('_', '-')}"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11 and 3.12)
        return False


def overwritten_input(outputs: dict[str, str | Path], inputs: dict[str, str | Path],
                      folders: dict[str, str | Path] | None = None) -> str | None:
    """Why writing ``outputs`` would destroy one of ``inputs`` (option name -> path), or None.

    An output that is an input file, or a table a data folder of ``folders`` holds (its ``<table>.csv``
    or ``.xlsx``, even one not there yet: it would be read next time), is refused before anything is
    written: a command's output never replaces the data it was computed from.
    """
    from matcher.ingest.dataset import ENTITY_TABLES, REFERENCE_TABLES

    tables = {f"{t}.{ext}" for t in (*ENTITY_TABLES, *REFERENCE_TABLES) for ext in ("csv", "xlsx")}
    for out_name, out in outputs.items():
        target = Path(out)
        for in_name, source in inputs.items():
            source = Path(source)
            if source.is_dir():
                if _same(target, source):  # an output folder (synth --out, --ics-dir) into the data folder
                    return (f"--{out_name.replace('_', '-')} {target} is the data folder given as "
                            f"{_option(in_name)}; writing into it would change the data. Choose another "
                            "folder. Nothing was written")
                if _same(target.parent, source) and target.name.lower() in tables:
                    return (f"--{out_name.replace('_', '-')} {target} would replace the {target.stem} table of the "
                            f"data folder {source} ({_option(in_name)}); choose another file. "
                            "Nothing was written")
            elif _same(target, source):
                what = {"db": "the store's database file", "file": "the input file",
                        "paths": "a file being validated"}.get(in_name.split()[0], f"the file given as {_option(in_name)}")
                return (f"--{out_name.replace('_', '-')} {target} is {what}; writing it would destroy the input. "
                        "Choose another file. Nothing was written")
        for folder_name, folder in (folders or {}).items():
            if _same(target, Path(folder)):
                return (f"--{out_name.replace('_', '-')} {target} is the {folder_name} folder; writing into it would "
                        "change the data. Choose another folder. Nothing was written")
            if _same(target.parent, Path(folder)) and target.name.lower() in tables:
                return (f"--{out_name.replace('_', '-')} {target} would replace the {target.stem} table of the "
                        f"{folder_name}; choose another file. Nothing was written")
    return None
