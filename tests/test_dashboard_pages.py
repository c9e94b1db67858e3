"""The dashboards through the router with AppTest, on the hand-made base (tests/dashboard_data).

SALES_TODAY pins the day to 2026-11-25, so the tiles show the values worked out by hand in
tests/test_metrics.py.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sales_core.metrics import common, overview, pipeline, revenue
from tests.dashboard_data import OPPORTUNITIES, write_base
from tests.test_pages import APP, text_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def hand_made_base(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    st.cache_data.clear()
    st.cache_resource.clear()
    base = write_base(tmp_path / "base")
    monkeypatch.setenv("SALES_DEMO_DIR", str(base))
    monkeypatch.setenv("SALES_TODAY", "2026-11-25")
    yield base


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def charts(at: AppTest) -> list[dict[str, object]]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_overview__tiles_per_currency() -> None:
    at = open_page()
    tiles = metrics(at)
    assert tiles["Open pipeline"] == "33,000 USD"
    assert tiles["Weighted pipeline"] == "13,000 USD"
    assert tiles["MRR"] == "3,700 USD"
    assert tiles["ARR"] == "44,400 USD"
    assert tiles["Invoiced in November"] == "100 USD"
    assert tiles["Receivables outstanding"] == "2,800 USD"
    assert tiles["More than 60 days past due"] == "1,800 USD"
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["MRR"] == "+500 USD vs a month ago"
    assert deltas["Invoiced in November"] == "-900 USD vs last month"
    # another currency: never added to the USD figures
    at.button_group[0].set_value("JPY").run()
    assert metrics(at)["MRR"] == "99,999 JPY"
    at.button_group[0].set_value("EUR").run()
    assert metrics(at)["Weighted pipeline"] == "6,400 EUR"
    every = at.dataframe[0].value.set_index("currency")
    assert every.loc["USD", "open_pipeline"] == "33,000.00 USD"  # the table keeps the cents


def test_pipeline__charts_win_rate_and_table() -> None:
    at = open_page("pages/pipeline.py")
    funnel, by_month = charts(at)
    assert funnel["data"][0]["type"] == "funnel"
    assert funnel["data"][0]["y"][-1] == "On hold (unknown stage)"
    assert [trace["name"] for trace in by_month["data"]] == ["Lead", "Proposal", "On hold"]
    tiles = metrics(at)
    assert (tiles["Win rate"], tiles["Won"], tiles["Lost"]) == ("50 %", "1", "1")
    assert tiles["Average sales cycle"] == "80 days"
    assert "record dates instead" in text_of(at)
    assert "1 without a value" in text_of(at)
    stale, table = at.dataframe[0].value, at.dataframe[1].value
    assert list(stale["name"]) == ["Beta hub"]
    assert len(table) == 7
    alpha = table.set_index("name").loc["Alpha hub"]
    assert (alpha["score"], alpha["recommendation"]) == (11, "Pursue")
    assert alpha["qualify"] == "/qualify?opportunity=recOppAlpha"
    [download] = at.get("download_button")
    assert "7 opportunities" in download.proto.label


def test_pipeline__filters() -> None:
    at = open_page("pages/pipeline.py")
    owner, category, stage = at.multiselect
    owner.set_value(["Jonas Weber"]).run()
    zeta = OPPORTUNITIES[6]["fields"]["Opportunity Name"]
    assert list(at.dataframe[-1].value["name"]) == ["Beta hub", zeta]
    owner.set_value([]).run()
    category.set_value(["Giving"]).run()
    assert set(at.dataframe[-1].value["name"]) == {"Gamma gift", "Theta old win"}
    category.set_value([]).run()
    stage.set_value(["Lead", "Proposal"]).run()
    assert list(at.dataframe[-1].value["name"]) == ["Alpha hub", "Beta hub"]
    at.date_input(key="pipeline_close").set_value((date(2027, 1, 1), date(2027, 3, 1))).run()
    assert list(at.dataframe[-1].value["name"]) == ["Beta hub"]
    stage.set_value([]).run()
    at.number_input(key="stale_days").set_value(20).run()
    assert not at.exception
    # quiet for more than 20 days, closing in 2027 (the date filter stays): Beta 85, Gamma 24
    assert list(at.dataframe[0].value["name"]) == ["Beta hub", "Gamma gift"]
    at.selectbox(key="pipeline_currency").set_value("EUR").run()
    assert "EUR" in text_of(at)
    assert not at.exception


def test_pipeline__a_deal_without_expected_close_date_stays_in_view() -> None:
    at = open_page("pages/pipeline.py")
    at.selectbox(key="pipeline_currency").set_value("GBP").run()
    assert not at.exception
    assert list(at.dataframe[-1].value["name"]) == ["Iota hub"]
    assert "No open opportunity with a value and an expected close date" in text_of(at)


def test_revenue__charts_aging_communities_radar() -> None:
    at = open_page("pages/revenue.py")
    figures = charts(at)
    assert len(figures) == 5  # MRR, invoiced/paid, aging, communities, radar
    mrr = figures[0]
    names = [t["name"] for t in mrr["data"]]
    assert names == ["MRR", "MRR, contracted ahead", "Weighted pipeline closing (right axis)"]
    aging = figures[2]["data"][0]
    assert aging["x"] == ["Current", "1–30 days", "31–60 days", "61–90 days", "Over 90 days"]
    assert aging["y"] == [100.0, 200.0, 700.0, 1100.0, 700.0]
    assert figures[3]["data"][0]["y"] == ["CryoCloud", "Carpentries"]  # largest at the top
    tiles = metrics(at)
    assert tiles["Invoiced, last 12 months"] == "3,800.00 USD"
    assert tiles["Fiscal sponsor's share"] == "490.00 USD"
    assert tiles["Organisation's share"] == "3,310.00 USD"
    at.selectbox(key="aging_bucket").set_value("61–90 days").run()
    behind = at.dataframe[1].value
    assert list(behind["number"]) == ["INV-2026-0006", "INV-2026-0005"]
    radar = at.dataframe[-1].value
    assert list(radar["bucket"]) == ["Ended, still Active", "Within 30 days", "31–90 days"]
    at.slider(key="top_communities").set_value(3).run()
    assert not at.exception


def test_revenue__a_currency_with_one_contract() -> None:
    at = open_page("pages/revenue.py")
    at.selectbox(key="revenue_currency").set_value("JPY").run()
    assert not at.exception
    assert "No receivable in JPY is outstanding" in text_of(at)
    mrr = charts(at)[0]
    assert max(mrr["data"][0]["y"]) == 99999.0


@pytest.mark.parametrize("page", ["app.py", "pages/pipeline.py", "pages/revenue.py"])
def test_no_data_yet__said_in_words(
    page: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SALES_DEMO_DIR", str(tmp_path / "missing"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    assert "No data yet" in text_of(at)


def test_a_sync_shows_new_data_at_once(hand_made_base: Path) -> None:
    at = open_page()
    assert metrics(at)["Open pipeline"] == "33,000 USD"
    data = json.loads((hand_made_base / "opportunities.json").read_text())
    for record in data["records"]:
        if record["id"] == "recOppAlpha":
            record["fields"]["Opportunity Value"] = 15000
    (hand_made_base / "opportunities.json").write_text(json.dumps(data))
    at.run()
    assert metrics(at)["Open pipeline"] == "33,000 USD"  # cached until the data changes
    at.sidebar.button[0].click().run()
    assert metrics(at)["Open pipeline"] == "38,000 USD"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_house_rules__imports() -> None:
    for page in (ROOT / "pages").glob("*.py"):
        assert not _imports(page) & {"duckdb", "pyairtable"}, page
    for module in (ROOT / "sales_core").rglob("*.py"):
        assert "streamlit" not in _imports(module), module


@pytest.mark.parametrize("page", ["app.py", "pages/pipeline.py", "pages/revenue.py"])
def test_a_rerun_reads_the_cache_not_the_database(
    page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(page)
    queries: list[str] = []

    def counting_frame(settings: object, sql: str, params: object) -> object:
        queries.append(sql)
        return common.frame(settings, sql, params)  # type: ignore[arg-type]

    for module in (common, overview, pipeline, revenue):
        monkeypatch.setattr(module, "frame", counting_frame)
    at.run()
    assert not at.exception
    assert queries == []
