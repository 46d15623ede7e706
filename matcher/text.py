"""Characters a one-line text (a name, a heading, a calendar entry, an event's title) must not hold.

One place for the patterns the importer, the app's headings, the calendars and ``schedule --event`` use:
a line break typed in a cell (Alt+Enter) or pasted from a document is read as a space, and a control
character, which does not print, is refused or replaced.

>>> one_line("兰溪\\n  第二行"), one_line("a  b")
('兰溪 第二行', 'a  b')
"""

from __future__ import annotations

import re

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


__all__ = ["C1", "CONTROL", "LINE_BREAK", "UNPRINTABLE", "one_line"]
