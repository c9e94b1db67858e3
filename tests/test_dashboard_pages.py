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


def open_tab(at: AppTest, section: str) -> AppTest:
    """The Revenue page with another tab chosen, as a click on it does (the tab reruns)."""
    at.session_state["revenue_section"] = section
    at.run()
    assert not at.exception, at.exception
    return at


def test_revenue__each_tab_draws_its_own_charts_only() -> None:
    at = open_page("pages/revenue.py")
    assert [t.label for t in at.tabs] == [
        "Recurring revenue",
        "Receivables",
        "By community",
        "Renewals",
    ]
    figures = charts(at)
    assert len(figures) == 2  # MRR, invoiced/paid: the other tabs are not read yet
    names = [t["name"] for t in figures[0]["data"]]
    assert names == ["MRR", "MRR, contracted ahead", "Weighted pipeline closing (right axis)"]

    at = open_tab(at, "Receivables")
    [aging] = charts(at)
    assert aging["data"][0]["x"] == [
        "Current",
        "1–30 days",
        "31–60 days",
        "61–90 days",
        "Over 90 days",
    ]
    assert aging["data"][0]["y"] == [100.0, 200.0, 700.0, 1100.0, 700.0]
    assert at.query_params["section"] == "Receivables"  # a link to this view opens this tab
    at.selectbox(key="aging_bucket").set_value("61–90 days").run()
    behind = at.dataframe[1].value
    assert list(behind["number"]) == ["INV-2026-0006", "INV-2026-0005"]

    at = open_tab(at, "By community")
    [communities] = charts(at)
    assert communities["data"][0]["y"] == ["CryoCloud", "Carpentries"]  # largest at the top
    tiles = metrics(at)
    assert tiles["Invoiced, last 12 months"] == "3,800.00 USD"
    assert tiles["Fiscal sponsor's share"] == "490.00 USD"
    assert tiles["Organisation's share"] == "3,310.00 USD"
    at.slider(key="top_communities").set_value(3).run()
    assert not at.exception

    at = open_tab(at, "Renewals")
    assert len(charts(at)) == 1
    radar = at.dataframe[-1].value
    assert list(radar["bucket"]) == ["Ended, still Active", "Within 30 days", "31–90 days"]

    at = open_tab(at, "Receivables")  # coming back keeps the bucket picked
    assert at.selectbox(key="aging_bucket").value == "61–90 days"
    assert "section" not in open_tab(at, "Recurring revenue").query_params  # the default


def test_revenue__a_currency_with_one_contract() -> None:
    at = open_page("pages/revenue.py")
    at.selectbox(key="revenue_currency").set_value("JPY").run()
    assert not at.exception
    mrr = charts(at)[0]
    assert max(mrr["data"][0]["y"]) == 99999.0
    assert "No receivable in JPY is outstanding" in text_of(open_tab(at, "Receivables"))


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


# --- pointing: links, filters kept, flags, windows, downloads --------------------------------


def open_link(page: str, **query: str | list[str]) -> AppTest:
    """`page` opened from a link whose query string holds `query`."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_pipeline__a_link_reproduces_the_view() -> None:
    at = open_link(
        "pages/pipeline.py", owner="Jonas Weber", stale="20", currency="USD", funnel="Proposal"
    )
    assert at.multiselect(key="pipeline_owners").value == ["Jonas Weber"]
    assert at.number_input(key="stale_days").value == 20
    # the funnel's stage narrows the table below it, not the funnel
    assert list(at.dataframe[-1].value["name"]) == ["Beta hub"]
    assert "picked in the funnel" in text_of(at)
    funnel = charts(at)[0]["data"][0]
    assert funnel["selectedpoints"] == [2]  # Proposal stands out
    # what the page shows is what the address holds
    assert at.query_params["owner"] == "Jonas Weber"
    assert at.query_params["stale"] == "20"
    assert "currency" not in at.query_params  # the default stays out of the link


def test_pipeline__bad_values_in_the_link_are_ignored_with_a_note() -> None:
    at = open_link(
        "pages/pipeline.py",
        owner=["Jonas Weber", "Nobody"],
        stale="-3",
        close="2027-13-01..soon",
        currency="<b>XYZ</b>",
        funnel="Closed—won'; DROP TABLE",
        past_close="maybe",
    )
    note = text_of(at)
    assert "Ignored from the link" in note
    for said in ("Nobody", "-3", "2027-13-01", "XYZ", "DROP TABLE", "maybe"):
        assert said in note, said
    assert at.multiselect(key="pipeline_owners").value == ["Jonas Weber"]  # the good part stays
    assert at.number_input(key="stale_days").value == 30
    assert at.selectbox(key="pipeline_currency").value == "USD"
    assert not at.toggle(key="pipeline_past_close").value


def test_pipeline__coming_back_keeps_the_filters() -> None:
    at = open_page("pages/pipeline.py")
    at.multiselect(key="pipeline_categories").set_value(["Giving"]).run()
    at.number_input(key="stale_days").set_value(20).run()
    at.switch_page("pages/revenue.py").run()
    at.query_params.clear()  # a browser's page switch clears the query string
    at.switch_page("pages/pipeline.py").run()
    assert not at.exception
    assert at.multiselect(key="pipeline_categories").value == ["Giving"]
    assert at.number_input(key="stale_days").value == 20
    assert set(at.dataframe[-1].value["name"]) == {"Gamma gift", "Theta old win"}
    assert at.query_params["category"] == "Giving"  # and the address says so again


def test_pipeline__deals_past_their_expected_close_are_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALES_TODAY", "2026-12-20")  # Alpha was due on 15 December
    at = open_page("pages/pipeline.py")
    assert "**1** open deal is past its expected close date" in text_of(at)
    table = at.dataframe[-1].value.set_index("name")
    assert table.loc["Alpha hub", "flag"] == "⚠"
    assert table.loc["Beta hub", "flag"] == ""
    at.toggle(key="pipeline_past_close").set_value(True).run()
    assert list(at.dataframe[-1].value["name"]) == ["Alpha hub"]
    assert at.query_params["past_close"] == "1"


def test_overview__counts_deals_past_their_expected_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALES_TODAY", "2026-12-20")
    at = open_page()
    assert metrics(at)["Deals past expected close"] == "1"
    links = [p.proto for p in at.get("page_link")]
    assert "List the 1 deal past its expected close date" in [link.label for link in links]
    at.button_group[0].set_value("GBP").run()
    assert metrics(at)["Deals past expected close"] == "0"
    assert at.query_params["currency"] == "GBP"


def test_pipeline__the_funnel_and_the_win_rate_state_one_window() -> None:
    at = open_page("pages/pipeline.py")
    window = "closed 2025-11-26 to 2026-11-25"
    assert window in charts(at)[0]["layout"]["title"]["text"]
    assert any(window in h.value for h in at.subheader)
    # Theta won in June 2025, before the window: neither the funnel nor the win rate has it
    funnel = charts(at)[0]["data"][0]
    won = funnel["x"][funnel["y"].index("Closed—won")]
    assert won == int(metrics(at)["Won"]) == 1


def _csv_buttons(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button") if "(CSV)" in b.proto.label]


def test_revenue__every_table_has_a_csv_download() -> None:
    at = open_page("pages/revenue.py")
    tables = buttons = 0
    for section in ("Receivables", "By community", "Renewals"):
        open_tab(at, section)
        tables += len(at.dataframe)
        buttons += len(_csv_buttons(at))
    # aging buckets, the invoices behind them, aging by community, the statement; revenue by
    # community; the renewal radar
    assert tables == buttons == 6, _csv_buttons(at)


def test_revenue__a_link_opens_the_tab_and_picks_the_bars() -> None:
    at = open_link("pages/revenue.py", section="Receivables", bucket="61–90 days")
    assert list(at.dataframe[1].value["number"]) == ["INV-2026-0006", "INV-2026-0005"]
    assert charts(at)[0]["data"][0]["selectedpoints"] == [3]  # 61–90 days
    at = open_link("pages/revenue.py", section="By community", community="Carpentries")
    assert "Invoices of **Carpentries**" in text_of(at)
    at = open_link("pages/revenue.py", section="Renewals", renewal="31–90 days")
    assert list(at.dataframe[-1].value["bucket"]) == ["31–90 days"]
    # and a value that no bar or tab has is ignored in words
    at = open_link("pages/revenue.py", section="By community", community="Nowhere", top="999")
    assert "Ignored from the link" in text_of(at)
    assert at.slider(key="top_communities").value == 10
    at = open_link("pages/revenue.py", section="Everything")
    assert "Section “Everything” is not one of the choices" in text_of(at)
    assert len(charts(at)) == 2  # the first tab


def test_data_health__every_table_has_a_csv_download_and_the_reason_shows() -> None:
    at = open_page("pages/data_health.py")
    assert len(_csv_buttons(at)) == len(at.dataframe) == 2  # quarantine, sync history
    history = at.dataframe[-1]
    order = list(history.proto.column_order)
    # the reason a sync failed next to its status, before the counts (visible at 1400 px)
    assert order.index("error") == order.index("status") + 1 < order.index("opportunities")


def test_revenue__the_community_table_counts_invoices_and_writes_amounts() -> None:
    at = open_link("pages/revenue.py", section="By community")
    table = at.dataframe[0].value.set_index("community")
    assert table.loc["Carpentries", "invoices"] == 4  # a count, not an amount
    assert table.loc["Carpentries", "invoiced"] == "2,200.00 USD"
