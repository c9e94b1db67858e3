"""Who may do what: the matching rules, the settings, the guard below the UI and the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sales_core import access, assessments, invoicing, ledger, store, writeback
from sales_core.access import AccessDenied, AccessSettings, Actor, actor_for, require, role_of
from sales_core.billing import Month
from sales_core.config import Settings, load_settings
from sales_core.errors import ConfigError, SalesError
from sales_core.qualification import CRITERIA, build_assessment

RULES = AccessSettings(
    auth_mode="header",
    viewers=frozenset({"vera@partner.net"}),
    viewer_domains=frozenset({"example.org"}),
    billers=frozenset({"bill@example.org"}),
)
NOVEMBER = Month(2026, 11)
TODAY = date(2026, 11, 25)


# -- matching --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ana@Example.ORG ", "ana@example.org"),
        ("ana@example.org", "ana@example.org"),
        ("", None),
        ("   ", None),
        ("no-at-sign", None),
        ("two@@example.org", None),
        ("a b@example.org", None),
        (None, None),
        (42, None),
    ],
)
def test_normalise_email__trims_and_lowercases(raw: object, expected: str | None) -> None:
    assert access.normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("email", "role"),
    [
        ("bill@example.org", "biller"),
        ("  BILL@Example.Org\t", "biller"),  # case and whitespace never matter
        ("ana@example.org", "viewer"),  # the whole domain is a viewer
        ("ANA@EXAMPLE.ORG", "viewer"),
        ("vera@partner.net", "viewer"),  # a single email
        ("other@partner.net", None),  # the email, not its domain
        ("mallory@evil-example.org", None),  # a domain matches whole domains only
        ("mallory@example.org.evil.com", None),
        ("mallory@sub.example.org", None),  # subdomains only when listed themselves
        ("example.org", None),
        ("mallory@example.org@evil.com", None),
        ("", None),
    ],
)
def test_role_of__lists_and_whole_domains(email: str, role: str | None) -> None:
    assert role_of(email, RULES) == role


def test_in_domains__whole_domains_only() -> None:
    assert access.in_domains("a@example.org", ["example.org"])
    assert not access.in_domains("a@evil-example.org", ["example.org"])
    assert not access.in_domains("a@notexample.org", ["example.org"])
    assert access.in_domains("a@sub.example.org", ["sub.example.org"])


def test_require__names_the_action_and_the_email() -> None:
    viewer = actor_for(" Ana@Example.org ", RULES)
    assert viewer == Actor("ana@example.org", "viewer", "ana@example.org")
    require(viewer, "viewer", "save a MANIAC-T assessment")
    with pytest.raises(AccessDenied) as denied:
        require(viewer, "biller", "void invoice INV-2026-0001")
    message = str(denied.value)
    assert "ana@example.org" in message and "void invoice INV-2026-0001" in message
    assert isinstance(denied.value, SalesError) and isinstance(denied.value, PermissionError)
    stranger = actor_for("mallory@evil-example.org", RULES)
    with pytest.raises(AccessDenied, match=r"mallory@evil-example\.org may not save"):
        require(stranger, "viewer", "save a MANIAC-T assessment")


def test_open_access__only_with_nothing_configured() -> None:
    assert AccessSettings().open
    assert AccessSettings().web_problem() is None
    assert not AccessSettings(require_sign_in=True).open
    assert "SALES_REQUIRE_SIGN_IN" in (AccessSettings(require_sign_in=True).web_problem() or "")
    with_lists = AccessSettings(billers=frozenset({"b@example.org"}))
    assert not with_lists.open
    assert "SALES_AUTH_MODE" in (with_lists.web_problem() or "")
    assert AccessSettings(auth_mode="oidc").web_problem() is None
    assert not AccessSettings(auth_mode="oidc").open


# -- settings ----------------------------------------------------------------------------------


def test_settings__access_section_and_environment(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[access]\n"
        'SALES_AUTH_MODE = "OIDC"\n'
        'SALES_VIEWERS = ["  Vera@Partner.net ", "x@y.org"]\n'
        'SALES_VIEWER_DOMAINS = "@Example.org, example.com"\n'
        'SALES_BILLERS = ["Bill@Example.org"]\n'
        "SALES_REQUIRE_SIGN_IN = true\n"
        'SALES_ACCESS_CONTACT = "billing-admins@example.org"\n'
    )
    rules = load_settings({}, secrets).access
    assert rules.auth_mode == "oidc"
    assert rules.viewers == {"vera@partner.net", "x@y.org"}
    assert rules.viewer_domains == {"example.org", "example.com"}
    assert rules.billers == {"bill@example.org"}
    assert rules.require_sign_in and rules.contact == "billing-admins@example.org"
    # The environment wins over the file.
    env = {"SALES_AUTH_MODE": "header", "SALES_BILLERS": "boss@example.org"}
    rules = load_settings(env, secrets).access
    assert rules.auth_mode == "header" and rules.billers == {"boss@example.org"}
    assert rules.auth_header == "X-Forwarded-Email"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SALES_AUTH_MODE": "saml"}, "SALES_AUTH_MODE"),
        ({"SALES_BILLERS": "not-an-email"}, "SALES_BILLERS"),
        ({"SALES_VIEWER_DOMAINS": "*.example.org"}, "SALES_VIEWER_DOMAINS"),
        ({"SALES_REQUIRE_SIGN_IN": "maybe"}, "SALES_REQUIRE_SIGN_IN"),
        ({"SALES_AUTH_HEADER": "X Email"}, "SALES_AUTH_HEADER"),
    ],
)
def test_settings__a_wrong_access_setting_is_named(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(env, tmp_path / "none.toml")


def test_settings__demo_defaults_are_open(tmp_path: Path) -> None:
    assert load_settings({}, tmp_path / "none.toml").access.open


# -- the guard below the UI --------------------------------------------------------------------


def snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the services write, to compare before and after a refused call."""
    with store.connect(settings.db_path) as con:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("generated_invoices", "audit_log", "assessments", "meta")
        }


def test_guard__a_viewer_cannot_run_the_invoices_and_nothing_is_written(demo: Settings) -> None:
    viewer = actor_for("ana@example.org", RULES)
    before = snapshot(demo)
    with pytest.raises(AccessDenied, match=r"ana@example.org may not generate"):
        invoicing.generate(demo, NOVEMBER, actor=viewer)
    assert snapshot(demo) == before
    assert not (Path(demo.invoice_dir)).exists()  # no PDF either


def test_guard__a_viewer_cannot_void_authorize_or_push(demo: Settings) -> None:
    biller = actor_for("bill@example.org", RULES)
    made = invoicing.generate(demo, NOVEMBER, actor=biller, push=False)
    number = made.created[0].number
    assert number
    viewer = actor_for("ana@example.org", RULES)
    before = snapshot(demo)
    for change in (
        ledger.Change(number, "Void", reason="wrong fee"),
        ledger.Change(number, "Authorized"),
    ):
        with pytest.raises(AccessDenied, match=f"ana@example.org may not .*{number}"):
            ledger.change_status(demo, change, actor=viewer, today=TODAY)
    with pytest.raises(AccessDenied, match="push invoices"):
        writeback.push_pending(demo, actor=viewer)
    assert snapshot(demo) == before
    # The biller may, and the audit log names them.
    ledger.change_status(
        demo, ledger.Change(number, "Void", reason="wrong fee"), actor=biller, today=TODAY
    )
    log = ledger.audit_log(demo)
    assert list(log["actor"][:2]) == ["bill@example.org", "bill@example.org"]
    assert list(log["action"][:2]) == ["void", "generate"]


def test_guard__strangers_cannot_save_assessments_viewers_can(demo: Settings) -> None:
    assessment = build_assessment(
        opportunity_id="recOPP",
        assessed_by="Someone Else",
        assessed_on=TODAY,
        answers=dict.fromkeys(CRITERIA, "Confirmed"),
        notes={},
    )
    stranger = actor_for("mallory@evil-example.org", RULES)
    before = snapshot(demo)
    with pytest.raises(AccessDenied, match=r"mallory@evil-example\.org may not save"):
        assessments.save(demo, assessment, "form-1", actor=stranger)
    assert snapshot(demo) == before
    viewer = actor_for("Ana@Example.org", RULES)
    assert assessments.save(demo, assessment, "form-1", actor=viewer).created
    with store.connect(demo.db_path) as con:
        rows = store.query(con, "SELECT assessed_by, saved_by FROM assessments")
    assert rows == [{"assessed_by": "Someone Else", "saved_by": "ana@example.org"}]


# -- the CLI -----------------------------------------------------------------------------------


def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INVOICE_DIR", str(tmp_path / "invoices"))
    monkeypatch.setenv("SALES_VIEWER_DOMAINS", "example.org")
    monkeypatch.setenv("SALES_BILLERS", "bill@example.org")


def test_cli__an_unknown_operator_is_refused_in_one_line(
    demo: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sales_core.cli import main

    cli_env(monkeypatch, tmp_path)
    before = snapshot(demo)
    generate = ["invoices", "generate", "--month", "2026-11", "--no-push", "--allow-gaps"]
    for who in (["--as", "mallory@evil-example.org"], ["--as", "ana@example.org"], []):
        assert main([*generate, *who]) == 1
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
    assert snapshot(demo) == before
    monkeypatch.setenv("SALES_OPERATOR", "ana@example.org")  # a viewer, not a biller
    assert main(["invoices", "push"]) == 1
    assert "ana@example.org may not push" in capsys.readouterr().err
    # A biller, named either way, may; the audit log records the email.
    assert main([*generate, "--as", " Bill@Example.org "]) == 0
    log = ledger.audit_log(demo)
    assert (log["actor"][0], log["action"][0]) == ("bill@example.org", "generate")
    monkeypatch.setenv("SALES_OPERATOR", "bill@example.org")
    capsys.readouterr()
    main(["invoices", "push"])  # let through; it fails only because the demo has no AirTable
    assert "AirTable is not configured" in capsys.readouterr().err


def test_cli__open_access_records_the_named_or_local_operator(demo: Settings) -> None:
    open_rules = AccessSettings()
    assert access.operator("ana@example.org", open_rules, "cli:me").label == "ana@example.org"
    assert access.operator(None, open_rules, "cli:me") == Actor("cli:me", "biller")
    with pytest.raises(AccessDenied, match="--as EMAIL"):
        access.operator(None, RULES, "cli:me")


# -- documentation and secrets -----------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_docs__every_access_setting_is_in_the_readme_and_the_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8")
    for name in access.ACCESS_SETTING_NAMES:
        assert f"`{name}`" in readme, name
        assert name in example, name
    assert "[access]" in example and "[auth]" in example


def test_secrets__the_auth_section_is_left_to_streamlit_and_never_shown(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[access]\nSALES_AUTH_MODE = "oidc"\nSALES_BILLERS = ["bill@example.org"]\n'
        '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n'
        'cookie_secret = "COOKIE-SECRET-123"\nclient_id = "id"\n'
        'client_secret = "CLIENT-SECRET-456"\n'
    )
    settings = load_settings({}, secrets)
    assert settings.access.auth_mode == "oidc"
    shown = repr(settings)
    assert "COOKIE-SECRET-123" not in shown and "CLIENT-SECRET-456" not in shown
