"""The house rules that reading the imports can check: sales_core has no Streamlit, and the
pages reach DuckDB and AirTable only through sales_core."""

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


@pytest.mark.parametrize("path", sorted((ROOT / "sales_core").glob("*.py")), ids=lambda p: p.name)
def test_sales_core_never_imports_streamlit(path: Path) -> None:
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize(
    "path", [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))], ids=lambda p: p.name
)
def test_pages_never_import_duckdb_or_pyairtable(path: Path) -> None:
    assert not imported_modules(path) & {"duckdb", "pyairtable"}
