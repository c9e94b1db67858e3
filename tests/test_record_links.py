"""Every record shown links to its AirTable record, through the pages, on a loopback base.

The table ids come from the base's schema API at each sync; a token without the
schema.bases:read scope gets a 403 there, and the pages then show the names without links and
say which scope would add them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sales_core.config import Settings
from sales_core.sync import run_sync
from tests.conftest import use_in_environment
from tests.fake_airtable import FakeAirtable
from tests.test_pages import APP, text_of


@pytest.fixture(autouse=True)
def clear_caches() -> Iterator[None]:
    st.cache_data.clear()
    yield


@pytest.fixture
def linked_app(
    airtable: tuple[FakeAirtable, Settings], monkeypatch: pytest.MonkeyPatch
) -> tuple[FakeAirtable, Settings]:
    server, settings = airtable
    use_in_environment(monkeypatch, server, settings, SALES_TODAY="2026-11-25")
    return server, settings


def page(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(name).run()
    assert not at.exception, at.exception
    return at


def _link(server: FakeAirtable, table: str) -> re.Pattern[str]:
    return re.compile(rf"https://airtable\.com/{server.base_id}/{server.table_id(table)}/rec\w+$")


def test_pipeline_and_revenue_link_each_record(linked_app: tuple[FakeAirtable, Settings]) -> None:
    server, _ = linked_app
    at = page("pages/pipeline.py")
    table = at.dataframe[-1].value
    opportunity = _link(server, "Opportunities")
    assert all(opportunity.match(url) for url in table["airtable"])
    # the link goes to the record of that row
    row = table.iloc[0]
    record = next(r for r in server.records("Opportunities") if row["airtable"].endswith(r["id"]))
    assert record["fields"]["Opportunity Name"] == row["name"]
    revenue = page("pages/revenue.py")
    revenue.session_state["revenue_section"] = "Receivables"
    behind = revenue.run().dataframe[1].value
    assert all(_link(server, "Invoices").match(u) for u in behind["airtable"] if u)
    revenue.session_state["revenue_section"] = "Renewals"
    radar = revenue.run().dataframe[-1].value
    assert all(_link(server, "Contracts").match(u) for u in radar["airtable"])


def test_data_health_links_the_quarantined_records(
    linked_app: tuple[FakeAirtable, Settings],
) -> None:
    server, _ = linked_app
    problems = page("pages/data_health.py").dataframe[0].value
    for table_name, record_id, url in zip(
        problems["table_name"], problems["record_id"], problems["airtable"], strict=True
    ):
        if record_id.startswith("rec"):
            assert url.endswith(f"/{record_id}") and f"/{server.base_id}/" in url, table_name


def test_without_the_schema_scope_names_show_without_links(
    linked_app: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = linked_app
    server.schema_access = False
    run_sync(settings)
    st.cache_data.clear()
    at = page("pages/pipeline.py")
    assert "airtable" not in at.dataframe[-1].value.columns
    assert "schema.bases:read" in text_of(at)
    assert "airtable" not in page("pages/data_health.py").dataframe[0].value.columns
