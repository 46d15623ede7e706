"""Characters a one-line text (a name, a heading, a calendar entry, an event's title) must not hold.

One place for the patterns the importer, the app's headings, the calendars and ``schedule --event`` use:
a line break typed in a cell (Alt+Enter) or pasted from a document is read as a space, and a control
character, which does not print, is refused or replaced.

>>> one_line("兰溪\\n  第二行"), one_line("a  b")
('兰溪 第二行', 'a  b')
"""

from __future__ import annotations

import re
import unicodedata

#: Line breaks and tabs (and the Unicode line and paragraph separators).
LINE_BREAK = r"[\t\n\r\x0b\x0c\u0085\u2028\u2029]"
#: The C0 control characters that are no line break or tab, and DEL.
CONTROL = r"[\x00-\x08\x0e-\x1f\x7f]"
#: The C1 control characters but NEL (``\x85``, a line break).
C1 = r"[\x80-\x84\x86-\x9f]"

#: Any control character that is no line break or tab (C0 but those, DEL, C1), compiled.
UNPRINTABLE = re.compile(f"{CONTROL}|{C1}")

_LINE_BREAK = re.compile(LINE_BREAK)
_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """``text`` with every run of white space holding a line break or tab as one space (a text without
    one is returned as it is: its spaces are its own)."""
    return _SPACES.sub(" ", text) if _LINE_BREAK.search(text) else text


#: What no common file system takes in a file name (Windows refuses the most), as one pattern.
_NOT_IN_FILE_NAME = re.compile(r'[\\/:*?"<>|]')
#: Unicode categories of characters nobody can see or type: controls, format characters (zero-width, a
#: right-to-left override, which turns ``list\u202excl.exe`` into what reads as ``listexe.lcx``),
#: surrogates (bytes that were not UTF-8), private use and unassigned. No name the product keeps or writes
#: (an account's, a file's) holds one.
UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
#: Names Windows keeps for devices, whatever follows the dot (``CON.xlsx`` cannot be saved there).
_DEVICE = re.compile(r"(?i)(con|prn|aux|nul|com\d|lpt\d)(\..*)?")
_RUNS = re.compile(r"_{2,}")


def file_part(text: str, max_chars: int | None = None) -> str:
    """``text`` made fit for a file or folder name on every system, the one rule for every name the
    product writes from a planner's or a file's text (downloads, uploads' folders, calendars): the
    characters Windows refuses (``/ \\ : * ? " < > |``) and every control, format or unassigned
    character as ``_`` (a run of them as one), white space and line breaks as one space, no ``.``,
    ``_``, ``-`` or space at either end (no hidden file, nothing read as an option), at most
    ``max_chars`` characters, and a Windows device name (``CON``, ``nul.txt``) after a ``_``.
    Letters and digits of every script stay. "" when nothing is left: the caller names the fallback.

    >>> file_part("柯桥 / 春季: 对接?"), file_part(".hidden"), file_part("CON"), file_part("a\\u202eb")
    ('柯桥 _ 春季_ 对接', 'hidden', '_CON', 'a_b')
    >>> file_part("a" * 50, 10), file_part("\\x00\\x01")
    ('aaaaaaaaaa', '')
    """
    flat = _SPACES.sub(" ", str(text))
    kept = "".join("_" if unicodedata.category(ch) in UNSEEN_CATEGORIES else ch for ch in flat)  # after _SPACES: no Zl, Zp
    cleaned = _RUNS.sub("_", _NOT_IN_FILE_NAME.sub("_", kept)).strip(" ._-")
    if max_chars is not None:
        cleaned = cleaned[:max_chars].strip(" ._-")
    return "_" + cleaned if _DEVICE.fullmatch(cleaned) else cleaned


__all__ = ["C1", "CONTROL", "LINE_BREAK", "UNPRINTABLE", "UNSEEN_CATEGORIES", "file_part", "one_line"]
