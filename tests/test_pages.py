"""Every page through the router with AppTest: no exception, the words a user needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sales_core.config import load_settings
from sales_core.health import sync_status
from sales_core.sync import run_sync
from tests.conftest import shown
from ui import chrome

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = [script for script, _ in chrome.PAGES]


@pytest.fixture(autouse=True)
def clear_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def run_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def text_of(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown] + [m.value for m in at.info] + [m.value for m in at.title]
    )
    parts += [str(m.value) for m in at.warning] + [str(m.value) for m in at.error]
    parts += [str(m.value) for m in at.success] + [m.value for m in at.caption]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(page: str) -> None:
    at = run_app(page)
    assert not at.exception, at.exception
    assert "Demo data" in text_of(at)  # every page says where the data comes from


def test_home__first_visit_loads_the_demo_and_shows_counts() -> None:
    at = run_app()
    assert not at.exception
    status = sync_status(load_settings().db_path)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Opportunities"] == f"{status.counts['opportunities']:,}"
    assert metrics["Contracts"] == f"{status.counts['contracts']:,}"
    assert metrics["Invoices"] == f"{status.counts['invoices']:,}"
    assert metrics["Assessments"] == f"{status.counts['qualifications']:,}"
    assert f"**{status.rejected}** quarantined" in text_of(at)
    assert "the demo data" in text_of(at)


def test_data_health__lists_quarantine_and_history() -> None:
    run_sync(load_settings())
    at = run_app("pages/data_health.py")
    assert not at.exception
    problems, history = at.dataframe[0].value, at.dataframe[1].value
    assert set(problems["severity"]) == {"rejected", "warning"}
    assert len(history) == 1
    # Filter down to one table.
    at.multiselect[0].set_value(["contracts"]).run()
    assert set(at.dataframe[0].value["table_name"]) == {"contracts"}


def test_sidebar_sync_now__shows_the_outcome() -> None:
    at = run_app()
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert any("Loaded" in s.value for s in at.sidebar.success)
    assert len(load_settings().db_path.read_bytes()) > 0


def test_sidebar_sync_now__failure_is_said_in_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = run_app()
    monkeypatch.setenv("SALES_DEMO_DIR", str(tmp_path / "missing"))
    at.sidebar.button[0].click().run()
    assert not at.exception
    [error] = at.sidebar.error
    assert "demo file" in error.value and "previous data is unchanged" in error.value
    # The page still shows the data of the earlier sync, and says the latest failed.
    assert "latest sync failed" in text_of(at)


def test_wrong_setting__one_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRTABLE_BASE_ID", "appABCDEFGHIJ1234")
    at = run_app()
    assert not at.exception
    [error] = at.error
    assert "AIRTABLE_API_KEY" in shown(error.value)
