"""Shared fixtures: an isolated environment per test, a fresh store, the fake AirTable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sales_core.config import SETTING_NAMES, Settings, load_settings
from tests.fixtures_airtable import fake_airtable  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's settings or secrets file, and each gets its own database."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SALES_OPERATOR", raising=False)
    monkeypatch.setenv("SALES_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.setenv("SALES_DB", str(tmp_path / "sales.duckdb"))
    yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for the demo source and a fresh database under tmp_path."""
    return load_settings()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The test's database file (created on first use)."""
    return tmp_path / "sales.duckdb"
