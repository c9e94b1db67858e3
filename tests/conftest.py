"""Shared fixtures: an isolated environment per test, a fresh store, the fake AirTable."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sales_core import invoicing
from sales_core.billing import Month
from sales_core.config import (
    DEFAULT_DEMO_DIR,
    DEFAULT_TABLES,
    SETTING_NAMES,
    Settings,
    load_settings,
)
from sales_core.sync import run_sync
from tests.fake_airtable import FakeAirtable
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


LoopbackSettings = Callable[..., Settings]


@pytest.fixture
def loopback_settings(tmp_path: Path) -> LoopbackSettings:
    """Settings for a loopback AirTable server, tuned for tests: fast pacing, quick retries.

    `loopback_settings(server, AIRTABLE_MAX_RETRIES="0")` overrides any setting; `None`
    leaves one at the product's default.
    """

    def make(server: FakeAirtable, **env: str | None) -> Settings:
        values = {
            **SELLER_ENV,
            "AIRTABLE_API_KEY": server.token,
            "AIRTABLE_BASE_ID": server.base_id,
            "AIRTABLE_ENDPOINT_URL": server.endpoint_url,
            "SALES_DB": str(tmp_path / "sales.duckdb"),
            "INVOICE_DIR": str(tmp_path / "invoices"),
            "AIRTABLE_REQUESTS_PER_SECOND": "100",
            "AIRTABLE_RATE_LIMIT_PENALTY": "0.05",
            "AIRTABLE_RETRY_BACKOFF": "0.01",
            "AIRTABLE_MAX_RETRIES": "1",
            "AIRTABLE_TIMEOUT": "2",
            **env,
        }
        chosen = {k: v for k, v in values.items() if v is not None}
        return load_settings(chosen, tmp_path / "no-secrets.toml")

    return make


# The demo's current month, and the loopback base's credentials.
NOVEMBER = Month(2026, 11)
# A seller with real-looking details: with AirTable configured, the demo placeholders refuse to
# generate or authorize (seller_settings.require_real_seller).
SELLER_ENV = {
    "INVOICE_SELLER_NAME": "Managed Hubs Collaborative, Inc.",
    "INVOICE_SELLER_ADDRESS": "c/o Open Science Fiscal Sponsor\n100 Harbor Way\nOakland, CA 94607",
    "INVOICE_SELLER_TAX_ID": "EIN 12-3456789",
    "INVOICE_ACCOUNT_NUMBER": "000123456789",
    "INVOICE_ROUTING_NUMBER": "121000248",
    "INVOICE_BANK_NAME": "Example Community Bank",
}

TOKEN = "test-token-0123456789"
BASE = "appTESTBASE000001"


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The demo data synced into a fresh store; PDFs under tmp_path."""
    monkeypatch.setenv("INVOICE_DIR", str(tmp_path / "invoices"))
    configured = load_settings()
    run_sync(configured)
    return configured


@pytest.fixture
def airtable(loopback_settings: LoopbackSettings) -> Iterator[tuple[FakeAirtable, Settings]]:
    """A fake base serving the demo data, and settings pointing at it (synced once)."""
    with FakeAirtable(token=TOKEN, base_id=BASE) as server:
        serve_demo(server)
        settings = loopback_settings(
            server,
            AIRTABLE_REQUESTS_PER_SECOND="200",
            AIRTABLE_RATE_LIMIT_PENALTY="0.2",
            AIRTABLE_MAX_RETRIES="2",
            AIRTABLE_TIMEOUT=None,
        )
        run_sync(settings)
        yield server, settings
        assert not server.internal_errors


def numbers_of(result: invoicing.RunResult) -> list[str]:
    return [d.number or "" for d in result.created]


def sequence(number: str) -> int:
    found = re.match(r"INV-2026-(\d+)$", number)
    assert found, number
    return int(found.group(1))


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: object) -> str:
    """What a person reads of Markdown source the app escaped (formatting.markdown_text): the
    backslash escapes resolved, the invisible word joiners that stop autolinks dropped."""
    return _ESCAPED.sub(r"\1", str(markdown)).replace("\u2060", "")


BAD_SALES_DB_KINDS = ("directory", "text file", "device")


def bad_sales_db(kind: str, tmp_path: Path) -> Path:
    """A SALES_DB that is no DuckDB file: a folder, a text file, or /dev/null."""
    if kind == "directory":
        path = tmp_path / "folder"
        path.mkdir()
        return path
    if kind == "text file":
        path = tmp_path / "notes.txt"
        path.write_text("not a database\n" * 100)
        return path
    return Path("/dev/null")


def serve_demo(
    server: FakeAirtable, edit: Callable[[str, list[dict[str, Any]]], None] | None = None
) -> None:
    """The demo files as the loopback base's tables; `edit(table_key, records)` may change the
    records of each table first."""
    for table_key, table in DEFAULT_TABLES.items():
        records = json.loads((DEFAULT_DEMO_DIR / f"{table_key}.json").read_text("utf-8"))["records"]
        if edit is not None:
            edit(table_key, records)
        server.set_records(table, records)


def free_port_number() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def use_in_environment(
    monkeypatch: pytest.MonkeyPatch, server: FakeAirtable, settings: Settings, **extra: str
) -> None:
    """Point the environment (the CLI's and the pages' settings) at this loopback base and
    these settings' database and PDF folder."""
    for name, value in {
        **SELLER_ENV,
        "AIRTABLE_API_KEY": server.token,
        "AIRTABLE_BASE_ID": server.base_id,
        "AIRTABLE_ENDPOINT_URL": server.endpoint_url,
        "SALES_DB": str(settings.db_path),
        "INVOICE_DIR": str(settings.invoice_dir),
        **extra,
    }.items():
        monkeypatch.setenv(name, value)


def invoices_tab(at: Any, section: str) -> Any:
    """The Invoices page (an AppTest on it) with another tab open, as a click on it does: the
    page reads and draws only the open tab ("Monthly run", "Receivables", "Invoices made
    here")."""
    at.session_state["invoices_section"] = section
    at.run()
    assert not at.exception, at.exception
    return at
