"""The README's run command, in a real browser: the home page shows the demo counts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from sales_core.health import sync_status
from tests.e2e.conftest import screenshot


def test_home_shows_demo_counts_and_data_health(start_app: Any, page: Page, tmp_path: Path) -> None:
    app = start_app()
    page.goto(app.url)
    expect(page.get_by_role("heading", name="Sales & invoicing console")).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="Demo data.")).to_be_visible()

    status = sync_status(tmp_path / "e2e.duckdb")
    assert status.has_data and status.last_ok_source == "demo"
    metrics = page.get_by_test_id("stMetric")
    expect(metrics).to_have_count(12)  # 8 key figures, 4 record counts
    expect(metrics.filter(has_text="Opportunities")).to_contain_text(
        f"{status.counts['opportunities']:,}"
    )
    expect(metrics.filter(has_text="Invoices")).to_contain_text(f"{status.counts['invoices']:,}")
    expect(page.get_by_text(re.compile(rf"{status.rejected} quarantined"))).to_be_visible()
    screenshot(page, "home")

    # Sync now from the sidebar, then follow the link to Data health.
    page.get_by_role("button", name=re.compile("Sync now")).click()
    expect(page.get_by_text("Sync complete")).to_be_visible(timeout=60_000)
    page.get_by_role("link", name=re.compile("Open Data health")).click()
    expect(page.get_by_role("heading", name="Data health")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0
    screenshot(page, "data-health")
    expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="Demo data.")).to_be_visible()
