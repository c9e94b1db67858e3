"""Hostile text from AirTable in a real browser: every page shows it exactly as typed.

The loopback base serves the demo data with stages and communities that carry HTML and
Markdown. Plotly reads a subset of HTML in labels, legends, hovers and ticks; Streamlit reads
Markdown (and its own :colour[…] syntax) in captions, alerts and metric labels. Neither may
turn data into links, bold or giant text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sales_core.config import load_settings
from sales_core.sync import run_sync
from tests.conftest import SELLER_ENV, serve_demo
from tests.e2e.conftest import loose, screenshot, settled
from tests.fake_airtable import FakeAirtable

TOKEN = "test-token-0123456789"
BASE = "appTESTBASE000001"
LINK_STAGE = '<a href="https://evil.example/">Proposal</a>'
BOLD_STAGE = "<b>B</b><br>Lead"
MARKDOWN_STAGE = "Lead **bold** [x](https://evil.example) :red[alarm]"
HUGE_COMMUNITY = '<span style="font-size:60px">HUGE</span>'
LINK_COMMUNITY = '<a href="https://evil.example/">Click me</a>'


@pytest.fixture
def hostile_base() -> Iterator[FakeAirtable]:
    def hostile(table_key: str, records: list[dict[str, Any]]) -> None:
        if table_key == "opportunities":
            open_ones = [r for r in records if "Closed" not in r["fields"].get("Stage", "")]
            stages = [LINK_STAGE, BOLD_STAGE, MARKDOWN_STAGE] * 2
            for record, stage in zip(open_ones, stages, strict=False):
                record["fields"]["Stage"] = stage
        if table_key == "contracts":
            communities = [HUGE_COMMUNITY, LINK_COMMUNITY] * 6
            for record, community in zip(records, communities, strict=False):
                record["fields"]["Community"] = community

    with FakeAirtable(token=TOKEN, base_id=BASE) as server:
        serve_demo(server, hostile)
        yield server
    assert not server.internal_errors, server.internal_errors[0]


def links_in_charts(page: Page) -> int:
    return int(page.locator(".js-plotly-plot a").count())


def chart_text(page: Page) -> str:
    return str(page.locator(".js-plotly-plot").evaluate_all("ns => ns.map(n => n.textContent)"))


def test_hostile_text_is_plain_on_every_page(
    start_app: Any, page: Page, tmp_path: Path, hostile_base: FakeAirtable
) -> None:
    env = {
        **SELLER_ENV,
        "AIRTABLE_API_KEY": TOKEN,
        "AIRTABLE_BASE_ID": BASE,
        "AIRTABLE_ENDPOINT_URL": hostile_base.endpoint_url,
        "AIRTABLE_MAX_RETRIES": "0",
        "SALES_DB": str(tmp_path / "e2e.duckdb"),
        "INVOICE_DIR": str(tmp_path / "invoices"),
    }
    run_sync(load_settings(env, tmp_path / "no-secrets.toml"))
    app = start_app(**env)
    page.goto(app.url)
    expect(page.get_by_role("heading", name="Sales & invoicing console")).to_be_visible(
        timeout=60_000
    )

    page.goto(f"{app.url}/pipeline")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
    settled(page)
    drawn = chart_text(page)
    assert links_in_charts(page) == 0
    assert "Proposal</a> (unknown stage)" in drawn and "<b>B</b><br>Lead" in drawn
    # The caption about unknown stages: the text as typed, no bold, no link, no colour.
    caption = page.get_by_test_id("stCaptionContainer").filter(has_text="stages the schema")
    expect(caption).to_contain_text(loose(MARKDOWN_STAGE))
    assert caption.locator("a, strong, b").count() == 0, caption.inner_html()
    screenshot(page, "hostile-pipeline")

    page.goto(f"{app.url}/revenue?section=By+community")  # the community names' chart
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
    settled(page)
    assert links_in_charts(page) == 0
    drawn = chart_text(page)
    assert HUGE_COMMUNITY in drawn or LINK_COMMUNITY in drawn
    big = page.locator(
        ".js-plotly-plot [style*='font-size: 60px'], .js-plotly-plot [style*='font-size:60px']"
    )
    assert big.count() == 0
    screenshot(page, "hostile-revenue")

    # the other tabs hold the hostile names in tables, statements and the renewal radar
    for name in (
        "revenue?section=Receivables",
        "revenue?section=Renewals",
        "invoices",
        "qualify",
        "data_health",
    ):
        page.goto(f"{app.url}/{name}")
        page.wait_for_selector("[data-testid='stMain']", timeout=60_000)
        settled(page)
        assert page.get_by_test_id("stException").count() == 0, name
        assert page.locator("[data-testid='stMain'] a[href^='https://evil.example']").count() == 0
