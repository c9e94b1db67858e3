"""Performance figures for the AirTable -> DuckDB sync, against the loopback fake AirTable.

Run from the repository root::

    .venv/bin/python benchmarks/sync.py            # ~100k records for (a), ~10k paced for (b)
    .venv/bin/python benchmarks/sync.py --quick    # a smoke run: ~5k and ~1k records
    .venv/bin/python benchmarks/sync.py --json     # also a JSON line of every figure at the end

(a) Local overhead. Generated demo data (``sales_core.demogen``) served by ``FakeAirtable``
    without a rate limit. Each round times, in turn: the bare pyairtable fetch of the four
    tables, the product's ``fetch_all(AirtableSource(...))`` (pacing set so high it never
    waits), ``validate``, ``load`` into a fresh DuckDB file and again into that populated file
    (the real sync replaces the tables), and the whole ``run_sync`` (replacing the tables of a
    populated file). One untimed warm-up round comes first; the two fetches swap order every
    round. The medians give the ratios the issue asks about, read two ways: (validate + load) /
    bare fetch (the local overhead, <= 1.25) and, stricter, run_sync / bare fetch (<= 1.25).
    The fake server runs in this process (a thread), so the fetch figures include its own work
    (it deep-copies and JSON-encodes every page); its share is printed, and so is the time each
    step spent in Python's cyclic garbage collector. By default the fake server's sockets get
    TCP_NODELAY: its handler sends headers and body in two writes, and with Nagle's algorithm
    each page then waits ~40 ms for the client's delayed ACK, which would make the fetch
    figures measure that wait (``--nagle`` keeps the server exactly as the tests run it).

(b) Paced sync. Fewer records, served with ``rate_limit=5`` (5 requests per sliding second per
    base, 429 and a 30 s penalty above that), synced by ``run_sync`` with the default pacing.
    Prints the pages listed, the wall time, the floor (pages / 5 s), wall / floor (target
    <= 1.05) and the 429s (target 0). The pacer lets a burst of 5 start at once, so the ratio
    can be slightly below 1; wall / floor((pages - 1) / 5) is printed too (the earliest the
    last request may start under a strict 5 per sliding second).

Everything stays on 127.0.0.1; temporary files live in one temporary directory, removed at the
end. Not a test: it prints figures and asserts only that the syncs succeeded.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Loopback only: make sure no proxy from the environment is ever asked for 127.0.0.1.
for _name in ("NO_PROXY", "no_proxy"):
    _current = os.environ.get(_name, "")
    os.environ[_name] = ",".join(p for p in (_current, "127.0.0.1", "localhost") if p)

from pyairtable import Api  # noqa: E402
from pyairtable.api.types import RecordDict  # noqa: E402

from sales_core import store  # noqa: E402
from sales_core.airtable import AirtableSource, pacer_for  # noqa: E402
from sales_core.config import TABLE_KEYS, FieldMapping, Settings, load_settings  # noqa: E402
from sales_core.demogen import generate  # noqa: E402
from sales_core.sync import Validated, fetch_all, load, run_sync, validate  # noqa: E402
from tests import fake_airtable  # noqa: E402
from tests.fake_airtable import FakeAirtable  # noqa: E402

TOKEN = "patBENCHMARK.sync-benchmark-token"
BASE_ID = "appBENCH000000001"  # 'app' + 14 letters or digits
RECORDS_PER_SCALE = 832  # demogen.generate(scale=100) gives ~83k records; roughly linear
PACED_RATE = 5  # AirTable's limit, requests per second per base
OVERHEAD_TARGET = 1.25
PACED_TARGET = 1.05

Raw = dict[str, list[dict[str, Any]]]
T = TypeVar("T")


# --- helpers -------------------------------------------------------------------------------


def scale_for(records: int) -> int:
    """The demogen scale that gives about `records` records in all."""
    return max(1, round(records / RECORDS_PER_SCALE))


def serve(server: FakeAirtable, data: Raw, mapping: FieldMapping) -> None:
    """Put every generated table into the fake base, under the mapping's table names."""
    for key in TABLE_KEYS:
        server.set_records(mapping.table(key), data[key])


def settings_for(server: FakeAirtable, db_path: Path, tmp: Path, **extra: str) -> Settings:
    """The product's settings, built the way the app builds them, pointing at the fake."""
    env = {
        "AIRTABLE_API_KEY": TOKEN,
        "AIRTABLE_BASE_ID": server.base_id,
        "AIRTABLE_ENDPOINT_URL": server.endpoint_url,
        "SALES_DB": str(db_path),
        **extra,
    }
    return load_settings(env, tmp / "no-such-secrets.toml")


class ServerClock:
    """Adds up the seconds the in-process fake server spends building its answers."""

    def __init__(self, server: FakeAirtable) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        handle = server._handle

        def timed(*args: Any) -> tuple[int, bytes]:
            start = time.perf_counter()
            try:
                return handle(*args)
            finally:
                with self._lock:
                    self.seconds += time.perf_counter() - start

        setattr(server, "_handle", timed)  # noqa: B010  (an instance attribute, on purpose)

    def reset(self) -> None:
        with self._lock:
            self.seconds = 0.0


class GcClock:
    """Seconds spent in Python's cyclic garbage collector (any thread), via gc.callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1

    def reset(self) -> None:
        self.seconds = 0.0
        self.collections = 0


GC_CLOCK = GcClock()


@contextmanager
def gc_clock() -> Iterator[GcClock]:
    """GC_CLOCK registered in gc.callbacks for the duration of the block."""
    gc.callbacks.append(GC_CLOCK)
    try:
        yield GC_CLOCK
    finally:
        gc.callbacks.remove(GC_CLOCK)


def timed(fn: Callable[[], T]) -> tuple[float, float, T]:
    """(seconds, of which in the garbage collector, result) of one call.

    Garbage left by earlier steps is collected first, outside the timing.
    """
    gc.collect()
    GC_CLOCK.reset()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, GC_CLOCK.seconds, result


def remove_db(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def count(raw: dict[str, list[Any]]) -> int:
    return sum(len(v) for v in raw.values())


@contextmanager
def fake_server_nodelay(enabled: bool) -> Iterator[None]:
    """Let the fake server send its answers without waiting (TCP_NODELAY on its sockets).

    Its handler writes the headers and then the body in two sends; with Nagle's algorithm on,
    the body's last segment waits for the client's delayed ACK, ~40 ms per page on Linux
    loopback, which would make every fetch measure kernel timers instead of code.
    """
    handler = fake_airtable._Handler
    before = handler.disable_nagle_algorithm
    handler.disable_nagle_algorithm = enabled
    try:
        yield
    finally:
        handler.disable_nagle_algorithm = before


@contextmanager
def section(title: str) -> Iterator[None]:
    print(f"\n== {title}", flush=True)
    yield


# --- the steps of part (a) ------------------------------------------------------------------


def bare_fetch(server: FakeAirtable, mapping: FieldMapping) -> dict[str, list[RecordDict]]:
    """Plain pyairtable: no pacing, no retries, nothing but `Table.all()` of each table."""
    api = Api(TOKEN, endpoint_url=server.endpoint_url, timeout=(10, 60), retry_strategy=None)
    try:
        return {
            key: api.table(server.base_id, mapping.table(key)).all(page_size=100)
            for key in TABLE_KEYS
        }
    finally:
        api.session.close()


def product_fetch(settings: Settings) -> tuple[Raw, int]:
    """The product's fetch: `fetch_all(AirtableSource(settings))`; (records, requests)."""
    source = AirtableSource(settings)
    try:
        return fetch_all(source), source.request_count
    finally:
        source.api.session.close()


def load_into(db_path: Path, validated: Validated, requests: int) -> int:
    """`store.connect` + `store.transaction` + `sync.load`, as run_sync does it."""
    started_at = store.utcnow()
    with store.connect(db_path) as con, store.transaction(con):
        return load(con, validated, source="airtable", started_at=started_at, requests=requests)


def stats(samples: list[float], records: int) -> dict[str, Any]:
    median = statistics.median(samples)
    return {
        "median_s": median,
        "min_s": min(samples),
        "max_s": max(samples),
        "records_per_s": records / median if median > 0 else None,
        "samples_s": samples,
    }


class ChildServer:
    """The fake server in a forked child process, so that the fetch does not share this
    interpreter with it (as with the real API). Only what part (a) needs is relayed."""

    def __init__(self, data: Raw, mapping: FieldMapping) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve_in_child, args=(child, data, mapping), daemon=True
        )
        self._process.start()
        self.endpoint_url, self.base_id = self._conn.recv()

    def _call(self, name: str) -> None:
        self._conn.send(name)
        self._conn.recv()

    def clear_log(self) -> None:
        self._call("clear_log")

    def expire_cursors(self) -> None:
        self._call("expire_cursors")

    def __enter__(self) -> ChildServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._call("stop")
        self._process.join(timeout=10)


def _serve_in_child(conn: Any, data: Raw, mapping: FieldMapping) -> None:
    with FakeAirtable(token=TOKEN, base_id=BASE_ID, rate_limit=None) as server:
        serve(server, data, mapping)
        conn.send((server.endpoint_url, server.base_id))
        while (command := conn.recv()) != "stop":
            getattr(server, command)()
            conn.send(None)
        conn.send(None)


def part_a(
    records_target: int, repeat: int, tmp: Path, *, child_server: bool = False
) -> dict[str, Any]:
    scale = scale_for(records_target)
    data: Raw = generate(scale=scale)
    total = count(data)
    counts = {k: len(v) for k, v in data.items()}
    pages = sum(-(-n // 100) for n in counts.values())
    by_table = ", ".join(f"{k} {n:,}" for k, n in counts.items())
    print(
        f"demogen scale {scale}: {total:,} records ({by_table}); "
        f"{pages:,} list pages of 100; {repeat} timed rounds after 1 warm-up, medians below",
        flush=True,
    )
    steps = ("bare_fetch", "product_fetch", "validate", "load_fresh", "load_replace", "run_sync")
    samples: dict[str, list[float]] = {s: [] for s in steps}
    gc_samples: dict[str, list[float]] = {s: [] for s in steps}
    server_s: dict[str, list[float]] = {"bare_fetch": [], "product_fetch": []}
    requests_seen = 0
    mapping = FieldMapping()
    if child_server:
        print("  fake server in a child process: the fetch does not share this interpreter")
        harness: Any = ChildServer(data, mapping)
    else:
        harness = FakeAirtable(token=TOKEN, base_id=BASE_ID, rate_limit=None)
    with harness as server:
        if not child_server:
            serve(server, data, mapping)
        del data
        clock: Any = ServerClock(server) if not child_server else None
        run_db = tmp / "run_sync.duckdb"
        settings = settings_for(server, run_db, tmp, AIRTABLE_REQUESTS_PER_SECOND="100000")
        for round_no in range(repeat + 1):
            warm_up = round_no == 0
            server.clear_log()  # keep the server's bookkeeping from growing round after round
            server.expire_cursors()
            record: dict[str, float] = {}
            gc_s: dict[str, float] = {}
            server_now: dict[str, float] = {}
            order = (
                ("product_fetch", "bare_fetch") if round_no % 2 else ("bare_fetch", "product_fetch")
            )
            raw: Raw = {}
            for step in order:
                if clock is not None:
                    clock.reset()
                if step == "bare_fetch":
                    record[step], gc_s[step], fetched = timed(partial(bare_fetch, server, mapping))
                    assert count(fetched) == total, "the bare fetch lost records"
                    del fetched
                else:
                    record[step], gc_s[step], (raw, requests_seen) = timed(
                        partial(product_fetch, settings)
                    )
                    assert count(raw) == total, "the product's fetch lost records"
                server_now[step] = clock.seconds if clock is not None else 0.0

            record["validate"], gc_s["validate"], validated = timed(partial(validate, raw, mapping))
            del raw
            db = tmp / f"load-{round_no}.duckdb"
            record["load_fresh"], gc_s["load_fresh"], _ = timed(
                partial(load_into, db, validated, requests_seen)
            )
            record["load_replace"], gc_s["load_replace"], _ = timed(
                partial(load_into, db, validated, requests_seen)
            )
            del validated
            remove_db(db)

            # run_sync replaces the tables of a populated file: the warm-up round fills it.
            record["run_sync"], gc_s["run_sync"], result = timed(partial(run_sync, settings))
            assert result.status == "ok", result.error
            assert sum(result.counts.values()) + result.rejected == total, result.counts

            label = "warm-up" if warm_up else f"round {round_no}/{repeat}"
            print(
                f"  {label:<12} " + "  ".join(f"{s} {record[s]:6.2f}" for s in steps),
                flush=True,
            )
            if not warm_up:
                for s in steps:
                    samples[s].append(record[s])
                    gc_samples[s].append(gc_s[s])
                for s, v in server_now.items():
                    server_s[s].append(v)
        remove_db(run_db)

    figures: dict[str, Any] = {
        "scale": scale,
        "records": total,
        "records_by_table": counts,
        "pages": pages,
        "requests_per_fetch": requests_seen,
        "repeat": repeat,
        "rejected": result.rejected,
        "warnings": result.warnings,
    }
    for s in steps:
        figures[s] = stats(samples[s], total)
        figures[s]["gc_median_s"] = statistics.median(gc_samples[s])
    for s, values in server_s.items():
        figures[s]["server_median_s"] = statistics.median(values)
    med = {s: figures[s]["median_s"] for s in steps}
    figures["ratios"] = {
        "validate_plus_load_replace_over_bare_fetch": (med["validate"] + med["load_replace"])
        / med["bare_fetch"],
        "validate_plus_load_fresh_over_bare_fetch": (med["validate"] + med["load_fresh"])
        / med["bare_fetch"],
        "run_sync_over_bare_fetch": med["run_sync"] / med["bare_fetch"],
        "product_fetch_over_bare_fetch": med["product_fetch"] / med["bare_fetch"],
    }
    return figures


def print_part_a(fig: dict[str, Any]) -> None:
    labels = {
        "bare_fetch": "bare fetch (pyairtable Table.all x4)",
        "product_fetch": "product fetch (fetch_all + AirtableSource)",
        "validate": "validate",
        "load_fresh": "load into a fresh db (incl. migration)",
        "load_replace": "load into the populated db (replace)",
        "run_sync": "run_sync end to end (populated db)",
    }
    print(
        f"\n  {'step':<44}{'median s':>10}{'min s':>9}{'max s':>9}{'records/s':>12}{'in GC s':>9}"
    )
    for key, label in labels.items():
        s = fig[key]
        print(
            f"  {label:<44}{s['median_s']:>10.3f}{s['min_s']:>9.3f}{s['max_s']:>9.3f}"
            f"{s['records_per_s']:>12,.0f}{s['gc_median_s']:>9.3f}"
        )
    for key in ("bare_fetch", "product_fetch"):
        share = fig[key]["server_median_s"] / fig[key]["median_s"]
        print(
            f"    of which the in-process fake server ({key}): "
            f"{fig[key]['server_median_s']:.3f} s ({share:.0%})"
        )
    r = fig["ratios"]
    local = r["validate_plus_load_replace_over_bare_fetch"]
    whole = r["run_sync_over_bare_fetch"]
    print()
    # The "local overhead <= 1.25x the bare fetch" reads two ways; both are printed.
    print(
        f"  RATIO (validate + load replace) / bare fetch   = {local:.3f}"
        f"   (local overhead <= {OVERHEAD_TARGET}x the fetch: "
        f"{'meets' if local <= OVERHEAD_TARGET else 'MISSES'})"
    )
    print(
        f"  RATIO run_sync / bare fetch                    = {whole:.3f}"
        f"   (stricter reading, whole sync <= {OVERHEAD_TARGET}x: "
        f"{'meets' if whole <= OVERHEAD_TARGET else 'misses'}; the in-process server's share "
        f"of the fetch is above)"
    )
    print(
        f"  ratio (validate + load fresh) / bare fetch     = "
        f"{r['validate_plus_load_fresh_over_bare_fetch']:.3f}"
    )
    print(
        f"  ratio product fetch / bare fetch               = "
        f"{r['product_fetch_over_bare_fetch']:.3f}"
    )


# --- part (b) -------------------------------------------------------------------------------


def peak_per_window(times: list[float], window: float = 1.0) -> int:
    """The most arrivals within any half-open window of `window` seconds."""
    best = 0
    first = 0
    for last, t in enumerate(times):
        while t - times[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def tightest_span(times: list[float], count: int) -> float | None:
    """The shortest time from one event to the `count - 1`-th after it (None if too few)."""
    ordered = sorted(times)
    spans = [ordered[i + count - 1] - ordered[i] for i in range(len(ordered) - count + 1)]
    return min(spans) if spans else None


class Stamps:
    """Monotonic times of calls to a wrapped callable (an instance attribute, this run only)."""

    def __init__(self, owner: object, name: str, *, after: bool) -> None:
        self.times: list[float] = []
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not after:
                self.times.append(time.monotonic())
            result = original(*args, **kwargs)
            if after:
                self.times.append(time.monotonic())
            return result

        setattr(owner, name, wrapper)


def part_b(records_target: int, tmp: Path) -> dict[str, Any]:
    scale = scale_for(records_target)
    data: Raw = generate(scale=scale)
    total = count(data)
    counts = {k: len(v) for k, v in data.items()}
    expected_pages = sum(-(-n // 100) for n in counts.values())
    print(
        f"demogen scale {scale}: {total:,} records, {expected_pages} list pages; server "
        f"rate_limit={PACED_RATE}/s with a 30 s penalty; run_sync with the default pacing "
        f"(expect ~{expected_pages / PACED_RATE:.0f} s)",
        flush=True,
    )
    marks: dict[str, float] = {}

    def progress(message: str) -> None:
        if message.startswith("Checking"):
            marks.setdefault("validate", time.monotonic())
        elif message.startswith("Writing"):
            marks.setdefault("load", time.monotonic())

    with FakeAirtable(
        token=TOKEN, base_id=BASE_ID, rate_limit=PACED_RATE, penalty_seconds=30.0
    ) as server:
        mapping = FieldMapping()
        serve(server, data, mapping)
        del data
        db = tmp / "paced.duckdb"
        settings = settings_for(server, db, tmp)  # default pacing and penalty
        # Diagnostics: when the product's pacer let each request start (after wait()), and when
        # the server's limiter looked at it (its _admit, which reads the clock itself).
        pacer = pacer_for(settings.endpoint_url, server.base_id, settings.requests_per_second)
        starts = Stamps(pacer, "wait", after=True)
        admissions = Stamps(server, "_admit", after=False)
        gc.collect()
        start = time.monotonic()
        result = run_sync(settings, progress=progress)
        end = time.monotonic()
        log = server.log
        remove_db(db)

    assert result.status == "ok", result.error
    lists = [e for e in log if e.kind == "list"]
    pages = sum(1 for e in lists if e.status == 200)
    too_many = sum(1 for e in log if e.status == 429)
    admitted = sorted(e.time for e in log if e.status != 429)
    arrivals = [e.time for e in log]
    window = PACED_RATE + 1  # the server refuses a 6th request within 1.0 s
    delays = [a - s for s, a in zip(sorted(starts.times), sorted(admissions.times), strict=False)]
    wall = end - start
    floor = pages / PACED_RATE
    fetch_end = marks.get("validate", end)
    return {
        "scale": scale,
        "records": total,
        "records_by_table": counts,
        "list_requests": len(lists),
        "pages": pages,
        "requests_counted_by_sync": result.requests,
        "responses_429": too_many,
        "wall_s": wall,
        "floor_s": floor,
        "wall_over_floor": wall / floor,
        # Under 5 starts per sliding second the last of `pages` requests can start at the
        # earliest at floor((pages - 1) / 5) s: bursts of 5, one second apart.
        "burst_floor_s": float((pages - 1) // PACED_RATE) if pages else 0.0,
        "fetch_s": fetch_end - start,
        "validate_s": marks.get("load", end) - fetch_end,
        "load_s": end - marks.get("load", end),
        "first_to_last_request_s": admitted[-1] - admitted[0] if admitted else 0.0,
        "peak_requests_per_1s_window": peak_per_window(admitted),
        "pacer_margin_s": pacer.window - 1.0,
        "tightest_6_client_starts_s": tightest_span(starts.times, window),
        "tightest_6_server_arrivals_s": tightest_span(arrivals, window),
        "tightest_6_server_admissions_s": tightest_span(admissions.times, window),
        "start_to_admission_median_ms": statistics.median(delays) * 1000 if delays else None,
        "start_to_admission_max_ms": max(delays) * 1000 if delays else None,
    }


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} s"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def print_part_b(fig: dict[str, Any]) -> None:
    verdict = "meets" if fig["wall_over_floor"] <= PACED_TARGET else "MISSES"
    verdict_429 = "meets" if fig["responses_429"] == 0 else "MISSES"
    burst_floor = fig["burst_floor_s"]
    lines = [
        ("list requests (server log)", f"{fig['list_requests']}"),
        ("pages (list requests answered 200)", f"{fig['pages']}"),
        ("requests counted by the sync", f"{fig['requests_counted_by_sync']}"),
        (
            "wall time",
            f"{fig['wall_s']:.2f} s (fetch {fig['fetch_s']:.2f} s, validate "
            f"{fig['validate_s']:.2f} s, load {fig['load_s']:.2f} s)",
        ),
        ("first to last request", f"{fig['first_to_last_request_s']:.2f} s"),
        (f"floor = pages / {PACED_RATE} s", f"{fig['floor_s']:.2f} s"),
        (
            "RATIO wall / floor",
            f"{fig['wall_over_floor']:.3f}   (target <= {PACED_TARGET}: {verdict}; the burst "
            f"of {PACED_RATE} at the start can put it below 1)",
        ),
    ]
    if burst_floor > 0:
        lines.append(
            (
                "(wall / burst floor)",
                f"{fig['wall_s'] / burst_floor:.3f}   (the last start at the earliest: "
                f"floor((pages - 1) / {PACED_RATE}) = {burst_floor:.0f} s)",
            )
        )
    lines += [
        ("429 responses", f"{fig['responses_429']}   (target 0: {verdict_429})"),
        ("peak requests in any 1 s window", f"{fig['peak_requests_per_1s_window']}"),
        (
            "tightest 6 consecutive requests",
            f"client starts {_seconds(fig['tightest_6_client_starts_s'])}, server arrivals "
            f"{_seconds(fig['tightest_6_server_arrivals_s'])}, server limiter "
            f"{_seconds(fig['tightest_6_server_admissions_s'])} (refused below 1.000 s; "
            f"pacer margin {fig['pacer_margin_s']:.3f} s)",
        ),
        (
            "client start -> server limiter",
            f"median {_ms(fig['start_to_admission_median_ms'])}, "
            f"max {_ms(fig['start_to_admission_max_ms'])}",
        ),
    ]
    for label, value in lines:
        print(f"  {label:<36}{value}")


# --- main -----------------------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 0
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "duckdb": version("duckdb"),
        "pyairtable": version("pyairtable"),
        "pyarrow": version("pyarrow"),
        "pydantic": version("pydantic"),
        "requests": version("requests"),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/sync.py",
        description="Print performance figures for the AirTable -> DuckDB sync, against a "
        "loopback fake AirTable (127.0.0.1 only).",
    )
    parser.add_argument(
        "--records",
        type=int,
        help="records in all four tables for part (a) (default 100000; --quick: 5000)",
    )
    parser.add_argument(
        "--paced-records",
        type=int,
        help="records for the paced sync of part (b) (default 10000; --quick: 1000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="timed rounds of part (a), the median is reported (default 5; --quick: 3)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--part",
        choices=("a", "b", "both"),
        default="both",
        help="run only part (a), the local overhead, or (b), the paced sync (default both)",
    )
    parser.add_argument(
        "--nagle",
        action="store_true",
        help="leave Nagle's algorithm on in the fake server, as the tests run it (each page then "
        "waits ~40 ms for a delayed ACK, so the fetches measure that wait; use small sizes)",
    )
    parser.add_argument(
        "--child-server",
        action="store_true",
        help="(a): run the fake server in a child process, as a real API is out of process",
    )
    parser.add_argument(
        "--json", action="store_true", help="also print one JSON line of all figures at the end"
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    if args.records is None:
        args.records = 5000 if quick else 100_000
    if args.paced_records is None:
        args.paced_records = 1000 if quick else 10_000
    if args.repeat is None:
        args.repeat = 3 if quick else 5
    for name in ("records", "paced_records", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine_facts()
    began = time.monotonic()
    print("Sync benchmark (benchmarks/sync.py)" + (" --quick" if args.quick else ""))
    print(
        f"  {datetime.now().isoformat(timespec='seconds')}  Python {facts['python']} "
        f"({facts['implementation']}) on {facts['platform']}"
    )
    load_avg = facts["load_average_1min"]
    print(
        f"  load average (1 min) at start: {load_avg:.2f}"
        if load_avg is not None
        else "  load average: unknown"
    )
    print(
        f"  cpus {facts['cpu_count']} (usable {facts['cpus_usable']}); duckdb {facts['duckdb']}, "
        f"pyairtable {facts['pyairtable']}, pyarrow {facts['pyarrow']}, "
        f"pydantic {facts['pydantic']}, requests {facts['requests']}"
    )
    print(
        f"  sizes: (a) ~{args.records:,} records x {args.repeat} rounds, "
        f"(b) ~{args.paced_records:,} records paced at {PACED_RATE}/s"
    )
    transport = (
        "Nagle on (the fake server as the tests run it: ~40 ms delayed-ACK wait per page)"
        if args.nagle
        else "TCP_NODELAY on the fake server's sockets (--nagle to turn it off)"
    )
    print(f"  fake server in this process on 127.0.0.1; {transport}")
    with (
        fake_server_nodelay(not args.nagle),
        gc_clock(),
        tempfile.TemporaryDirectory(prefix="sales-bench-") as tmp_name,
    ):
        tmp = Path(tmp_name)
        fig_a: dict[str, Any] | None = None
        fig_b: dict[str, Any] | None = None
        if args.part in ("a", "both"):
            with section("(a) local overhead, no rate limit"):
                fig_a = part_a(args.records, args.repeat, tmp, child_server=args.child_server)
                print_part_a(fig_a)
        if args.part in ("b", "both"):
            with section("(b) paced sync against a 5 requests/s server"):
                fig_b = part_b(args.paced_records, tmp)
                print_part_b(fig_b)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total_s = time.monotonic() - began
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(
        f"\n  peak RSS {peak_rss_mb:,.0f} MB; benchmark took {total_s:.0f} s"
        + (f"; load average (1 min) at the end: {load_end:.2f}" if load_end is not None else "")
    )
    if args.json:
        figures = {
            "machine": facts,
            "quick": bool(args.quick),
            "fake_server_nodelay": not args.nagle,
            "a": fig_a,
            "b": fig_b,
            "peak_rss_mb": peak_rss_mb,
            "total_s": total_s,
            "load_average_1min_end": load_end,
        }
        print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
