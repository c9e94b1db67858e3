"""Time every page in a real browser against a plain one-page Streamlit app, in one run.

    .venv/bin/python benchmarks/browser.py [--runs 5] [--first-runs 3]

Both apps are started here, the console with the README's command (`make run`) on its demo
data, the baseline (`benchmarks/baseline/app.py`: one plotly chart and one 100-row table) with
`streamlit run`. Each load opens a fresh tab of one browser (Debian's chromium, headless; its
cache is kept, as a person's would be: each app's scripts load from it) and is timed
from navigation until the script is idle and every plotly chart on the page has drawn. The
table gives the median of `--runs` loads per page and its ratio to the baseline's median,
measured in the same run (targets: every page at most 1.5x). `--first-runs` fresh console
servers are started to time their very first request, on `/`, with a new database: what a new
user meets after `make run`, the demo's first sync included (target: at most 3x).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PAGES = {
    "Overview": "/",
    "Pipeline": "/pipeline",
    "Revenue": "/revenue",
    "Qualify a lead": "/qualify",
    "Invoices": "/invoices",
    "Data health": "/data_health",
}
_BUSY = (
    "[data-testid='stStatusWidgetRunningIcon'], [data-testid='stStatusWidgetRunningManIcon'], "
    "[data-stale='true'], [data-testid='stSkeleton']"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def start_console(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        ["make", "-s", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    return process, url


def start_baseline() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "streamlit"),
            "run",
            str(ROOT / "benchmarks" / "baseline" / "app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, 9)


def drawn(page: Page) -> bool:
    """No run going, nothing stale, a heading shown and every plotly chart drawn."""
    if page.locator(_BUSY).count() or not page.locator("h1").count():
        return False
    charts = page.locator("[data-testid='stPlotlyChart']").count()
    return page.locator("[data-testid='stPlotlyChart'] .main-svg").count() >= charts


def load(context: BrowserContext, url: str, quiet: float = 0.3) -> float:
    """Seconds from navigation until the page is drawn and stays so for `quiet` seconds, in a
    fresh tab (the browser's cache is kept, as a person's would be)."""
    page = context.new_page()
    try:
        start = time.monotonic()
        page.goto(url, wait_until="commit")
        since: float | None = None
        while True:
            if drawn(page):
                since = since or time.monotonic()
                if time.monotonic() - since >= quiet:
                    return since - start
            else:
                since = None
            if time.monotonic() - start > 120:
                raise RuntimeError(f"{url} never settled")
            page.wait_for_timeout(25)
    finally:
        page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--first-runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRTABLE_", "SALES_"))}
    env |= {
        "SALES_DB": str(work / "sales.duckdb"),
        "INVOICE_DIR": str(work / "invoices"),
        "SALES_SECRETS_FILE": str(work / "none.toml"),
        "SALES_TODAY": "2026-11-25",
    }
    results: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        tabs = browser.new_context(viewport={"width": 1400, "height": 1000})
        baseline, base_url = start_baseline()
        console, url = start_console(env)
        try:
            load(tabs, url)  # the first demo sync, and every module imported once
            for path in PAGES.values():
                load(tabs, url + path)
            load(tabs, base_url)
            for _ in range(args.runs):  # interleaved, so drift hits every page alike
                results.setdefault("baseline", []).append(load(tabs, base_url))
                for name, path in PAGES.items():
                    results.setdefault(name, []).append(load(tabs, url + path))
        finally:
            stop(console)
            stop(baseline)
        firsts: list[float] = []
        for n in range(args.first_runs):
            fresh = env | {"SALES_DB": str(work / f"first-{n}.duckdb")}
            process, first_url = start_console(fresh)
            try:
                firsts.append(load(tabs, first_url))
            finally:
                stop(process)
        browser.close()
    base = statistics.median(results["baseline"])
    print(f"{'page':<28} {'median s':>9} {'x baseline':>11}   (runs: {args.runs})")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name:<28} {median:>9.2f} {median / base:>11.2f}")
    if firsts:
        median = statistics.median(firsts)
        label = "first request, fresh server"
        print(f"{label:<28} {median:>9.2f} {median / base:>11.2f}   (runs: {len(firsts)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
