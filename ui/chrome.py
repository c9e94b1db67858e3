"""Shared chrome for every page: settings, the sign-in gate, the navigation, the banners and
the sidebar.

Every page script runs inside page(): the gate first, then the links to the pages, so
nobody without access learns a page name. Who the user is gets worked out afresh on every run,
never cached, so signing out and in as someone else shows that person's rights at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from sales_core import access, health, store
from sales_core.access import Actor
from sales_core.config import Settings, load_settings
from sales_core.errors import ConfigError, SalesError
from sales_core.export import safe_csv
from sales_core.formatting import markdown_text
from sales_core.sync import run_sync

# The pages, in sidebar order: (script, title). Streamlit routes them itself (its `pages/`
# folder, app.py the home page); the sidebar's links are drawn here, for people with access.
PAGES = (
    ("app.py", "Overview"),
    ("pages/pipeline.py", "Pipeline"),
    ("pages/revenue.py", "Revenue"),
    ("pages/qualify.py", "Qualify a lead"),
    ("pages/invoices.py", "Invoices"),
    ("pages/data_health.py", "Data health"),
)


def navigation() -> None:
    """The sidebar's links to the six pages, drawn only once the gate let the person in.

    Streamlit's own list of the `pages/` folder is off (`client.showSidebarNavigation` in
    .streamlit/config.toml), so someone without access sees no page name at all.
    """
    with st.sidebar:
        for script, title in PAGES:
            st.page_link(script, label=title)


def settings_or_stop() -> Settings:
    """The settings, or a clear message naming the wrong setting and nothing else."""
    try:
        return load_settings()
    except ConfigError as exc:
        st.error(f"The app cannot start: {markdown_text(exc)}")
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


def first_demo_sync(settings: Settings, status: health.SyncStatus) -> bool:
    """On a fresh demo set-up (nothing ever synced), load the demo data once by itself.

    Returns True when it synced (the status read before is then out of date).
    """
    if settings.source_name != "demo" or status.last_run_at is not None:
        return False
    try:
        with st.spinner("Loading the demo data…"):
            run_sync(settings, "demo")
    except SalesError as exc:
        st.error(str(exc))
    return True


def _status_or_stop(settings: Settings) -> health.SyncStatus:
    try:
        return health.sync_status(settings.db_path, lock_timeout=settings.lock_timeout)
    except SalesError as exc:
        st.error(str(exc))
        st.stop()
        raise


@contextmanager
def page() -> Iterator[tuple[Settings, health.SyncStatus]]:
    """What every page's body runs inside: the settings, the sign-in gate, the sidebar, the
    banners and the status, with the database held open until the body ends (`store.held`:
    the page's queries then share one DuckDB instance instead of starting one each). Someone
    without access never gets past the gate (st.stop).

    Every page is its own script (Streamlit's `pages/` folder, app.py the Overview), so each
    one draws the chrome through this block: `with chrome.page() as (settings, status): ...`
    """
    st.set_page_config(page_title="Sales & invoicing console", page_icon="📈", layout="wide")
    settings = settings_or_stop()
    with store.held(settings.db_path):
        user = gate(settings)
        navigation()
        # The status is read once a run, and again only after a sync changed it.
        status = _status_or_stop(settings)
        synced = first_demo_sync(settings, status)
        synced = sidebar(settings, user) or synced
        if synced:
            status = _status_or_stop(settings)
        freshness(status)
        source_banner(settings)
        access_banner(user)
        yield settings, status


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


def _stop(message: str) -> None:
    st.error(message)
    st.stop()


def _oidc_configured() -> bool:
    """True when secrets.toml has the `[auth]` section Streamlit's own sign-in reads."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all (StreamlitSecretNotFoundError)
        return False


def _header_configured(header: str) -> bool:
    """True when Streamlit copies `header` into st.user's email (server.trustedUserHeaders)."""
    mapping = st.get_option("server.trustedUserHeaders")
    if not isinstance(mapping, dict):
        return False
    return any(name.lower() == header.lower() and key == "email" for name, key in mapping.items())


def check_sign_in_method(settings: Settings) -> None:
    """Stop with a clear message when the sign-in settings cannot work as configured."""
    rules = settings.access
    problem = rules.web_problem()
    if problem:
        _stop(f"The app cannot start: {problem}")
    if rules.auth_mode == "oidc" and not _oidc_configured():
        _stop(
            "The app cannot start: SALES_AUTH_MODE is 'oidc' but .streamlit/secrets.toml has "
            "no [auth] section (see the README)."
        )
    if rules.auth_mode == "header" and not _header_configured(rules.auth_header):
        _stop(
            f"The app cannot start: SALES_AUTH_MODE is 'header' but Streamlit is not started "
            f'with --server.trustedUserHeaders \'{{"{rules.auth_header}": "email"}}\' '
            "(see the README)."
        )


def current_actor(settings: Settings) -> Actor | None:
    """Who is using the app, from st.user: None when nobody is signed in.

    Read on every call, never cached: a different person in the same browser gets their own
    rights at once.
    """
    rules = settings.access
    if rules.open:
        return access.open_actor()
    if rules.auth_mode == "oidc" and not st.user.get("is_logged_in", False):
        return None
    email = st.user.get("email") if rules.auth_mode in ("oidc", "header") else None
    if not email:
        return None
    return access.actor_for(email, rules)


def refusal(settings: Settings, user: Actor | None) -> None:
    """The one page a person without access sees: who they are, how to ask. No data. Stops."""
    rules = settings.access
    st.title("Sales & invoicing console")
    if user is None and rules.auth_mode == "oidc":
        st.info("Sign in to use the console.")
        if st.button("Sign in", type="primary", key="sign_in"):
            st.login()
        st.stop()
    if user is None:
        st.error(
            f"No signed-in user reached the app: the sign-in proxy did not send the "
            f"{rules.auth_header} header. Open the console through the organisation's sign-in."
        )
        st.stop()
    assert user is not None
    st.error("You do not have access to this console.")
    st.markdown("You are signed in as:")
    st.text(user.label)
    st.markdown("This address is not on the console's access list. To ask for access, write to:")
    st.text(rules.contact)
    if rules.auth_mode == "oidc" and st.button("Sign out", key="sign_out_refused"):
        st.logout()
    st.stop()


def gate(settings: Settings) -> Actor:
    """The signed-in person with access; anyone else sees the refusal page and the run stops."""
    check_sign_in_method(settings)
    user = current_actor(settings)
    if user is None or user.role is None:
        refusal(settings, user)
        raise RuntimeError("unreachable: refusal() stops the run")
    return user


def actor(settings: Settings | None = None) -> Actor:
    """The acting person for the services (the audit log, the assessments): worked out afresh.

    Only called inside page(), which has let this person in.
    """
    found = current_actor(settings or settings_or_stop())
    if found is None:
        st.stop()
        raise RuntimeError("unreachable")
    return found


def access_banner(user: Actor) -> None:
    """Say on every page when nobody is signed in because no sign-in is configured."""
    if user.is_open:
        st.warning(
            "**No sign-in configured.** Anyone who can open this app may generate and change "
            "invoices. Set `SALES_AUTH_MODE` and the access lists (see the README) before "
            "deploying it."
        )


def sidebar(settings: Settings, user: Actor) -> bool:
    """Who is signed in (and Sign out) and the Sync now button; True when a sync ran."""
    with st.sidebar:
        if not user.is_open:
            st.caption(f"Signed in as {markdown_text(user.label)} ({user.role})")
            if settings.access.auth_mode == "oidc" and st.button("Sign out", key="sign_out"):
                st.logout()
        st.markdown("### Data")
        label = "AirTable" if settings.airtable_configured else "demo data"
        if not st.button(f"Sync now from {label}", key="sync_now", width="stretch"):
            return False
        failure: str | None = None
        with st.status(f"Syncing from {label}…", expanded=True) as box:

            def progress(message: str) -> None:
                box.update(label=message)

            try:
                result = run_sync(settings, progress=progress)
            except SalesError as exc:  # a failed sync, or a SALES_DB that is no database
                box.update(label="Sync failed", state="error", expanded=False)
                failure = str(exc)
            else:
                box.update(label="Sync complete", state="complete", expanded=False)
        # The outcome goes below the box, where it stays readable once the box folds.
        if failure is not None:
            st.error(markdown_text(failure))
        else:
            counts = ", ".join(f"{n:,} {t}" for t, n in result.counts.items())
            st.success(
                f"Loaded {counts}. {result.rejected} quarantined, {result.warnings} warnings. "
                f"{markdown_text(result.push_text)}".strip()
            )
            if result.push_error:
                st.warning(markdown_text(result.push_text))
            if result.missing_text:
                st.info(markdown_text(result.missing_text))
        return True


def freshness(status: health.SyncStatus) -> None:
    """When the local copy was last synced, under the Sync now button."""
    if status.last_ok_at is not None:
        st.sidebar.caption(
            f"Last sync {ago(status.last_ok_at)} "
            f"({status.last_ok_at:%Y-%m-%d %H:%M} UTC, {status.last_ok_source})"
        )
    else:
        st.sidebar.caption("Not synced yet.")


@dataclass(frozen=True)
class Tile:
    """One metric tile: a label, its value, and optionally a help text and a change."""

    label: str
    value: str
    help: str | None = None
    delta: str | None = None
    delta_on: bool = True  # False greys the change out (nothing changed)


def tiles(columns: Sequence[Any], shown: Sequence[Tile]) -> None:
    """Metric tiles, one per column, in order."""
    for column, tile in zip(columns, shown, strict=False):
        column.metric(
            tile.label,
            tile.value,
            delta=tile.delta,
            delta_color="normal" if tile.delta_on else "off",
            help=tile.help,
        )


def download(
    target: Any,
    label: str,
    data: bytes | Callable[[], bytes],
    file_name: str,
    mime: str = "text/csv",
    key: str | None = None,
) -> None:
    """A download button in `target` (st or a column) that does not rerun the page; `data` may
    be a function, called only when the button is pressed."""
    target.download_button(
        label,
        data=data,
        file_name=file_name,
        mime=mime,
        on_click="ignore",
        icon=":material/download:",
        key=key,
    )


def csv_download(
    target: Any,
    label: str,
    table: pd.DataFrame | Callable[[], pd.DataFrame],
    file_name: str,
    key: str,
    columns: dict[str, str] | None = None,
) -> None:
    """A formula-safe CSV download (`export.safe_csv`) of a table, made only on click.

    `table` may be a function returning the frame (say, every row where the page shows the
    first thousand); `columns` picks and renames the columns (source name -> header).
    """

    def made() -> bytes:
        frame = table() if callable(table) else table
        return safe_csv(frame, columns)

    download(target, label, made, file_name, key=key)
