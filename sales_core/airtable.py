"""The AirTable boundary: the only module that imports pyairtable.

AirTable allows 5 requests per second per base and answers a 429 with a 30-second penalty;
pyairtable neither paces nor waits that long. So every request made here goes through a pacer
shared by all clients of the same base, and a retry loop that knows AirTable's rules:

- 429: wait the penalty (or `Retry-After`, if longer) and try again, up to `max_retries` times;
- 5xx, a timeout or a refused connection: back off briefly and try again, up to `max_retries`;
- 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE: the listing cursor expired; the table starts over once;
- anything else (401, 403, 404, 422, a body that is not JSON): fail at once, in words.

Messages never contain the token: it only travels in the Authorization header.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlparse

import requests
from pyairtable import Api

from sales_core.config import FieldMapping, Settings
from sales_core.errors import (
    AirtableError,
    AirtableForbiddenError,
    CursorExpiredError,
    RecordsRefusedError,
    TableNotFoundError,
)

PageCallback = Callable[[str, int], None]
# (table key, attempt, the page's records): a later attempt of a table replaces the earlier.
RecordsCallback = Callable[[str, int, list[dict[str, Any]]], None]
Sleep = Callable[[float], None]


class Pacer:
    """At most `rate` requests per second, over any sliding window, across threads.

    The window is counted from when each request *ended*, not when it started: a request
    reaches the server somewhere between the two, so the server then sees at least the full
    window between request k and request k + rate, whatever the delay on the way. That costs
    one response time per `rate` requests, instead of a margin that jitter can still beat.
    """

    def __init__(
        self,
        rate: float,
        *,
        margin: float = 0.005,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.burst = max(1, int(rate))
        self.window = self.burst / rate + margin
        # One mutable mark per recent request: its start time, replaced by its end time.
        self._marks: deque[list[float]] = deque(maxlen=self.burst)
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def wait(self) -> list[float]:
        """Block until one more request may start; returns its mark for `finished`."""
        with self._lock:
            now = self._clock()
            if len(self._marks) == self.burst:
                earliest = self._marks[0][0] + self.window
                if now < earliest:
                    self._sleep(earliest - now)
                    now = self._clock()
            mark = [now]
            self._marks.append(mark)
            return mark

    def finished(self, mark: list[float]) -> None:
        """Record that the request of `mark` has ended (its answer arrived)."""
        with self._lock:
            mark[0] = self._clock()

    def hold(self, seconds: float) -> None:
        """Make every client of this base wait `seconds` (a 429 penalty) before its next start."""
        with self._lock:
            self._sleep(seconds)
            self._marks.clear()


_pacers: dict[tuple[str, str, float], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(endpoint_url: str, base_id: str, rate: float) -> Pacer:
    """The one pacer of a base in this process (AirTable's limit is per base)."""
    key = (endpoint_url, base_id, rate)
    with _pacers_lock:
        if key not in _pacers:
            _pacers[key] = Pacer(rate)
        return _pacers[key]


def _describe(method: str, url: str) -> str:
    """'GET Contracts': the table a request was about, without query strings."""
    parts = [unquote(p) for p in urlparse(url).path.split("/") if p]
    table = parts[2] if len(parts) > 2 else "the base"
    return f"{method.upper()} {table}"


def _error_type(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("type", ""))
    return str(error or "")


class PacedApi(Api):
    """pyairtable's Api with pacing, AirTable-aware retries and errors in words."""

    def __init__(self, settings: Settings, *, sleep: Sleep = time.sleep) -> None:
        if not settings.api_key or not settings.base_id:
            raise AirtableError("AirTable is not configured (AIRTABLE_API_KEY, AIRTABLE_BASE_ID).")
        timeout = settings.request_timeout
        super().__init__(
            settings.api_key,
            timeout=(min(timeout, 10.0), timeout),  # type: ignore[arg-type]  # floats work
            retry_strategy=None,
            endpoint_url=settings.endpoint_url,
        )
        self.settings = settings
        self.pacer = pacer_for(
            settings.endpoint_url, settings.base_id, settings.requests_per_second
        )
        self.request_count = 0
        self.rate_limited_count = 0
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<PacedApi {self.settings.endpoint_shown}>"

    def request(
        self,
        method: str,
        url: str,
        fallback: tuple[str, str] | None = None,
        options: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Any:
        """One API call, paced and retried; raises AirtableError in words when it gives up."""
        what = _describe(method, url)
        settings = self.settings
        tries = 0
        while True:
            tries += 1
            mark = self.pacer.wait()
            self.request_count += 1
            try:
                try:
                    return super().request(
                        method, url, fallback=fallback, options=options, params=params, json=json
                    )
                finally:
                    self.pacer.finished(mark)
            except requests.HTTPError as exc:
                response = exc.response
                status = response.status_code if response is not None else 0
                if status == 429:
                    self.rate_limited_count += 1
                    if tries > settings.max_retries:
                        raise AirtableError(
                            f"AirTable kept answering 429 Too Many Requests to {what} after "
                            f"{tries} tries; try again in a minute."
                        ) from None
                    wait = settings.rate_limit_penalty
                    retry_after = (
                        response.headers.get("Retry-After") if response is not None else None
                    )
                    if retry_after and retry_after.isdigit():
                        wait = max(wait, float(retry_after))
                    self.pacer.hold(wait)
                    continue
                if status >= 500:
                    if tries > settings.max_retries:
                        reason = response.reason if response is not None else ""
                        raise AirtableError(
                            f"AirTable answered {status} {reason} to {what} {tries} times in a "
                            f"row; it may be having trouble, try again later."
                        ) from None
                    self._sleep(settings.retry_backoff * 2 ** (tries - 1))
                    continue
                raise self._refusal(status, what, response) from None
            except requests.Timeout:
                if tries > settings.max_retries:
                    raise AirtableError(
                        f"AirTable did not answer {what} within {settings.request_timeout:g} s, "
                        f"{tries} times in a row."
                    ) from None
                self._sleep(settings.retry_backoff * 2 ** (tries - 1))
            except requests.ConnectionError:
                if tries > settings.max_retries:
                    raise AirtableError(
                        f"Could not connect to AirTable at {settings.endpoint_shown} ({what}); "
                        f"check the network or AIRTABLE_ENDPOINT_URL."
                    ) from None
                self._sleep(settings.retry_backoff * 2 ** (tries - 1))
            except ValueError:
                raise AirtableError(
                    f"AirTable sent a response to {what} that is not valid JSON."
                ) from None

    def _refusal(self, status: int, what: str, response: requests.Response | None) -> AirtableError:
        kind = _error_type(response) if response is not None else ""
        base = self.settings.base_id
        if status == 422 and kind == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE":
            return CursorExpiredError(f"AirTable's listing cursor expired during {what}.")
        if status == 401:
            return AirtableError(
                "AirTable did not accept the token (401 Unauthorized): check AIRTABLE_API_KEY."
            )
        if status == 403:
            # Also what the real API answers for a table name the base does not have
            # (INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND): an optional table is then left out.
            return AirtableForbiddenError(
                f"The token may not do {what} in base {base} (403 Forbidden): check the token's "
                f"scopes and its access to the base, and the table names in the mapping file."
            )
        if status == 404 and kind == "TABLE_NOT_FOUND":
            return TableNotFoundError(
                f"AirTable found no table for {what} in base {base} (404 TABLE_NOT_FOUND): "
                f"check the table names in the mapping file."
            )
        if status == 404:
            return AirtableError(
                f"AirTable found no such base or table for {what} (404): check AIRTABLE_BASE_ID "
                f"({base}) and the table names in the mapping file."
            )
        detail = f" ({kind})" if kind else ""
        if status == 422:
            return RecordsRefusedError(f"AirTable refused {what} with {status}{detail}.")
        return AirtableError(f"AirTable refused {what} with {status}{detail}.")


def to_json_value(value: object) -> object:
    """A Python value as AirTable's JSON wants it: the boundary where Decimal becomes a number.

    Amounts stay Decimal everywhere else; here a whole amount becomes an int and any other a
    float, which holds every 2-decimal amount below 10^13 exactly as its shortest repr.
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


class AirtableSource:
    """Reads whole tables of the configured base, page by page."""

    name = "airtable"

    def __init__(self, settings: Settings, *, sleep: Sleep = time.sleep) -> None:
        self.settings = settings
        self.mapping: FieldMapping = settings.mapping
        self.api = PacedApi(settings, sleep=sleep)

    @property
    def request_count(self) -> int:
        """HTTP requests made so far, retries included."""
        return self.api.request_count

    def fetch_table(
        self,
        table_key: str,
        on_page: PageCallback | None = None,
        *,
        on_records: RecordsCallback | None = None,
    ) -> list[dict[str, Any]]:
        """Every record of one table; an expired cursor restarts the table once.

        `on_records` hears each page as it arrives (with the attempt number), so the caller can
        check records while the next page is fetched.
        """
        assert self.settings.base_id is not None
        table_name = self.mapping.table(table_key)
        table = self.api.table(self.settings.base_id, table_name)
        for attempt in (1, 2):
            records: list[dict[str, Any]] = []
            try:
                for page in table.iterate(page_size=100):
                    batch = [dict(record) for record in page]
                    records.extend(batch)
                    if on_records is not None:
                        on_records(table_key, attempt, batch)
                    if on_page is not None:
                        on_page(table_key, len(records))
            except CursorExpiredError:
                if attempt == 2:
                    raise AirtableError(
                        f"AirTable's listing cursor for table '{table_name}' expired twice in a "
                        f"row (422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE); try again later."
                    ) from None
                continue
            except (KeyError, TypeError, AttributeError):
                raise AirtableError(
                    f"AirTable sent an unexpected response for table '{table_name}' "
                    f"(no list of records)."
                ) from None
            return records
        raise AssertionError("unreachable")

    def table_ids(self) -> dict[str, str]:
        """Table key -> the AirTable table id (`tbl…`) of the mapped tables, from the schema
        API (one request, `GET /v0/meta/bases/{base}/tables`).

        The record links (`https://airtable.com/{base}/{table id}/{record id}`) need them. The
        API wants the token's `schema.bases:read` scope: without it AirTable answers 403 and
        this raises AirtableForbiddenError. A table the base does not list gets no id.
        """
        assert self.settings.base_id is not None
        url = self.api.build_url("meta/bases", self.settings.base_id, "tables")
        answer = self.api.request("GET", str(url))
        tables = answer.get("tables") if isinstance(answer, dict) else None
        if not isinstance(tables, list):
            raise AirtableError("AirTable sent an unexpected answer to GET meta/bases (no tables).")
        by_name = {
            str(t.get("name")): str(t.get("id"))
            for t in tables
            if isinstance(t, dict) and isinstance(t.get("id"), str)
        }
        ids = {}
        for table_key, name in self.mapping.tables.items():
            # a mapping may name a table by its id already
            found = by_name.get(name) or (name if name in by_name.values() else None)
            if found:
                ids[table_key] = found
        return ids

    def upsert_by_key(
        self,
        table_key: str,
        records: Sequence[Mapping[str, Any]],
        key_attr: str,
        on_chunk: Callable[[dict[str, str]], None] | None = None,
    ) -> dict[str, str]:
        """Create or update records matched on one key field, 10 per request (AirTable's limit).

        `records` are field dicts keyed by the product's attribute names (mapped here to the
        base's field names). Returns key -> AirTable record id. Each chunk is an upsert on the
        key, so sending a chunk again after a failure never makes a second row. `on_chunk`
        hears of every chunk that AirTable confirmed, so the caller can record progress even
        when a later chunk fails (then AirtableError is raised).
        """
        assert self.settings.base_id is not None
        names = self.mapping.fields[table_key]
        key_field = names[key_attr]
        table = self.api.table(self.settings.base_id, self.mapping.table(table_key))
        written: dict[str, str] = {}
        refused: list[tuple[str, str]] = []
        rows = [{"fields": {names[k]: to_json_value(v) for k, v in r.items()}} for r in records]

        def send(chunk: list[dict[str, Any]]) -> None:
            result = table.batch_upsert(chunk, key_fields=[key_field])
            confirmed = {
                str(record["fields"].get(key_field)): record["id"] for record in result["records"]
            }
            written.update(confirmed)
            if on_chunk is not None:
                on_chunk(confirmed)

        for start in range(0, len(rows), 10):
            chunk = rows[start : start + 10]
            try:
                send(chunk)
            except RecordsRefusedError:
                # One bad record (say, a key AirTable already holds twice) refuses the whole
                # chunk: send its records one by one so the others still go through.
                for row in chunk:
                    try:
                        send([row])
                    except RecordsRefusedError as exc:
                        refused.append((str(row["fields"].get(key_field)), str(exc)))
        if refused:
            reasons = {reason for _, reason in refused}
            if not written and len(reasons) == 1:
                raise RecordsRefusedError(reasons.pop())  # the table itself is the problem
            raise RecordsRefusedError(
                f"AirTable refused {len(refused)} record(s) of {self.mapping.table(table_key)}: "
                + "; ".join(f"{key} ({reason})" for key, reason in refused[:5])
                + (" …" if len(refused) > 5 else "")
                + " Check those records in AirTable (for example a key present twice)."
            )
        return written

    def update_by_id(
        self,
        table_key: str,
        records: Sequence[Mapping[str, Any]],
        id_attr: str,
        on_chunk: Callable[[dict[str, str]], None] | None = None,
    ) -> dict[str, str]:
        """Update existing records by record id, 10 per request; never creates one.

        `records` are field dicts keyed by product attribute names, the record id under
        `id_attr`. Returns record id -> record id for every record AirTable confirmed;
        `on_chunk` hears of each confirmed chunk as it lands.
        """
        assert self.settings.base_id is not None
        names = self.mapping.fields[table_key]
        table = self.api.table(self.settings.base_id, self.mapping.table(table_key))
        written: dict[str, str] = {}
        rows: list[Any] = [
            {
                "id": str(r[id_attr]),
                "fields": {names[k]: to_json_value(v) for k, v in r.items() if k != id_attr},
            }
            for r in records
        ]
        for start in range(0, len(rows), 10):
            result = table.batch_update(rows[start : start + 10])
            confirmed = {record["id"]: record["id"] for record in result}
            written.update(confirmed)
            if on_chunk is not None:
                on_chunk(confirmed)
        return written

    def values_by_id(self, table_key: str, attrs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Record id -> the current JSON values of `attrs` (absent ones None), reading whole
        records (naming a field the base lacks would refuse the read)."""
        assert self.settings.base_id is not None
        names = self.mapping.fields[table_key]
        wanted = {names[a]: a for a in attrs}
        table = self.api.table(self.settings.base_id, self.mapping.table(table_key))
        return {
            record["id"]: {a: record["fields"].get(n) for n, a in wanted.items()}
            for page in table.iterate(page_size=100)
            for record in page
        }

    def fields_by_key(
        self, table_key: str, key_attr: str, attrs: Sequence[str]
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        """Key -> (record id, the current JSON values of `attrs`; absent ones None).

        Used just before a push, to see what changed in AirTable since the last sync. Whole
        records are read: naming a field the base lacks (an optional one) would refuse the read.
        """
        assert self.settings.base_id is not None
        names = self.mapping.fields[table_key]
        key_field = names[key_attr]
        wanted = {names[a]: a for a in attrs}
        table = self.api.table(self.settings.base_id, self.mapping.table(table_key))
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for page in table.iterate(page_size=100):
            for record in page:
                key = record["fields"].get(key_field)
                if isinstance(key, str) and key:
                    values = {a: record["fields"].get(n) for n, a in wanted.items()}
                    found[key] = (record["id"], values)
        return found

    def ids_by_key(self, table_key: str, key_attr: str) -> dict[str, list[str]]:
        """Key -> the ids of every record holding it, reading only the key field.

        Used to reconcile after a crash between an AirTable write and the local update.
        """
        assert self.settings.base_id is not None
        key_field = self.mapping.field_name(table_key, key_attr)
        table = self.api.table(self.settings.base_id, self.mapping.table(table_key))
        found: dict[str, list[str]] = {}
        for page in table.iterate(page_size=100, fields=[key_field]):
            for record in page:
                key = record["fields"].get(key_field)
                if isinstance(key, str) and key:
                    found.setdefault(key, []).append(record["id"])
        return found
