"""The AirTable boundary: pacing, and writes keyed on an idempotency key."""

from __future__ import annotations

from typing import Any

import pytest

from sales_core.airtable import AirtableSource, Pacer
from sales_core.errors import AirtableError
from tests.conftest import LoopbackSettings
from tests.fake_airtable import FakeAirtable

TOKEN = "test-token-0123456789"
BASE = "appTESTBASE000001"


def test_pacer__at_most_rate_starts_in_any_window() -> None:
    now = [0.0]
    starts: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(5, clock=lambda: now[0], sleep=sleep)
    ends: list[float] = []
    for _ in range(23):
        mark = pacer.wait()
        starts.append(now[0])
        now[0] += 0.03  # the request takes 30 ms
        pacer.finished(mark)
        ends.append(now[0])
    for i in range(len(starts) - 5):
        # Counted from the end of request i: the server sees a full second whatever the delay.
        assert starts[i + 5] - ends[i] >= 1.0
    assert starts[-1] < 23 / 5 * 1.05 + 0.2  # and hardly slower than it must be


@pytest.fixture
def base(loopback_settings: LoopbackSettings) -> Any:
    with FakeAirtable(token=TOKEN, base_id=BASE) as server:
        server.set_records("Invoices", [])
        settings = loopback_settings(
            server, AIRTABLE_RATE_LIMIT_PENALTY=None, AIRTABLE_TIMEOUT=None, INVOICE_DIR=None
        )
        yield server, AirtableSource(settings)


def invoice(n: int) -> dict[str, Any]:
    return {"invoice_key": f"recC/{n}", "number": f"INV-2026-{n:04d}", "amount": 10.5}


def test_upsert_by_key__creates_then_updates_never_doubles(base: Any) -> None:
    server, source = base
    first = source.upsert_by_key("invoices", [invoice(n) for n in range(25)], "invoice_key")
    assert len(first) == 25
    again = source.upsert_by_key("invoices", [invoice(n) for n in range(25)], "invoice_key")
    assert again == first
    rows = server.records("Invoices")
    assert len(rows) == 25
    assert {r["fields"]["Invoice Key"] for r in rows} == {f"recC/{n}" for n in range(25)}
    assert len(server.requests_for("Invoices", kind="write")) == 6  # 3 chunks of 10, twice


def test_upsert_by_key__a_failed_chunk_reports_what_was_written(base: Any) -> None:
    server, source = base
    server.add_fault("Invoices", kind="write", on_request=2, status=500, times=None)
    confirmed: dict[str, str] = {}
    with pytest.raises(AirtableError, match="500"):
        source.upsert_by_key(
            "invoices", [invoice(n) for n in range(25)], "invoice_key", confirmed.update
        )
    assert sorted(confirmed) == sorted(f"recC/{n}" for n in range(10))
    server.clear_faults()
    source.upsert_by_key("invoices", [invoice(n) for n in range(25)], "invoice_key")
    assert len(server.records("Invoices")) == 25


def test_ids_by_key__reads_the_keys_back(base: Any) -> None:
    _server, source = base
    written = source.upsert_by_key("invoices", [invoice(n) for n in range(3)], "invoice_key")
    found = source.ids_by_key("invoices", "invoice_key")
    assert found == {key: [rid] for key, rid in written.items()}
