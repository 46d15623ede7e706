"""The shape the design asks for: the library never imports streamlit; caching lives in one place;
no import cycles; no module over 600 lines; kind names written only in the kind registry."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import networkx as nx
import pytest

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


# --- checkers: plain functions over a source tree, so tests can run them on a small fake tree ----

#: Lines a module may have.
MAX_LINES = 600
#: Where the size limit applies (folders searched recursively, or single files).
SIZED = ("matcher", "app_pages", "app_components", "app.py")
#: Where kind names must not be written as string literals, and the only files allowed to.
KIND_SCANNED = ("matcher", "app_pages", "app_components", "app.py", "benchmarks", "scripts")
KIND_ALLOWED = ("matcher/docking/kinds.py", "matcher/vocab.py")


def python_files(root: Path, places: tuple[str, ...]) -> list[Path]:
    """Every ``.py`` file under the given folders (and the given files) of ``root``, sorted."""
    files: set[Path] = set()
    for place in places:
        path = root / place
        if path.is_file() and path.suffix == ".py":
            files.add(path)
        elif path.is_dir():
            files.update(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
    return sorted(files)


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted name of every module of ``package`` (a package is named by its ``__init__``)."""
    names = {}
    for path in python_files(root, (package,)):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted name refers to: itself, or the closest enclosing module that exists."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_graph(root: Path, package: str = "matcher") -> nx.DiGraph:
    """Module -> imported module, inside ``package``, from every import statement anywhere in a module.

    ``import a.b.c`` and ``from a.b.c import x`` point at ``a.b.c``; in ``from a.b import y`` a ``y``
    that is a submodule points at ``a.b.y``, any other ``y`` at ``a.b`` (its ``__init__``). Relative
    imports are resolved against the importing module's package. A package's ``__init__`` importing
    its own submodules gives edges like any other module. Imports inside functions count too.
    """
    modules = module_names(root, package)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str | None] = set()
        typing_only = {id(n) for block in ast.walk(tree) if _is_type_checking(block)
                       for stmt in block.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            if id(node) in typing_only:  # imports for type checkers only never run
                continue
            if isinstance(node, ast.Import):
                targets.update(_resolve(alias.name, modules) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - (node.level - 1)] if here else []
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    targets.add(sub if sub in modules else _resolve(source, modules))
        graph.add_edges_from((name, t) for t in targets if t and t != name)
    return graph


def import_cycles(root: Path, package: str = "matcher", limit: int = 100) -> list[list[str]]:
    """Import cycles among ``package``'s modules (at most ``limit``), each starting at its smallest name."""
    cycles = []
    for cycle in itertools.islice(nx.simple_cycles(import_graph(root, package)), limit):
        start = cycle.index(min(cycle))
        cycles.append(cycle[start:] + cycle[:start])
    return sorted(cycles, key=lambda c: (len(c), c))


def oversized_modules(root: Path, places: tuple[str, ...] = SIZED, limit: int = MAX_LINES) -> dict[str, int]:
    """``{relative path: lines}`` of every ``.py`` file under ``places`` longer than ``limit`` lines."""
    sizes = {p.relative_to(root).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in python_files(root, places)}
    return {path: n for path, n in sizes.items() if n > limit}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the Constant nodes that are docstrings (of the module, classes and functions)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                found.add(id(body[0].value))
    return found


def kind_name_literals(root: Path, kinds: list[str] | set[str], places: tuple[str, ...] = KIND_SCANNED,
                       allowed: tuple[str, ...] = KIND_ALLOWED) -> list[str]:
    """``file:line:'value'`` of every string literal equal to a kind name outside the ``allowed`` files.

    String constants anywhere count (the constant parts of f-strings included); docstrings and
    comments do not.
    """
    kinds = set(kinds)
    found = []
    for path in python_files(root, places):
        relative = path.relative_to(root).as_posix()
        if relative in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docstrings = _docstrings(tree)
        found += [
            (relative, node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in kinds
            and id(node) not in docstrings
        ]
    return [f"{file}:{line}:{value!r}" for file, line, value in sorted(found)]


def registry_kind_names() -> list[str]:
    """Kind names read from the registry, ``matcher.docking.kinds.KINDS``; fails (not skips) without it."""
    try:
        from matcher.docking.kinds import KINDS
    except Exception as err:  # ImportError, or a module broken mid-refactor
        problem = f"{type(err).__name__}: {err}"
    else:
        problem = None
    if problem:  # failed outside the except block, so the report is not a chained traceback
        pytest.fail(f"cannot read the kind registry: `from matcher.docking.kinds import KINDS` failed with "
                    f"{problem}. The registry (a dict kind name -> DockingKind) must exist for this test "
                    f"to know the kind names.", pytrace=False)
    names = list(KINDS)
    if not names or not all(isinstance(n, str) for n in names):
        pytest.fail(f"matcher.docking.kinds.KINDS should map kind names to kinds, got {KINDS!r}", pytrace=False)
    return names


# --- the rules, on this repository ---------------------------------------------------------------

def test_no_import_cycles():
    cycles = import_cycles(ROOT)
    assert cycles == [], f"{len(cycles)} import cycles in matcher/:\n" + "\n".join(
        " -> ".join([*c, c[0]]) for c in cycles)


def test_no_module_over_the_size_limit():
    over = oversized_modules(ROOT)
    assert over == {}, f"modules over {MAX_LINES} lines:\n" + "\n".join(
        f"{path}: {n} lines" for path, n in sorted(over.items(), key=lambda item: -item[1]))


def test_kind_names_live_only_in_the_registry():
    found = kind_name_literals(ROOT, registry_kind_names())
    assert found == [], (f"{len(found)} kind names written as string literals outside "
                         f"{' and '.join(KIND_ALLOWED)}; use the registry:\n" + "\n".join(found))


# --- the checkers can fail and can pass ----------------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_cycle_checker_catches_cycles_of_every_import_form(tmp_path):
    clean = _write(tmp_path / "clean", {
        "pkg/__init__.py": "from pkg import a\n",  # a package importing its submodule: an edge
        "pkg/a.py": "import os\nfrom pkg.sub import b\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/b.py": "def f():\n    from pkg import sub\n",  # the package: sub/__init__, no cycle
    })
    assert import_cycles(clean, "pkg") == []
    typing_only = _write(tmp_path / "typing", {
        "pkg/__init__.py": "",
        "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
        "pkg/b.py": "import pkg.a\n",
    })
    assert import_cycles(typing_only, "pkg") == []  # a type checker's import never runs
    assert set(import_graph(clean, "pkg").edges) == {("pkg", "pkg.a"), ("pkg.a", "pkg.sub.b"),
                                                     ("pkg.sub.b", "pkg.sub")}
    cases = {
        "plain": {"pkg/a.py": "import pkg.b\n", "pkg/b.py": "import pkg.a\n"},
        "from_submodule": {"pkg/a.py": "from pkg import b\n", "pkg/b.py": "from pkg.a import x\n"},
        "in_function": {"pkg/a.py": "from pkg.b import y\n", "pkg/b.py": "def f():\n    from pkg.a import x\n"},
        "relative": {"pkg/a.py": "from . import b\n", "pkg/b.py": "from .a import x\n"},
        "init": {"pkg/__init__.py": "from pkg.a import x\n", "pkg/a.py": "from pkg import y\n"},
    }
    for case, files in cases.items():
        root = _write(tmp_path / case, {"pkg/__init__.py": "", **files})
        cycles = import_cycles(root, "pkg")
        assert len(cycles) == 1, (case, cycles)
    assert import_cycles(tmp_path / "plain", "pkg") == [["pkg.a", "pkg.b"]]
    assert import_cycles(tmp_path / "init", "pkg") == [["pkg", "pkg.a"]]


def test_size_checker_catches_a_601_line_module(tmp_path):
    _write(tmp_path, {
        "matcher/ok.py": "x = 1\n" * 600,
        "matcher/store/migrations/versions/big.py": "x = 1\n" * 601,
        "app_pages/page.py": "x = 1\n" * 10,
        "app.py": "x = 1\n" * 601,
        "notes/other.py": "x = 1\n" * 900,  # not a checked place
    })
    assert oversized_modules(tmp_path) == {"app.py": 601, "matcher/store/migrations/versions/big.py": 601}
    (tmp_path / "app.py").write_text("x = 1\n" * 600)
    (tmp_path / "matcher/store/migrations/versions/big.py").unlink()
    assert oversized_modules(tmp_path) == {}


def test_kind_checker_catches_literals_but_not_docstrings_or_comments(tmp_path):
    _write(tmp_path, {
        "matcher/docking/kinds.py": 'KINDS = {"east_west": 1, "enterprise": 2}\n',
        "matcher/vocab.py": 'ENTERPRISE = "enterprise"\n',
        "matcher/engine.py": '"""Docking east_west pairs."""\n\n# kind "east_west"\n'
                             'def f(kind):\n    """east_west"""\n    return kind == "east_west"\n',
        "app_pages/page.py": 'LABEL = f"east_west{1}"\nOTHER = "east_west_extra"\n',
        "scripts/run.py": 'class A:\n    "enterprise"\n    x = ["enterprise"]\n',
        "tests/test_x.py": 'X = "east_west"\n',  # tests are not scanned
    })
    assert kind_name_literals(tmp_path, ["east_west", "enterprise"]) == [
        "app_pages/page.py:1:'east_west'",
        "matcher/engine.py:6:'east_west'",
        "scripts/run.py:3:'enterprise'",
    ]
    _write(tmp_path, {"matcher/engine.py": '"""Docking east_west pairs."""\ndef f(kind):\n    return kind\n',
                      "app_pages/page.py": "", "scripts/run.py": ""})
    assert kind_name_literals(tmp_path, ["east_west", "enterprise"]) == []


def unhinted_signatures(root: Path, package: str = "matcher") -> list[str]:
    """``file:line name [missing]`` for public functions and methods (no leading ``_``) whose
    parameters (``self``/``cls`` aside) or return lack a type hint; migrations are left out."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                args = [a for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                        if a.arg not in ("self", "cls")]
                missing = [a.arg for a in args if a.annotation is None]
                if node.returns is None:
                    missing.append("return")
                if missing:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} {missing}")
    return found


def test_public_signatures_have_type_hints():
    found = unhinted_signatures(ROOT)
    assert found == [], "public signatures without type hints:\n" + "\n".join(found)


def test_type_hint_checker_can_fail(tmp_path):
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "def f(x, y: int) -> int:\n    return y\n\n"
                      "def _g(x):\n    return x\n\nclass C:\n    def m(self) -> None:\n        pass\n"})
    assert unhinted_signatures(tmp_path, "pkg") == ["pkg/a.py:1 f ['x']"]


# Streamlit renders Markdown in these elements' text (and in widget labels): text from the data must
# reach them escaped (``plain``), or as a message from ``shown``; counts as ``int``. A call whose text
# cannot be told safe from the code carries ``# markdown-safe: <why>`` on one of its lines.
MARKDOWN_TEXT = {"error", "warning", "info", "success", "toast", "caption", "markdown", "write", "subheader",
                 "header", "title", "expander", "popover", "status", "button", "form_submit_button",
                 "download_button", "checkbox", "toggle", "radio", "selectbox", "multiselect", "text_input",
                 "text_area", "number_input", "slider", "select_slider", "file_uploader", "date_input",
                 "time_input", "segmented_control", "pills", "metric", "tabs", "page_link"}
MARKDOWN_KEYWORDS = ("label", "body", "help", "placeholder", "caption")
#: Calls whose result is safe in Markdown: escaping, messages, counts, and the code's own vocabularies.
SAFE_TEXT_CALLS = {"plain", "shown", "len", "int", "round", "fmt_number", "fmt_date", "kind_label",
                   "preset_label", "role_label", "stage_label", "table_label", "feature_label", "region_label",
                   "outcome_stage_label", "outcome_label"}
APP_PLACES = ("app.py", "app_pages", "app_components")
#: Widgets whose options are Markdown too (a selectbox's are plain text): their format_func must be safe.
MARKDOWN_OPTIONS = {"radio", "pills", "segmented_control"}


def _markdown_safe(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):  # a value with a number format (f"{x:,.0f}") is a number
        return all(not isinstance(v, ast.FormattedValue) or v.format_spec is not None or _markdown_safe(v.value)
                   for v in node.values)
    if isinstance(node, ast.BinOp):
        return _markdown_safe(node.left) and _markdown_safe(node.right)
    if isinstance(node, ast.IfExp):
        return _markdown_safe(node.body) and _markdown_safe(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(_markdown_safe(e) for e in node.elts)
    if isinstance(node, ast.ListComp):
        return _markdown_safe(node.elt)
    if isinstance(node, ast.Call):
        func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if func == "t":  # the label is the code's; each value filled in must be safe itself
            return all(_markdown_safe(k.value) for k in node.keywords)
        return func in SAFE_TEXT_CALLS
    return False


def markdown_from_data(root: Path, places: tuple[str, ...] = APP_PLACES) -> list[str]:
    """``file:line text`` for each Markdown-rendering call of the app whose text may come from data."""
    found = []
    for path in python_files(root, places):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == "update":  # st.status(...).update(label=...); not dict.update
                texts = [k.value for k in node.keywords if k.arg == "label"]
            elif name in MARKDOWN_TEXT:
                texts = [*node.args[:1], *(k.value for k in node.keywords if k.arg in MARKDOWN_KEYWORDS)]
            else:
                continue
            if name in MARKDOWN_OPTIONS:
                shown = next((k.value for k in node.keywords if k.arg == "format_func"), None)
                if shown is None:  # the options themselves are shown
                    texts += node.args[1:2] + [k.value for k in node.keywords if k.arg == "options"]
                elif isinstance(shown, ast.Lambda):
                    texts.append(shown.body)
                elif not (isinstance(shown, ast.Name) and shown.id in SAFE_TEXT_CALLS):
                    texts.append(shown)
            if any("# markdown-safe:" in line for line in lines[node.lineno - 1:node.end_lineno]):
                continue
            found += [f"{path.relative_to(root)}:{node.lineno} {ast.unparse(text)[:90]}"
                      for text in texts if not _markdown_safe(text)]
    return found


def test_text_from_data_reaches_markdown_escaped():
    found = markdown_from_data(ROOT)
    assert found == [], "Markdown-rendering calls whose text may come from data (wrap it in plain()):\n" + \
        "\n".join(found)


def test_markdown_checker_can_fail(tmp_path):
    _write(tmp_path, {"app_pages/page.py": (
        "st.error(message(str(err)))\n"
        "st.success(t('added', name=name, n=int(n)))\n"
        "box.caption(f'{row.name} and {share:.0%}')\n"
        "progress.update(label=t('done', what=what), state='complete')\n"
        "st.selectbox(label, options)\n"
        "st.info(flash)  # markdown-safe: t() with plain() names\n"
        "st.error(shown(err)); st.caption(t('n', n=len(x), who=plain(who))); d.update(other)\n"
        "st.radio(t('use'), paths, format_func=lambda p: p.rsplit('/', 1)[-1])\n"
        "st.radio(t('kind'), kinds, format_func=kind_label); st.pills(t('lang'), ('zh', 'en'))\n")})
    assert markdown_from_data(tmp_path, ("app_pages",)) == [
        "app_pages/page.py:1 message(str(err))",
        "app_pages/page.py:2 t('added', name=name, n=int(n))",
        "app_pages/page.py:3 f'{row.name} and {share:.0%}'",
        "app_pages/page.py:4 t('done', what=what)",
        "app_pages/page.py:5 label",
        "app_pages/page.py:8 p.rsplit('/', 1)[-1]",
    ]
