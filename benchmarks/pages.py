"""Render every dashboard page through AppTest on the demo data and on a large dataset.

    .venv/bin/python benchmarks/pages.py [--runs 5] [--out data/bench]

The large dataset is generated once by `sales_core.demogen` (20,000 opportunities, 3,000
contracts, 100,000 invoices) into `<out>/large/` and synced into `<out>/large.duckdb`; the
demo data is `data/demo/` synced into `<out>/demo.duckdb`. For each page the script times a
render with an empty query cache (the SQL runs) and a rerun (served from the cache), takes the
median of `--runs` of each, and prints the large ÷ demo ratio of the cold renders. The target is
a ratio of at most 1.5 for every page. "Today" is pinned to the demo's day, 2026-11-25.
Qualify is rendered twice: as it opens (the picker) and with the opportunity that has the most
assessments chosen by its link (summary, history, comparison and checklist). Invoices is rendered
once per tab, each opened by its link (`?section=Receivables`); only the open tab is read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit import logger as streamlit_logger  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from sales_core import demogen, store  # noqa: E402
from sales_core.config import Settings  # noqa: E402
from sales_core.health import sync_status  # noqa: E402
from sales_core.sync import run_sync  # noqa: E402
from ui import chrome  # noqa: E402

APP = str(ROOT / "app.py")
PAGES = [script for script, _ in chrome.PAGES]
QUALIFY = "pages/qualify.py"
CHOSEN = f"{QUALIFY}?opportunity=…"  # Qualify with the most assessed opportunity chosen
INVOICES = "pages/invoices.py"
# The Invoices page's other tabs, opened by their link (the first tab is the page itself)
TABS = {
    f"{INVOICES}?section=Receivables": "Receivables",
    f"{INVOICES}?section=Invoices+made+here": "Invoices made here",
}
CASES = [*PAGES[: PAGES.index(QUALIFY) + 1], CHOSEN, *PAGES[PAGES.index(QUALIFY) + 1 :]]
CASES[CASES.index(INVOICES) + 1 : CASES.index(INVOICES) + 1] = list(TABS)
LARGE = demogen.Sizes(opportunities=20_000, contracts=3_000, invoices=100_000)
TODAY = "2026-11-25"


def prepare(out: Path) -> dict[str, Path]:
    """The two synced databases, made when missing; returns dataset name -> database."""
    out.mkdir(parents=True, exist_ok=True)
    large_dir = out / "large"
    if not (large_dir / "invoices.json").exists():
        print("generating the large dataset…", flush=True)
        demogen.write(demogen.generate(scale=50, sizes=LARGE), large_dir)
    databases = {}
    for name, source in (("demo", ROOT / "data" / "demo"), ("large", large_dir)):
        db = out / f"{name}.duckdb"
        if not db.exists():
            print(f"syncing {name} into {db}…", flush=True)
            run_sync(Settings(db_path=db, demo_dir=source), "demo")
        databases[name] = db
    return databases


def use(db: Path, source: Path) -> None:
    os.environ.update(
        SALES_DB=str(db),
        SALES_DEMO_DIR=str(source),
        SALES_TODAY=TODAY,
        SALES_SECRETS_FILE=str(db.parent / "no-secrets.toml"),
    )


def most_assessed(db: Path) -> str:
    """The opportunity with the most assessments in `db` (the lowest id among equals)."""
    with store.connect(db) as con:
        [(opportunity,)] = con.execute(
            "SELECT opportunity_id FROM qualifications WHERE opportunity_id IS NOT NULL "
            "GROUP BY opportunity_id ORDER BY count(*) DESC, opportunity_id LIMIT 1"
        ).fetchall()
    return str(opportunity)


def render(page: str, query: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds of one cold render of `page` (empty query cache) and of a rerun after it."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()  # the router's first run; Streamlit's own start-up is not what we measure
    at.query_params.update(query or {})
    st.cache_data.clear()
    started = time.perf_counter()
    at.switch_page(page).run()
    cold = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"{page} raised: {at.exception}")
    started = time.perf_counter()
    at.run()
    return cold, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Print the per-page medians and the large ÷ demo ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="renders per page (median)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument(
        "--only", default="", help="time only the pages whose path contains this text"
    )
    args = parser.parse_args(argv)
    cases = [page for page in CASES if args.only in page]
    # AppTest runs without a server, and Streamlit says so at every start: not news here
    for name in (
        "streamlit.runtime.caching.cache_data_api",
        "streamlit.runtime.scriptrunner_utils.script_run_context",
    ):
        streamlit_logger.get_logger(name).addFilter(lambda record: False)
    databases = prepare(args.out)
    sources = {"demo": ROOT / "data" / "demo", "large": args.out / "large"}
    chosen = {name: most_assessed(db) for name, db in databases.items()}
    for name, db in databases.items():
        counts = sync_status(db).counts
        print(f"{name}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()), flush=True)
    # One untimed pass first (imports, Streamlit's first script runs), then the datasets
    # alternate page by page, so that drift in the machine's speed hits both alike.
    timings: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for attempt in range(args.runs + 1):
        for page in cases:
            for name, db in databases.items():
                use(db, sources[name])
                if page == CHOSEN:
                    timing = render(QUALIFY, {"opportunity": chosen[name]})
                elif page in TABS:
                    timing = render(INVOICES, {"section": TABS[page]})
                else:
                    timing = render(page)
                if attempt:
                    timings.setdefault((name, page), []).append(timing)
    results = {
        name: {
            page: (
                statistics.median(t[0] for t in timings[name, page]),
                statistics.median(t[1] for t in timings[name, page]),
            )
            for page in cases
        }
        for name in databases
    }
    print(f"\nmedian of {args.runs} renders, seconds (cold: empty cache; warm: a rerun)")
    print(
        f"{'page':<44}{'demo cold':>10}{'large cold':>12}{'ratio':>8}{'demo warm':>11}"
        f"{'large warm':>12}"
    )
    worst = 0.0
    for page in cases:
        demo_cold, demo_warm = results["demo"][page]
        large_cold, large_warm = results["large"][page]
        ratio = large_cold / demo_cold
        worst = max(worst, ratio)
        print(
            f"{page:<44}{demo_cold:>10.3f}{large_cold:>12.3f}{ratio:>7.2f}×{demo_warm:>11.3f}"
            f"{large_warm:>12.3f}"
        )
    verdict = "within" if worst <= 1.5 else "OVER"
    print(f"\nworst ratio {worst:.2f}× ({verdict} the 1.5× target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
