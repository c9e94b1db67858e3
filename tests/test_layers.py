"""The house rules that reading the imports can check: sales_core (every subpackage included)
has no Streamlit, only its store module talks to DuckDB, and the pages reach DuckDB and
AirTable only through sales_core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


CORE = sorted((ROOT / "sales_core").rglob("*.py"))


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_core_listing_reaches_into_subpackages() -> None:
    assert any(p.parent.name == "metrics" for p in CORE)


@pytest.mark.parametrize("path", CORE, ids=_name)
def test_sales_core_never_imports_streamlit(path: Path) -> None:
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize("path", CORE, ids=_name)
def test_only_the_store_imports_duckdb(path: Path) -> None:
    if path == ROOT / "sales_core" / "store.py":
        return
    assert "duckdb" not in imported_modules(path), "talk to DuckDB through sales_core.store"


UI = [
    ROOT / "app.py",
    *sorted((ROOT / "pages").rglob("*.py")),
    *sorted((ROOT / "ui").rglob("*.py")),
]


@pytest.mark.parametrize("path", UI, ids=_name)
def test_pages_never_import_duckdb_or_pyairtable(path: Path) -> None:
    assert not imported_modules(path) & {"duckdb", "pyairtable"}


def test_the_pages_folder_holds_the_pages_only() -> None:
    # Streamlit routes every file of pages/ as a page: a shared module there would be one.
    from ui.chrome import PAGES

    files = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if p.name != "__init__.py"}
    assert files == {script for script, _ in PAGES if script != "app.py"}
    for path in UI:
        assert not {m for m in imported_modules(path) if m.startswith("pages")}, path


@pytest.mark.parametrize("path", [*CORE, *UI], ids=_name)
def test_no_code_touches_streamlits_page_manager(path: Path) -> None:
    # Its class attributes are private: writing them once kept st.navigation working.
    assert "PagesManager" not in path.read_text(encoding="utf-8")


# Errors a caller could meet are SalesErrors, so that every page and the CLI can say them in
# words. Left out: a model field without its Col declaration (a TypeError when the module is
# imported, a programming error) and the AirTable client's unreachable branch.
_BUILTIN_ERRORS = {
    "Exception",
    "ValueError",
    "RuntimeError",
    "TypeError",
    "KeyError",
    "OSError",
    "LookupError",
    "PermissionError",
}
_ALLOWED = {("sales_core/schema.py", "TypeError"), ("sales_core/airtable.py", "AssertionError")}


@pytest.mark.parametrize("path", CORE, ids=_name)
def test_sales_core_raises_only_sales_errors(path: Path) -> None:
    raised = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            if isinstance(func, ast.Name) and func.id in _BUILTIN_ERRORS:
                raised.add((_name(path), func.id))
    assert raised <= _ALLOWED, raised
