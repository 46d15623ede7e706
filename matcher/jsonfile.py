"""Reading a JSON file a person hands us (weights, a model, a backup, a table), bounded.

One reader for every JSON input, so each gets the same guards: only a regular file is opened for
reading (a folder, a device such as ``/dev/zero``, a pipe or a socket is refused before a byte is
read), its size is checked against the caller's bound before reading and again while reading (a
file that grows meanwhile cannot pass), and every way the content can fail (not UTF-8, not JSON,
nested too deeply for the parser) is a :class:`JsonFileError` naming the file.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> (folder / "w.json").write_text('{"chain": 0.5}', encoding="utf-8")
14
>>> read_json_file(folder / "w.json", "weights", max_bytes=1024)
{'chain': 0.5}
>>> (folder / "deep.json").write_text("[" * 100_000, encoding="utf-8")
100000
>>> read_json_file(folder / "deep.json", "weights", max_bytes=1 << 20)
Traceback (most recent call last):
...
matcher.jsonfile.JsonFileError: ...deep.json: the JSON is nested too deeply (lists or objects inside one another thousands of times): it is not a weights file
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from matcher.exceptions import ValidationError

#: Flags for opening: never wait on a pipe's writer (the type check then refuses it); binary on Windows.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class JsonFileError(ValidationError):
    """A JSON file that cannot be read. The message is ``"<path>: <reason>"``; ``reason`` alone lets
    a caller word it its own way, and ``missing`` tells a file that does not exist."""

    def __init__(self, path: str | Path, reason: str, *, missing: bool = False):
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason
        self.missing = missing


def size_text(n: int) -> str:
    """A byte count as a person reads it.

    Examples
    --------
    >>> size_text(16 << 20), size_text(1 << 30), size_text(1500)
    ('16 MiB', '1 GiB', '1,500 bytes')
    """
    for unit, shift in (("GiB", 30), ("MiB", 20)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):,.3g} {unit}"
    return f"{n:,} bytes"


def read_json_file(path: str | Path, what: str, *, max_bytes: int) -> object:
    """The content of the JSON file ``path``, which must be a regular file of at most ``max_bytes``.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What the file holds ("weights", "model", "backup"), for the messages.
    max_bytes : int
        The largest file accepted (a bound of :mod:`matcher.limits`).

    Returns
    -------
    object
        The decoded JSON (UTF-8, with or without a byte-order mark).

    Raises
    ------
    JsonFileError
        The file is missing, a folder, not a regular file, larger than ``max_bytes``, not UTF-8,
        not valid JSON, or nested too deeply; the message names the file.
    """
    path = Path(path)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise JsonFileError(path, f"{what} file not found", missing=True) from None
    except IsADirectoryError:
        raise JsonFileError(path, f"it is a folder, not a {what} file") from None
    except OSError as err:
        raise JsonFileError(path, f"it cannot be opened ({err.strerror or err})") from None
    try:  # the type and size of what was opened, not of what the name pointed at a moment before
        mode = os.fstat(fd)
        if stat.S_ISDIR(mode.st_mode):
            raise JsonFileError(path, f"it is a folder, not a {what} file")
        if not stat.S_ISREG(mode.st_mode):
            raise JsonFileError(path, f"it is not a regular file but a device, pipe or socket; give a {what} file")
        if mode.st_size > max_bytes:
            raise _too_large(path, what, mode.st_size, max_bytes)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        data = _read_at_most(fh, mode.st_size, max_bytes)
    if len(data) > max_bytes:  # it grew while we read it
        raise _too_large(path, what, len(data), max_bytes, more=True)
    try:
        return json.loads(data.decode("utf-8-sig"), object_pairs_hook=_unique_keys)
    except _DuplicateKey as err:
        raise JsonFileError(path, f"the key {err.args[0]!r} appears twice in one object; which one is meant? "
                                  "Keep one") from None
    except UnicodeDecodeError:
        raise JsonFileError(path, f"not a UTF-8 text file (binary, or UTF-16?); save the {what} as UTF-8 "
                                  "JSON") from None
    except json.JSONDecodeError as err:
        raise JsonFileError(path, f"not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}") from None
    except RecursionError:
        raise JsonFileError(path, "the JSON is nested too deeply (lists or objects inside one another "
                                  f"thousands of times): it is not a {what} file") from None
    except ValueError as err:  # a number of more than 4,300 digits
        raise JsonFileError(path, f"not valid JSON: {str(err).split(':')[0]}") from None


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object as a dict, refusing a key given twice (``json`` keeps the last one without a word:
    ``{"trade": 1, "trade": 0}`` weighed trade 0)."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _read_at_most(fh, size: int, max_bytes: int) -> bytes:
    """The file's bytes, stopping once more than ``max_bytes`` have come (one read when it kept its size)."""
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = fh.read(min(max(size + 1 - total, 1 << 20), max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _too_large(path: Path, what: str, size: int, max_bytes: int, *, more: bool = False) -> JsonFileError:
    found = f"grew past {size_text(max_bytes)} while it was read" if more else f"is {size_text(size)}"
    return JsonFileError(path, f"it {found}; a {what} file may have at most {size_text(max_bytes)} "
                               f"({max_bytes:,} bytes): is it the right file?")
