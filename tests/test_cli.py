"""The command line: every command has help and appears in the README."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from sales_core import demogen, store
from sales_core.billing import Month
from sales_core.cli import build_parser, main
from tests.conftest import BAD_SALES_DB_KINDS, SELLER_ENV, bad_sales_db, serve_demo
from tests.fake_airtable import FakeAirtable

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                path = f"{prefix} {name}".strip()
                found.append((path, sub))
                found.extend(commands(sub, path))
    return found


def test_every_command_has_help_and_is_in_the_readme() -> None:
    found = commands(build_parser())
    assert {name for name, _ in found} >= {
        "sync",
        "status",
        "invoices preview",
        "invoices generate",
        "invoices push",
    }
    for name, sub in found:
        assert sub.description, f"{name} has no description"
        assert f"sales-core {name}" in README, f"{name} is not in the README"


@pytest.mark.parametrize(
    "argv", [["--help"], ["sync", "--help"], ["invoices", "generate", "--help"]]
)
def test_help_exits_zero(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_status_text_before_any_sync(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Configured source: demo" in out and "No successful sync yet" in out


def test_wrong_setting_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIRTABLE_BASE_ID", "not-a-base")
    assert main(["status"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "AIRTABLE_BASE_ID" in err


@pytest.mark.parametrize("kind", BAD_SALES_DB_KINDS)
@pytest.mark.parametrize(
    "command", [["status"], ["sync", "--quiet"], ["invoices", "preview", "--month", "2026-11"]]
)
def test_a_bad_sales_db_is_one_line_and_exit_2(
    kind: str,
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = bad_sales_db(kind, tmp_path)
    monkeypatch.setenv("SALES_DB", str(path))
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith("sales-core: configuration error: ") and f"SALES_DB={path}" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_password_in_the_endpoint_url_is_never_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AIRTABLE_API_KEY", "patTEST0123456789")
    monkeypatch.setenv("AIRTABLE_BASE_ID", "appTESTBASE000001")
    monkeypatch.setenv("AIRTABLE_ENDPOINT_URL", f"http://user:s3cret@127.0.0.1:{port}")
    monkeypatch.setenv("AIRTABLE_MAX_RETRIES", "0")
    monkeypatch.setenv("AIRTABLE_RETRY_BACKOFF", "0.01")
    assert main(["sync", "--quiet", "--json"]) == 1
    assert main(["status", "--json"]) == 0
    printed = capsys.readouterr()
    assert f"127.0.0.1:{port}" in printed.err  # the failure names the host it could not reach
    assert "s3cret" not in printed.out + printed.err
    with store.connect(tmp_path / "sales.duckdb") as con:
        errors = [row[0] for row in con.execute("SELECT error FROM sync_runs").fetchall()]
    assert errors and not any("s3cret" in (e or "") for e in errors)


def test_month_words_for_cron() -> None:
    from sales_core.cli_common import month_of as _month

    assert str(_month("current", date(2026, 12, 3))) == "2026-12"
    assert str(_month("previous", date(2026, 12, 3))) == "2026-11"
    assert str(_month("Previous", date(2027, 1, 31))) == "2026-12"
    assert str(_month("2026-07", date(2026, 12, 3))) == "2026-07"


@pytest.mark.parametrize("command", ["preview", "generate"])
def test_a_never_synced_sales_db_is_refused_and_not_created(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    typo = tmp_path / "no-such-folder" / "sales.duckdb"
    monkeypatch.setenv("SALES_DB", str(typo))
    assert main(["invoices", command, "--month", "current"]) == 1
    err = capsys.readouterr().err
    assert f"no database at SALES_DB={typo}" in err and len(err.strip().splitlines()) == 1
    assert not typo.exists() and not typo.parent.exists()


def test_piping_into_head_ends_quietly(tmp_path: Path) -> None:
    # Enough invoices for more output than a pipe holds (64 KiB), so `head` leaves mid-write.
    demogen.write(demogen.generate(scale=12), tmp_path / "demo")
    env = {
        **os.environ,
        "SALES_DB": str(tmp_path / "sales.duckdb"),
        "SALES_DEMO_DIR": str(tmp_path / "demo"),
    }
    env.pop("AIRTABLE_API_KEY", None)
    subprocess.run([sys.executable, "-m", "sales_core", "sync", "--quiet"], env=env, check=True)
    pipeline = subprocess.run(
        # pipefail: the pipeline's status is the command's, which a closed stdout leaves at 0.
        f"set -o pipefail; {sys.executable} -m sales_core invoices preview --month 2026-11 "
        f"| head -n 1",
        shell=True,
        executable="/bin/bash",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pipeline.stdout.startswith("Would make ")
    assert pipeline.returncode == 0, pipeline.stderr
    assert "Traceback" not in pipeline.stderr and "BrokenPipeError" not in pipeline.stderr


def test_generate_exits_1_when_the_push_fails_and_keeps_the_invoices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeAirtable(token="patTEST0123456789", base_id="appTESTBASE000001") as server:
        serve_demo(server)
        for name, value in {
            **SELLER_ENV,
            "AIRTABLE_API_KEY": server.token,
            "AIRTABLE_BASE_ID": server.base_id,
            "AIRTABLE_ENDPOINT_URL": server.endpoint_url,
            "AIRTABLE_MAX_RETRIES": "0",
            "AIRTABLE_RETRY_BACKOFF": "0.01",
            "INVOICE_DIR": str(tmp_path / "invoices"),
        }.items():
            monkeypatch.setenv(name, value)
        assert main(["sync", "--quiet"]) == 0
        server.add_fault("Invoices", kind="write", status=503, times=None)
        assert main(["invoices", "generate", "--month", "2026-11", "--allow-gaps"]) == 1
        printed = capsys.readouterr()
        assert "\nMade " in printed.out and "not yet in AirTable" in printed.err
        assert (
            main(["invoices", "generate", "--month", "2026-11", "--json", "--allow-gaps"]) == 1
        )  # still pending


def test_generate_refuses_a_gap_or_a_future_month_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INVOICE_DIR", str(tmp_path / "invoices"))
    assert main(["sync", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["invoices", "generate", "--month", "2026-11"]) == 1
    err = capsys.readouterr().err
    assert "Earlier months are not billed yet: 2026-01, 2026-05." in err
    assert len(err.strip().splitlines()) == 1
    far = str(Month.of(date.today()).next().next())
    assert main(["invoices", "generate", "--month", far, "--allow-gaps"]) == 1
    err = capsys.readouterr().err
    assert "has not begun" in err and "--future" in err
    with store.connect(tmp_path / "sales.duckdb") as con:
        assert con.execute("SELECT count(*) FROM generated_invoices").fetchall() == [(0,)]
    for month in ("2026-01", "2026-05"):
        assert main(["invoices", "generate", "--month", month, "--no-push"]) == 0
    assert main(["invoices", "generate", "--month", "2026-11", "--no-push"]) == 0  # no gap now
