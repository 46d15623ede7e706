"""Running a command in-process for the robustness tests: a file written for it, and its exit code and
standard error, with no traceback anywhere in what it printed."""

from __future__ import annotations

from pathlib import Path

from matcher.cli import main


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err
