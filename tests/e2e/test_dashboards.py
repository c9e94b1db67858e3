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
from tests.e2e.conftest import screenshot

DEMO_DAY = "2026-11-25"
# page path, heading, plotly charts it draws on the demo data
PAGES = [
    ("", "Sales & invoicing console", 0),
    ("pipeline", "Pipeline", 2),
    ("revenue", "Revenue", 5),
]


def walk_the_dashboards(page: Page, url: str, label: str) -> None:
    for path, heading, charts in PAGES:
        page.goto(f"{url}/{path}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=60_000)
        if charts:
            plots = page.locator(".js-plotly-plot")
            expect(plots).to_have_count(charts, timeout=60_000)
            # a drawn chart has its bars, lines or funnel segments in the SVG
            expect(page.locator(".js-plotly-plot g.trace").first).to_be_attached(timeout=30_000)
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
