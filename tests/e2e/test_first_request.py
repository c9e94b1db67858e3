"""The first request of a freshly started server shows the right page and the six page names.

Streamlit routes the `pages/` folder itself (app.py is the Overview); the links in the sidebar
are the app's own, drawn after the sign-in gate. A fresh server once ran its first request in a
different mode from the rest, so each address here is the first one its server ever serves.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, settled

TITLES = ["Overview", "Pipeline", "Revenue", "Qualify a lead", "Invoices", "Data health"]


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/", "Sales & invoicing console"), ("/invoices", "Invoices")],
    ids=["root", "deep-link"],
)
def test_a_fresh_servers_first_request(
    start_app: Any, page: Page, tmp_path: Path, path: str, heading: str
) -> None:
    app = start_app(INVOICE_DIR=str(tmp_path / "invoices"))
    page.goto(f"{app.url}{path}")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=60_000)
    settled(page)
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_role("link").all_inner_texts() == TITLES
    assert page.get_by_test_id("stSidebarNav").count() == 0  # no list of the pages/ files
    for leaked in ("app", "chrome", "queries", "home", "data health"):
        assert sidebar.get_by_role("link", name=leaked, exact=True).count() == 0
    assert page.get_by_test_id("stException").count() == 0
    screenshot(page, f"first-request-{path.strip('/') or 'root'}")
    # Links lead where they say.
    sidebar.get_by_role("link", name="Data health").click()
    expect(page).to_have_url(re.compile(r"/data_health$"), timeout=30_000)
    expect(page.get_by_role("heading", name="Data health", level=1)).to_be_visible()
