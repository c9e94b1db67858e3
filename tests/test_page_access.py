"""Every page as each kind of person sees it (AppTest with `at.user`): what shows, which buttons.

No sign-in configured (the demo), a stranger, a viewer and a biller, in the trusted-header mode;
Streamlit's OIDC sign-in for the login and logout buttons; settings that must stop the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from sales_core import invoicing, ledger
from sales_core.access import operator
from sales_core.billing import Month
from sales_core.config import load_settings
from sales_core.sync import run_sync
from tests.conftest import invoices_tab, shown
from ui import chrome

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = [script for script, _ in chrome.PAGES]
BILLER = "bill@example.org"
VIEWER = "Vera@Example.org"  # on the list by its domain, in any case
STRANGER = "mallory@evil-example.org"
CHANGING = {"authorize", "mark_paid", "void", "push"}
NO_SIGN_IN = "No sign-in configured"


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("INVOICE_DIR", str(tmp_path / "invoices"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture
def header_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Access lists and the proxy header, as `make run RUN_ARGS=…` would configure them."""
    monkeypatch.setenv("SALES_AUTH_MODE", "header")
    monkeypatch.setenv("SALES_VIEWER_DOMAINS", "example.org")
    monkeypatch.setenv("SALES_BILLERS", BILLER)
    monkeypatch.setenv("SALES_ACCESS_CONTACT", "console-admins@example.org")
    before = st_config.get_option("server.trustedUserHeaders")
    st_config.set_option("server.trustedUserHeaders", {"X-Forwarded-Email": "email"})
    yield
    st_config.set_option("server.trustedUserHeaders", before)


def open_page(page: str, user: dict[str, Any] | None = None, at: AppTest | None = None) -> AppTest:
    if at is None:
        at = AppTest.from_file(APP, default_timeout=90)
        if user is not None:
            at.user = user
        at.run()
    elif user is not None:
        at.user = user
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def refused_runs(page: str, user: dict[str, Any]) -> list[AppTest]:
    """Someone without access arriving through the router (which offers them no page at all)
    and straight at a page file (as a fresh server's first request does)."""
    runs = []
    for script in (APP, str(Path(APP).parent / page)):
        at = AppTest.from_file(script, default_timeout=90)
        at.user = user
        at.run()
        assert not at.exception, at.exception
        runs.append(at)
    return runs


def words(at: AppTest) -> str:
    parts: list[Any] = [m.value for m in at.markdown] + [m.value for m in at.title]
    for kind in (at.info, at.warning, at.error, at.success, at.caption, at.text):
        parts += [m.value for m in kind]
    return "\n".join(shown(p) for p in parts)


def button_keys(at: AppTest) -> set[str]:
    return {b.key or b.label for b in at.button}


def load_settings_first_opportunity() -> str:
    from sales_core import assessments

    settings = load_settings()
    return next(iter(assessments.opportunity_choices(settings.db_path).labels))


def with_an_invoice() -> str:
    """A Draft invoice made by the biller, so that the change buttons have something to act on."""
    settings = load_settings()
    run_sync(settings)
    made = invoicing.generate(
        settings, Month(2026, 11), actor=operator(BILLER, settings.access, "test"), push=False
    )
    number = made.created[-1].number
    assert number
    return number


@pytest.mark.parametrize("page", PAGES)
def test_no_sign_in__every_page_works_and_says_so(page: str) -> None:
    at = open_page(page)
    assert NO_SIGN_IN in words(at)
    assert "Signed in as" not in words(at)


def test_no_sign_in__the_invoices_page_keeps_every_button() -> None:
    with_an_invoice()
    at = open_page("pages/invoices.py")
    assert "generate" in button_keys(at)
    assert "Read-only" not in words(at)
    at = invoices_tab(at, "Receivables")
    assert {"record_payment", "issue_credit"} <= button_keys(at)
    assert {"authorize", "void"} <= button_keys(invoices_tab(at, "Invoices made here"))


@pytest.mark.parametrize("page", PAGES)
def test_stranger__sees_only_the_refusal(header_mode: None, page: str) -> None:
    for at in refused_runs(page, {"email": STRANGER}):
        text = words(at)
        assert "You do not have access to this console." in text
        assert STRANGER in text and "console-admins@example.org" in text
        # No data at all: no figures, tables, charts, sidebar or buttons.
        assert not at.metric and not at.dataframe and not at.get("plotly_chart")
        assert not at.sidebar.children or not list(at.sidebar)
        assert not at.button and "Demo data" not in text and NO_SIGN_IN not in text


@pytest.mark.parametrize("page", PAGES)
def test_viewer__every_page_and_who_they_are(header_mode: None, page: str) -> None:
    at = open_page(page, {"email": VIEWER})
    text = words(at)
    assert "Signed in as vera@example.org (viewer)" in text
    assert NO_SIGN_IN not in text and "You do not have access" not in text
    assert "sign_out" not in button_keys(at)  # the proxy signs people out, not the app


def test_viewer__the_invoices_page_is_read_only(header_mode: None) -> None:
    number = with_an_invoice()
    at = open_page("pages/invoices.py", {"email": VIEWER})
    keys = button_keys(at)
    assert not any(k.startswith("Generate") or k == "generate" for k in keys)
    assert "Read-only." in words(at) and "need the biller role" in words(at)
    assert at.dataframe  # the viewer still sees the run's preview
    at = invoices_tab(at, "Receivables")
    assert "Recording a payment needs the biller role." in words(at)
    assert not button_keys(at) & {"record_payment", "issue_credit", "send_mail", "remind_mail"}
    at = invoices_tab(at, "Invoices made here")
    assert not button_keys(at) & CHANGING
    assert "Authorize, Mark paid and Void need the biller role." in words(at)
    assert at.dataframe  # and the ledger
    assert number in list(at.selectbox(key="chosen_invoice").options)
    assert not [t for t in at.text_input if (t.key or "").startswith("void_reason")]


def test_viewer__may_save_an_assessment(header_mode: None) -> None:
    at = open_page("pages/qualify.py", {"email": VIEWER})
    chooser = at.selectbox(key="qualify_opportunity")
    chooser.set_value(load_settings_first_opportunity()).run()
    assert at.text_input(key="qualify_assessor").value == "vera@example.org"
    [save] = [b for b in at.button if b.label == "Save assessment"]
    save.click().run()
    assert not at.exception
    assert any(s.value.startswith("Saved.") for s in at.success), words(at)
    past = at.dataframe[1].value
    assert list(past["saved_by"])[:1] == ["vera@example.org"]


def test_biller__generates_and_changes(header_mode: None) -> None:
    with_an_invoice()
    at = open_page("pages/invoices.py", {"email": BILLER})
    assert "Signed in as bill@example.org (biller)" in words(at)
    assert "generate" in button_keys(at)
    at = invoices_tab(at, "Invoices made here")
    assert {"authorize", "void"} <= button_keys(at)
    at.button(key="authorize").click().run()
    assert any("is now Authorized" in s.value for s in at.success)
    log = ledger.audit_log(load_settings())
    assert (log["actor"][0], log["action"][0]) == (BILLER, "authorized")


def test_another_person_in_the_same_session_gets_their_own_rights(header_mode: None) -> None:
    with_an_invoice()
    at = open_page("pages/invoices.py", {"email": BILLER})
    assert "generate" in button_keys(at)
    at = open_page("pages/invoices.py", {"email": VIEWER}, at=at)
    assert "generate" not in button_keys(at) and "Read-only." in words(at)
    at = open_page("pages/invoices.py", {"email": STRANGER}, at=at)
    assert "You do not have access to this console." in words(at) and not at.dataframe


def test_header_mode__no_header_is_refused(header_mode: None) -> None:
    for at in refused_runs("pages/invoices.py", {}):
        assert "did not send the X-Forwarded-Email header" in words(at)
        assert not at.metric and not at.dataframe


def test_header_mode__without_trusted_headers_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALES_AUTH_MODE", "header")
    monkeypatch.setenv("SALES_BILLERS", BILLER)
    at = open_page("app.py", {"email": BILLER})
    assert "--server.trustedUserHeaders" in words(at) and not at.metric


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SALES_REQUIRE_SIGN_IN": "true"}, "SALES_REQUIRE_SIGN_IN is on"),
        ({"SALES_BILLERS": BILLER}, "no sign-in method is configured"),
        ({"SALES_AUTH_MODE": "oidc", "SALES_BILLERS": BILLER}, "no [auth] section"),
    ],
)
def test_settings_that_cannot_work_stop_the_app(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = open_page("pages/invoices.py")
    assert named in words(at)
    assert not at.metric and not at.dataframe and not at.button


def oidc_app(monkeypatch: pytest.MonkeyPatch, user: dict[str, Any]) -> AppTest:
    monkeypatch.setenv("SALES_AUTH_MODE", "oidc")
    monkeypatch.setenv("SALES_BILLERS", BILLER)
    monkeypatch.setenv("SALES_VIEWER_DOMAINS", "example.org")
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret-0123456789abcdef",
        "client_id": "id",
        "client_secret": "test-client-secret",
        "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
    }
    at.user = user
    at.run()
    return at


def test_oidc__signed_out_sees_only_the_sign_in_button(monkeypatch: pytest.MonkeyPatch) -> None:
    at = oidc_app(monkeypatch, {"is_logged_in": False, "email": BILLER})
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in to use the console." in words(at)
    assert not at.metric and not at.dataframe
    assert "test-client-secret" not in words(at) and "test-cookie-secret" not in words(at)


def test_oidc__signed_in_biller_has_sign_out_and_signing_out_ends_access(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = oidc_app(monkeypatch, {"is_logged_in": True, "email": BILLER})
    assert not at.exception, at.exception
    assert "Signed in as bill@example.org (biller)" in words(at)
    at.button(key="sign_out").click().run()
    at.run()  # the browser reloads after Streamlit's logout
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Sign in"] and not at.metric


def test_oidc__a_stranger_can_sign_out_to_switch_account(monkeypatch: pytest.MonkeyPatch) -> None:
    at = oidc_app(monkeypatch, {"is_logged_in": True, "email": STRANGER})
    assert "You do not have access to this console." in words(at)
    assert [b.label for b in at.button] == ["Sign out"]
