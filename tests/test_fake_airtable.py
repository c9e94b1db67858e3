"""The loopback AirTable server, driven by the real pyairtable client."""

import contextlib
import itertools
import threading
import time
from typing import Any

import pytest
import requests
from pyairtable import Api, retry_strategy
from pyairtable.api.table import Table

from tests.fake_airtable import FakeAirtable, airtable_record

INVOICES = "Invoices"


def _api(server: FakeAirtable, token: str | None = None, **kwargs: Any) -> Api:
    kwargs.setdefault("timeout", (2, 5))
    kwargs.setdefault("retry_strategy", None)
    return Api(token or server.token, endpoint_url=server.endpoint_url, **kwargs)


def _invoices(server: FakeAirtable, count: int) -> list[dict[str, Any]]:
    records = [
        airtable_record(
            {
                "Invoice Number": f"INV-2026-{n:04d}",
                "Invoice Key": f"key-{n}",
                "Amount": 100 + n,
            }
        )
        for n in range(1, count + 1)
    ]
    server.set_records(INVOICES, records)
    return records


def _table(server: FakeAirtable, name: str = INVOICES, **kwargs: Any) -> Table:
    return _api(server, **kwargs).table(server.base_id, name)


def _error_type(error: requests.HTTPError) -> str:
    assert error.response is not None
    return str(error.response.json()["error"]["type"])


# -- listing ---------------------------------------------------------------------------------


def test_all__250_records_in_order_over_three_pages(fake_airtable: FakeAirtable) -> None:
    expected = _invoices(fake_airtable, 250)

    records = _table(fake_airtable).all()

    assert records == expected
    pages = fake_airtable.requests_for(INVOICES, kind="list")
    assert [entry.status for entry in pages] == [200, 200, 200]
    assert "offset" not in pages[0].query
    assert all(entry.query["offset"] for entry in pages[1:])


def test_iterate__page_size_and_max_records(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 250)
    table = _table(fake_airtable)

    assert [len(page) for page in table.iterate(page_size=100)] == [100, 100, 50]
    assert [len(page) for page in table.iterate(page_size=30, max_records=70)] == [30, 30, 10]


def test_list__table_by_name_with_spaces_or_by_id(fake_airtable: FakeAirtable) -> None:
    table_id = fake_airtable.set_records("Sales Pipeline", [airtable_record({"Stage": "Lead"})])

    by_name = _table(fake_airtable, "Sales Pipeline").all()
    by_id = _table(fake_airtable, table_id).all()

    assert by_name == by_id == fake_airtable.records("Sales Pipeline")
    assert fake_airtable.count(table="Sales Pipeline", status=200) == 2


def test_list__fields_and_sort(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 5)

    records = _table(fake_airtable).all(fields=["Amount"], sort=["-Amount"])

    assert [r["fields"] for r in records] == [{"Amount": a} for a in (105, 104, 103, 102, 101)]


def test_list__long_url_falls_back_to_post_list_records(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 150)
    many_fields = ["Invoice Number"] + [f"Unused field {n:03d} " + "x" * 60 for n in range(250)]

    records = _table(fake_airtable).all(fields=many_fields)

    assert len(records) == 150
    assert all(set(r["fields"]) == {"Invoice Number"} for r in records)
    posts = fake_airtable.requests_for(INVOICES, kind="list")
    assert [(e.method, e.path.rsplit("/", 1)[-1]) for e in posts] == [("POST", "listRecords")] * 2
    assert "offset" in posts[1].body


def test_formula__rejected_rather_than_ignored(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 3)

    with pytest.raises(requests.HTTPError) as caught:
        _table(fake_airtable).all(formula="{Amount} > 101")

    assert _error_type(caught.value) == "INVALID_FILTER_BY_FORMULA"


# -- errors and faults -----------------------------------------------------------------------


def test_wrong_token__401(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 1)

    with pytest.raises(requests.HTTPError) as caught:
        _table(fake_airtable, token="wrong").all()

    assert caught.value.response is not None
    assert caught.value.response.status_code == 401
    assert _error_type(caught.value) == "AUTHENTICATION_REQUIRED"


def test_unknown_base_or_table__404(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 1)
    api = _api(fake_airtable)

    with pytest.raises(requests.HTTPError) as no_table:
        api.table(fake_airtable.base_id, "Nope").all()
    with pytest.raises(requests.HTTPError) as no_base:
        api.table("appNOPE0000000000", INVOICES).all()

    assert _error_type(no_table.value) == "TABLE_NOT_FOUND"
    assert _error_type(no_base.value) == "NOT_FOUND"


def test_fault_429__surfaces_as_http_error(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 250)
    fake_airtable.add_fault(INVOICES, on_request=2, status=429)

    with pytest.raises(requests.HTTPError) as caught:
        _table(fake_airtable).all()

    assert caught.value.response is not None
    assert caught.value.response.status_code == 429
    assert _error_type(caught.value) == "RATE_LIMIT_REACHED"
    assert fake_airtable.count(status=429) == 1
    assert _table(fake_airtable).all()  # times=1: the next listing is clean


@pytest.mark.parametrize("status", [500, 502, 503])
def test_fault_5xx__surfaces_as_http_error(fake_airtable: FakeAirtable, status: int) -> None:
    _invoices(fake_airtable, 10)
    fake_airtable.add_fault(INVOICES, status=status, times=None)

    for _ in range(2):
        with pytest.raises(requests.HTTPError):
            _table(fake_airtable).all()

    assert fake_airtable.count(status=status) == 2


def test_fault_500__retried_page_reuses_its_offset(fake_airtable: FakeAirtable) -> None:
    expected = _invoices(fake_airtable, 250)
    fake_airtable.add_fault(INVOICES, on_request=2, status=500)
    retry = retry_strategy(status_forcelist=(500,), backoff_factor=0.01)

    records = _table(fake_airtable, retry_strategy=retry).all()

    assert records == expected
    pages = fake_airtable.requests_for(INVOICES, kind="list")
    assert [e.status for e in pages] == [200, 500, 200, 200]
    assert pages[1].query["offset"] == pages[2].query["offset"]


def test_expired_cursor__422_iterator_not_available(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 250)
    pages = _table(fake_airtable).iterate()
    assert len(next(pages)) == 100

    assert fake_airtable.expire_cursors(INVOICES) == 1
    with pytest.raises(requests.HTTPError) as caught:
        next(pages)

    assert caught.value.response is not None
    assert caught.value.response.status_code == 422
    assert _error_type(caught.value) == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"


def test_injected_422_on_list__iterator_not_available(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 250)
    fake_airtable.add_fault(INVOICES, on_request=3, status=422)

    with pytest.raises(requests.HTTPError) as caught:
        _table(fake_airtable).all()

    assert _error_type(caught.value) == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"


def test_malformed_json__client_raises_value_error(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 10)
    fake_airtable.add_fault(INVOICES, status=200, body='{"records": [')

    with pytest.raises(ValueError):
        _table(fake_airtable).all()


def test_delay__client_read_timeout_then_recovers(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 10)
    fake_airtable.add_fault(INVOICES, status=None, delay=1.0)
    table = _table(fake_airtable, timeout=(2, 0.2))

    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        table.all()

    assert time.monotonic() - started < 0.9
    assert len(table.all()) == 10


# -- writes ----------------------------------------------------------------------------------


def _invoice_fields(n: int, amount: int) -> dict[str, Any]:
    return {"fields": {"Invoice Key": f"key-{n}", "Invoice Number": f"INV-{n}", "Amount": amount}}


def test_batch_upsert__creates_then_updates_without_duplicates(
    fake_airtable: FakeAirtable,
) -> None:
    fake_airtable.set_records(INVOICES, [])
    table = _table(fake_airtable)

    first = table.batch_upsert(
        [_invoice_fields(n, 100) for n in range(25)], key_fields=["Invoice Key"]
    )
    second = table.batch_upsert(
        [_invoice_fields(n, 200) for n in range(25)], key_fields=["Invoice Key"]
    )

    assert (len(first["createdRecords"]), len(first["updatedRecords"])) == (25, 0)
    assert (len(second["createdRecords"]), len(second["updatedRecords"])) == (0, 25)
    stored = fake_airtable.records(INVOICES)
    assert len(stored) == 25
    assert {r["fields"]["Amount"] for r in stored} == {200}
    assert sorted(second["updatedRecords"]) == sorted(r["id"] for r in stored)
    assert fake_airtable.count(table=INVOICES, method="PATCH") == 6  # 3 chunks of <= 10, twice


def test_batch_upsert__key_matching_two_records__422_nothing_written(
    fake_airtable: FakeAirtable,
) -> None:
    twins = [airtable_record({"Invoice Key": "dup", "Amount": n}) for n in (1, 2)]
    fake_airtable.set_records(INVOICES, twins)
    table = _table(fake_airtable)

    with pytest.raises(requests.HTTPError) as caught:
        table.batch_upsert(
            [{"fields": {"Invoice Key": "new", "Amount": 3}}, {"fields": {"Invoice Key": "dup"}}],
            key_fields=["Invoice Key"],
        )

    assert caught.value.response is not None
    assert caught.value.response.status_code == 422
    assert fake_airtable.records(INVOICES) == twins


def test_write_fault_on_second_chunk__first_chunk_stays(fake_airtable: FakeAirtable) -> None:
    fake_airtable.set_records(INVOICES, [])
    fake_airtable.add_fault(INVOICES, kind="write", on_request=2, status=503)

    with pytest.raises(requests.HTTPError):
        _table(fake_airtable).batch_create([{"Invoice Key": f"k{n}"} for n in range(25)])

    assert len(fake_airtable.records(INVOICES)) == 10
    assert [e.status for e in fake_airtable.requests_for(INVOICES, kind="write")] == [200, 503]


def test_write_of_eleven_records__422(fake_airtable: FakeAirtable) -> None:
    fake_airtable.set_records(INVOICES, [])
    api = _api(fake_airtable)
    url = api.table(fake_airtable.base_id, INVOICES).urls.records

    with pytest.raises(requests.HTTPError) as caught:
        api.request("POST", url, json={"records": [{"fields": {"N": n}} for n in range(11)]})

    assert _error_type(caught.value) == "INVALID_RECORDS"
    assert fake_airtable.records(INVOICES) == []


def test_single_record_create_update_get_delete(fake_airtable: FakeAirtable) -> None:
    fake_airtable.set_records(INVOICES, [])
    table = _table(fake_airtable)

    created = table.create({"Invoice Key": "k1", "Amount": 10, "Paid": False})
    table.update(created["id"], {"Amount": 0, "Status": "Paid"})
    fetched = table.get(created["id"])
    deleted = table.delete(created["id"])

    assert created["id"].startswith("rec") and len(created["id"]) == 17
    assert created["createdTime"].endswith("Z") and len(created["createdTime"]) == 24
    assert fetched["fields"] == {"Invoice Key": "k1", "Amount": 0, "Status": "Paid"}
    assert deleted == {"id": created["id"], "deleted": True}
    assert fake_airtable.records(INVOICES) == []


def test_batch_update_replace_and_batch_delete(fake_airtable: FakeAirtable) -> None:
    records = _invoices(fake_airtable, 12)
    table = _table(fake_airtable)

    table.batch_update(
        [{"id": r["id"], "fields": {"Amount": 1}} for r in records[:2]], replace=True
    )
    table.batch_delete([r["id"] for r in records[2:]])

    assert [r["fields"] for r in fake_airtable.records(INVOICES)] == [{"Amount": 1}] * 2
    assert fake_airtable.count(table=INVOICES, method="DELETE") == 1


# -- rate limit, log, concurrency, shutdown --------------------------------------------------


def test_rate_limit__unpaced_burst_gets_429_then_penalty_ends() -> None:
    with FakeAirtable(rate_limit=5, penalty_seconds=0.3) as server:
        _invoices(server, 1)
        table = _table(server)
        statuses = []
        for _ in range(20):
            try:
                table.first()
                statuses.append(200)
            except requests.HTTPError as error:
                assert error.response is not None
                statuses.append(error.response.status_code)

        assert statuses[:5] == [200] * 5
        assert set(statuses[5:]) == {429}
        assert server.count(status=429) == 15
        # Past the penalty and past the second that holds the 5 admitted requests.
        time.sleep(1.05)
        assert table.first() is not None


def test_rate_limit__requests_spaced_210ms_all_pass() -> None:
    with FakeAirtable(rate_limit=5, penalty_seconds=0.3) as server:
        _invoices(server, 1)
        table = _table(server)
        start = time.monotonic()
        for n in range(8):
            time.sleep(max(0.0, start + n * 0.21 - time.monotonic()))
            table.first()

        assert server.count(status=429) == 0
        arrivals = [entry.time for entry in server.log]
        assert len(arrivals) == 8
        assert all(later - earlier > 0.15 for earlier, later in itertools.pairwise(arrivals))
        assert start <= arrivals[0] and arrivals[-1] <= time.monotonic()


def test_log__records_arrival_times_and_clears(fake_airtable: FakeAirtable) -> None:
    _invoices(fake_airtable, 1)
    before = time.monotonic()
    _table(fake_airtable).all()
    after = time.monotonic()

    (entry,) = fake_airtable.log
    assert before <= entry.time <= after
    assert (entry.method, entry.table, entry.kind, entry.status) == ("GET", INVOICES, "list", 200)
    fake_airtable.clear_log()
    assert fake_airtable.log == []


def test_concurrent_listings__all_complete(fake_airtable: FakeAirtable) -> None:
    expected = _invoices(fake_airtable, 250)
    results: list[list[Any]] = []

    def list_all() -> None:
        results.append(_table(fake_airtable).all())

    threads = [threading.Thread(target=list_all) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(results) == 16 and all(r == expected for r in results)
    assert fake_airtable.count(status=200) == 48


def test_stop__interrupts_a_delayed_request_and_leaves_no_threads() -> None:
    before = set(threading.enumerate())
    server = FakeAirtable().start()
    _invoices(server, 1)
    server.add_fault(INVOICES, status=503, delay=30)
    client = threading.Thread(target=_swallow_errors, args=(_table(server).all,))
    client.start()
    while not server.log:
        time.sleep(0.01)

    started = time.monotonic()
    server.stop()

    assert time.monotonic() - started < 2
    client.join(timeout=5)
    leftovers = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftovers == []


def _swallow_errors(call: Any) -> None:
    with contextlib.suppress(requests.RequestException):
        call()
