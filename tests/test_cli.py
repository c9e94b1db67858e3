"""The command line: every command has help and appears in the README."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import pytest

from sales_core import store
from sales_core.cli import build_parser, main

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


@pytest.mark.parametrize("kind", ["directory", "text file", "device"])
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
    if kind == "directory":
        path = tmp_path / "folder"
        path.mkdir()
    elif kind == "text file":
        path = tmp_path / "notes.txt"
        path.write_text("not a database\n" * 100)
    else:
        path = Path("/dev/null")
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
