"""The shape the design asks for: the library never imports streamlit; caching lives in one place."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_library_never_imports_streamlit():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "matcher").rglob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def test_streamlit_caching_lives_in_one_module():
    uses = [
        str(p.relative_to(ROOT))
        for p in [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py"), *(ROOT / "app_components").glob("*.py")]
        if p.exists() and ("st.cache_data" in p.read_text(encoding="utf-8")
                           or "st.cache_resource" in p.read_text(encoding="utf-8"))
    ]
    assert uses == ["app_components/cache.py"]


def test_pages_are_short():
    long_pages = {p.name: n for p in (ROOT / "app_pages").glob("*.py")
                  if (n := len(p.read_text(encoding="utf-8").splitlines())) > 150}
    assert long_pages == {}
