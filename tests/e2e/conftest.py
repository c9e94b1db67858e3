"""Real-browser fixtures: the app started as the README starts it, and Debian's chromium."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningApp:
    """The app under `make run`, on a free loopback port, with its own database."""

    def __init__(self, env: dict[str, str], log: Path, run_args: str = "") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "run",
                f"PORT={self.port}",
                "ADDRESS=127.0.0.1",
                f"RUN_ARGS={run_args}",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.read().decode().strip() == "ok":
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the app did not become healthy: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._out.close()


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[object]:
    """A function starting the app with extra environment (and extra `streamlit run` flags,
    passed through the Makefile's RUN_ARGS); every app is stopped afterwards."""
    apps: list[RunningApp] = []

    def start(run_args: str = "", **extra_env: str) -> RunningApp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRTABLE_", "SALES_"))}
        env["SALES_DB"] = str(tmp_path / "e2e.duckdb")
        env["SALES_SECRETS_FILE"] = str(tmp_path / "no-secrets.toml")
        env.update(extra_env)
        app = RunningApp(env, tmp_path / f"app-{len(apps)}.log", run_args)
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # A tall viewport: Streamlit scrolls its own container, so full-page shots miss content.
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under tests/e2e/artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


_BUSY = (
    "[data-testid='stStatusWidgetRunningIcon'], [data-testid='stStatusWidgetRunningManIcon'], "
    "[data-stale='true']"
)


def settled(page: Page, timeout: float = 90_000) -> None:
    """Wait until Streamlit has finished the script run a click or a choice started.

    While a run is under way the previous run's elements stay on the page, marked stale, so a
    text can match twice. This waits until no run is going and nothing is stale, and stays so
    for half a second (a run may start a moment after the click that asked for it).
    """
    deadline = time.monotonic() + timeout / 1000
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        if page.locator(_BUSY).count():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 0.5:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the page was still running after {timeout / 1000:.0f} s")


def loose(text: str) -> re.Pattern[str]:
    """`text` as the page shows it, where an invisible word joiner may stop an autolink."""
    return re.compile("\u2060?".join(re.escape(c) for c in text))


def choose_month(page: Page, month: str) -> None:
    """Pick `month` in the page's first select box, once the page has settled.

    A click that lands while a run replaces the select box opens nothing; it is tried again.
    """
    settled(page)
    box = page.get_by_test_id("stSelectbox").first
    option = page.get_by_role("option", name=month)
    for _ in range(3):
        box.click()
        try:
            option.wait_for(timeout=10_000)
            option.click()
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
        settled(page)
        shown = box.get_by_role("combobox").input_value()
        if shown == month:
            return
    raise AssertionError(f"{month} could not be chosen: the select box shows {shown!r}")


def open_tab(page: Page, name: str) -> None:
    """Click the tab `name` (Revenue's sections, Invoices' run, receivables and ledger): its
    content is read and drawn by the run the click starts."""
    settled(page)
    page.get_by_role("tab", name=name, exact=True).click()
    settled(page)
