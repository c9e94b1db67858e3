"""The dashboards in a real browser: each page draws its charts and shows no exception box.

Once on the demo data and once on the large dataset of benchmarks/pages.py (20,000
opportunities, 3,000 contracts, 100,000 invoices). Screenshots land in tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sales_core import demogen
from sales_core.config import Settings
from sales_core.sync import run_sync
from tests.e2e.conftest import screenshot, settled

DEMO_DAY = "2026-11-25"
# page path, heading, plotly charts it draws on the demo data, whether it opens on tiles
PAGES = [
    ("", "Sales & invoicing console", 0, True),
    ("pipeline", "Pipeline", 2, True),
    ("revenue", "Revenue", 2, False),  # its first tab: MRR, invoiced and paid
]


def walk_the_dashboards(page: Page, url: str, label: str) -> None:
    for path, heading, charts, tiles in PAGES:
        page.goto(f"{url}/{path}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=60_000)
        if charts:
            plots = page.locator(".js-plotly-plot")
            expect(plots).to_have_count(charts, timeout=60_000)
            # a drawn chart has its bars, lines or funnel segments in the SVG
            expect(page.locator(".js-plotly-plot g.trace").first).to_be_attached(timeout=30_000)
        if tiles:
            expect(page.get_by_test_id("stMetric").first).to_be_visible()
        page.wait_for_timeout(1_500)  # let plotly finish its layout before the screenshot
        assert page.get_by_test_id("stException").count() == 0, f"{label}/{path}"
        screenshot(page, f"{label}-{path or 'overview'}")
        if path:  # the lower half too: Streamlit scrolls its own container
            page.get_by_test_id("stMain").hover()
            page.mouse.wheel(0, 5_000)
            page.wait_for_timeout(1_000)
            screenshot(page, f"{label}-{path}-lower")


def test_dashboards_on_the_demo_data(start_app: Any, page: Page) -> None:
    app = start_app(SALES_TODAY=DEMO_DAY)
    walk_the_dashboards(page, app.url, "demo")
    # a filter narrows the table, and the qualification link is there
    page.goto(f"{app.url}/pipeline")
    expect(page.get_by_text(re.compile(r"Download \d+ opportunities"))).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_test_id("stDataFrame").last).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0


@pytest.fixture
def large_base(tmp_path: Path) -> Path:
    """The benchmark's large dataset, synced into the app's database ahead of the start."""
    source = tmp_path / "large"
    demogen.write(
        demogen.generate(
            scale=50, sizes=demogen.Sizes(opportunities=20_000, contracts=3_000, invoices=100_000)
        ),
        source,
    )
    run_sync(Settings(db_path=tmp_path / "e2e.duckdb", demo_dir=source), "demo")
    return source


def test_dashboards_on_the_large_dataset(start_app: Any, page: Page, large_base: Path) -> None:
    app = start_app(SALES_TODAY=DEMO_DAY, SALES_DEMO_DIR=str(large_base))
    walk_the_dashboards(page, app.url, "large")


def click_bar(page: Page, chart: int, point: int) -> None:
    """Click one bar or funnel segment of the page's `chart`-th plotly chart, as a person does
    (plotly's drag layer lies over the bars, so the mouse goes to the bar's place)."""
    figure = page.locator(".js-plotly-plot").nth(chart)
    figure.scroll_into_view_if_needed()
    box = figure.locator("g.point").nth(point).locator("path").first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 3)


def test_a_link_with_filters_shows_the_view_and_a_click_narrows_the_table(
    start_app: Any, page: Page, tmp_path: Path
) -> None:
    app = start_app(SALES_TODAY=DEMO_DAY)
    page.goto(f"{app.url}/pipeline?owner=Amara+Okafor&stale=45&stage=Nope")
    expect(page.get_by_role("heading", name="Pipeline", exact=True)).to_be_visible(timeout=60_000)
    expect(page.locator(".js-plotly-plot g.point").first).to_be_attached(timeout=60_000)
    settled(page)
    # the link's filters are on, its bad value is named and ignored
    expect(page.get_by_text(re.compile("Ignored from the link: Stage .Nope."))).to_be_visible()
    expect(page.get_by_test_id("stMultiSelect").first).to_contain_text("Amara Okafor")
    expect(page.get_by_label("No activity for more than (days)")).to_have_value("45")
    expect(page.get_by_text("quiet for more than 45 days")).to_be_visible()
    before = page.get_by_text(re.compile(r"Download \d+ opportunit")).inner_text()
    screenshot(page, "link-pipeline-filters")
    # a click on the funnel's Proposal segment lists only those deals, and the link says so
    click_bar(page, chart=0, point=2)
    settled(page)
    expect(page.get_by_text("picked in the funnel")).to_be_visible()
    expect(page.get_by_text("Download 1 opportunity (CSV)")).to_be_visible()
    assert before != "Download 1 opportunity (CSV)"
    assert "funnel=Proposal" in page.url and "owner=Amara+Okafor" in page.url
    screenshot(page, "link-pipeline-funnel-click")
    # the CSV is the table's, formula-safe UTF-8 with its headers
    with page.expect_download() as download:
        page.get_by_text("Download 1 opportunity (CSV)").click()
    text = Path(download.value.path()).read_text("utf-8-sig")
    assert text.startswith("Record id,Opportunity,") and "Proposal" in text
    # leaving the page and coming back keeps the view (Streamlit clears the query string)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Revenue").click()
    expect(page.get_by_role("heading", name="Revenue", exact=True)).to_be_visible(timeout=60_000)
    settled(page)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Pipeline").click()
    expect(page.get_by_text("picked in the funnel")).to_be_visible(timeout=60_000)
    settled(page)
    assert "funnel=Proposal" in page.url and "stale=45" in page.url
    assert page.get_by_test_id("stException").count() == 0


def test_a_click_on_an_aging_bar_lists_its_invoices(start_app: Any, page: Page) -> None:
    app = start_app(SALES_TODAY=DEMO_DAY)
    page.goto(f"{app.url}/revenue?currency=USD")
    expect(page.locator(".js-plotly-plot g.point").first).to_be_attached(timeout=60_000)
    settled(page)
    page.get_by_role("tab", name="Receivables").click()  # read and drawn once opened
    expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=60_000)
    expect(page.locator(".js-plotly-plot g.point").first).to_be_attached(timeout=60_000)
    settled(page)
    assert "section=Receivables" in page.url
    click_bar(page, chart=0, point=1)  # 1–30 days (the demo's USD invoices on its day)
    settled(page)
    assert "bucket=1" in page.url and "section=Receivables" in page.url
    box = page.get_by_test_id("stSelectbox").filter(has_text="Invoices behind")
    expect(box.get_by_role("combobox")).to_have_value("1–30 days")
    screenshot(page, "link-revenue-aging-click")
