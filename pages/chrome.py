"""Shared chrome for every page: settings, the source banner and the sidebar's Sync now.

Not a page itself: app.py lists the pages explicitly, so this module is never routed to.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any

import streamlit as st

from sales_core import health
from sales_core.config import Settings, load_settings
from sales_core.errors import ConfigError, SalesError, SyncError
from sales_core.sync import run_sync


def page_list() -> list[Any]:
    """The app's pages, in sidebar order (used by app.py, the router)."""
    return [
        st.Page("pages/home.py", title="Overview", default=True),
        st.Page("pages/pipeline.py", title="Pipeline", url_path="pipeline"),
        st.Page("pages/revenue.py", title="Revenue", url_path="revenue"),
        st.Page("pages/qualify.py", title="Qualify a lead", url_path="qualify"),
        st.Page("pages/invoices.py", title="Invoices", url_path="invoices"),
        st.Page("pages/data_health.py", title="Data health", url_path="data-health"),
    ]


def settings_or_stop() -> Settings:
    """The settings, or a clear message naming the wrong setting and nothing else."""
    try:
        return load_settings()
    except ConfigError as exc:
        st.error(f"The app cannot start: {exc}")
        st.stop()
        raise  # unreachable: st.stop() raises


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'5 minutes ago' for a UTC timestamp."""
    if moment is None:
        return "never"
    seconds = int(((now or datetime.now(UTC).replace(tzinfo=None)) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def today() -> date:
    """The day the dashboards are computed for: today, or `SALES_TODAY` (YYYY-MM-DD) when set.

    The override lets a demo or a test show the figures of a fixed day (the demo data is made
    for 2026-11-25).
    """
    override = os.environ.get("SALES_TODAY")
    if override:
        try:
            return date.fromisoformat(override)
        except ValueError:
            st.warning(
                f"SALES_TODAY must be a date like 2026-11-25, got '{override}'; using today."
            )
    return date.today()


def first_demo_sync(settings: Settings) -> None:
    """On a fresh demo set-up (nothing ever synced), load the demo data once by itself."""
    if settings.source_name != "demo":
        return
    try:
        status = health.sync_status(settings.db_path, lock_timeout=settings.lock_timeout)
        if status.last_run_at is None:
            with st.spinner("Loading the demo data…"):
                run_sync(settings, "demo")
    except SalesError as exc:
        st.error(str(exc))


def _leave_folder_mode() -> None:
    """Rerun through app.py when Streamlit ran this page in its old `pages/` folder mode.

    That mode lists every file of pages/ in the sidebar (chrome.py too) and skips app.py; it
    happens on the first request of a fresh server. Calling st.navigation ends the mode.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a future Streamlit without the flag: nothing to undo
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        # Not st.navigation or st.rerun here: both would drop a click handled in this run.
        PagesManager.uses_pages_directory = False


def page_start() -> tuple[Settings, health.SyncStatus]:
    """What every page begins with: the settings, the sidebar, the source banner and the status.

    Drawn by each page rather than by app.py: see app.py for why.
    """
    _leave_folder_mode()
    st.set_page_config(page_title="Sales & invoicing console", page_icon="📈", layout="wide")
    settings = settings_or_stop()
    first_demo_sync(settings)
    sidebar(settings)
    source_banner(settings)
    try:
        status = health.sync_status(settings.db_path, lock_timeout=settings.lock_timeout)
    except SalesError as exc:
        st.error(str(exc))
        st.stop()
        raise
    return settings, status


def source_banner(settings: Settings) -> None:
    """Say on every page where the data comes from."""
    if settings.airtable_configured:
        st.caption(f"Source: AirTable base `{settings.base_id}`")
    else:
        st.info(
            "**Demo data.** No AirTable settings were found, so the app shows its embedded "
            "sample data. Set `AIRTABLE_API_KEY` and `AIRTABLE_BASE_ID` (see the README) to use "
            "your base."
        )


def sidebar(settings: Settings) -> None:
    """Freshness and the Sync now button, with progress and the outcome."""
    with st.sidebar:
        st.markdown("### Data")
        label = "AirTable" if settings.airtable_configured else "demo data"
        if st.button(f"Sync now from {label}", key="sync_now", width="stretch"):
            with st.status(f"Syncing from {label}…", expanded=True) as box:

                def progress(message: str) -> None:
                    box.update(label=message)

                try:
                    result = run_sync(settings, progress=progress)
                except SyncError as exc:
                    box.update(label="Sync failed", state="error")
                    st.error(str(exc))
                else:
                    counts = ", ".join(f"{n:,} {t}" for t, n in result.counts.items())
                    box.update(label="Sync complete", state="complete", expanded=False)
                    st.success(
                        f"Loaded {counts}. {result.rejected} quarantined, "
                        f"{result.warnings} warnings."
                    )
        try:
            status = health.sync_status(settings.db_path, lock_timeout=settings.lock_timeout)
        except SalesError as exc:
            st.warning(str(exc))
            return
        if status.last_ok_at is not None:
            st.caption(
                f"Last sync {ago(status.last_ok_at)} "
                f"({status.last_ok_at:%Y-%m-%d %H:%M} UTC, {status.last_ok_source})"
            )
        else:
            st.caption("Not synced yet.")


def actor() -> str:
    """Who is using the app, for the audit log: the signed-in email, when there is one."""
    try:
        email = st.user.get("email")
    except Exception:  # no sign-in configured: st.user may refuse to answer
        email = None
    return str(email) if email else "app user (no sign-in configured)"
