"""A loopback AirTable-compatible HTTP server for integration tests and benchmarks.

Point a real ``pyairtable.Api`` at it (``endpoint_url=server.endpoint_url``) so that paging,
retries and errors go through the client's own code. Standard library only; importable as
``tests.fake_airtable`` or, with ``tests/`` on ``sys.path``, as ``fake_airtable``.

Usage::

    with FakeAirtable(token="test-token") as server:
        server.set_records("Contracts", [airtable_record({"Contract Name": "A"})])
        api = pyairtable.Api("test-token", endpoint_url=server.endpoint_url, timeout=(2, 5))
        api.table(server.base_id, "Contracts").all()

Data
    ``FakeAirtable(token="test-token", base_id="appTEST00000000001", rate_limit=None,
    penalty_seconds=30.0)``; ``start()`` / ``stop()`` or use it as a context manager;
    ``endpoint_url`` ("http://127.0.0.1:PORT"), ``base_id``, ``token``.
    ``set_records(table, records, field_names=None) -> table_id`` creates or replaces a table
    (records in list shape ``{"id", "createdTime", "fields"}``, deep-copied; a missing id or
    createdTime is generated). With ``field_names``, writes and ``fields[]`` naming another field
    get 422 ``UNKNOWN_FIELD_NAME``. ``records(table)`` returns a deep copy of the current state,
    ``delete_record(table, record_id)`` removes one, ``table_id(table)`` gives the ``tbl...`` id.
    Tables can be addressed by name (URL-encoded, spaces allowed) or by id.

Requests served (all need ``Authorization: Bearer <token>``, else 401
``AUTHENTICATION_REQUIRED``; another base gives 404 ``NOT_FOUND``, an unknown table 404
``TABLE_NOT_FOUND``)
    ``GET /v0/{base}/{table}`` and ``POST /v0/{base}/{table}/listRecords`` list records:
    ``pageSize`` (1-100, default 100), ``offset``, ``maxRecords``, ``fields[]``, ``sort``.
    ``view``, ``cellFormat``, ``timeZone``, ``userLocale``, ``returnFieldsByFieldId`` are ignored;
    a non-empty ``filterByFormula`` gets 422 ``INVALID_FILTER_BY_FORMULA`` (formulas are not
    evaluated here, so a silent wrong answer is avoided). The record order is fixed when the
    first page is requested; later pages skip records deleted since. Offsets are opaque cursor
    tokens that stay valid (a retried page works) until ``expire_cursors(table=None)``; an
    unknown or expired one gets 422 ``LIST_RECORDS_ITERATOR_NOT_AVAILABLE``.
    ``GET /v0/{base}/{table}/{id}`` reads one record.
    ``GET /v0/meta/bases/{base}/tables`` lists the tables (``{"tables": [{"id", "name",
    "primaryFieldId", "fields", "views"}]}``, the fields those the records hold) while
    ``schema_access`` is True (the default); set it False to answer 403
    ``INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND``, as AirTable does for a token without the
    ``schema.bases:read`` scope. ``schema_failure = 503`` (say) answers that status there instead.
    ``POST /v0/{base}/{table}`` creates (``{"records": [{"fields": ...}]}`` or ``{"fields": ...}``).
    ``PATCH``/``PUT /v0/{base}/{table}`` updates ``{"records": [{"id", "fields"}]}`` (PATCH
    merges, PUT replaces), or upserts with ``"performUpsert": {"fieldsToMergeOn": [...]}``: per
    record 0 matches creates, 1 updates, more than 1 fails the whole request with 422
    ``INVALID_RECORDS`` (so does a merge key repeated within one request). Response
    ``{"records", "createdRecords", "updatedRecords"}``.
    ``PATCH``/``PUT /v0/{base}/{table}/{id}`` updates one record.
    ``DELETE /v0/{base}/{table}?records[]=id`` and ``DELETE /v0/{base}/{table}/{id}``.
    Writes take at most 10 records (else 422 ``INVALID_RECORDS``), are all-or-nothing per
    request, store ``None``, ``""``, ``[]`` and ``False`` as an absent field (as AirTable reads
    them back), ignore ``typecast``, and a missing record id gets 404 ``NOT_FOUND``.

Rate limit
    ``rate_limit=N`` (settable at any time): a request that would make more than N admitted
    requests to the base within a sliding 1.0 s window gets 429 ``RATE_LIMIT_REACHED`` and starts
    a penalty of ``penalty_seconds`` during which every request to the base gets 429. Requests
    refused with 429 do not count towards the window. No ``Retry-After`` header is sent.
    ``reset_rate_limit()`` forgets the window and any penalty. ``None`` turns it off.

Fault injection
    ``add_fault(table=None, *, on_request=1, status=500, times=1, kind="list", body=None,
    delay=0.0, error_type=None) -> Fault``. Each fault counts the matching requests (``table``:
    name or id, ``None`` for any; ``kind``: ``"list"`` = list requests, ``"write"`` = POST
    create / PATCH / PUT / DELETE, ``"any"``) that arrive after it was added, from 1. The
    ``on_request``-th and the following ones, ``times`` in all (``None`` = for ever), get the fault:
    first a sleep of ``delay`` seconds, then ``status`` with ``body`` (a ``str`` is sent verbatim,
    e.g. ``'{"records": ['`` with status 200 for malformed JSON; a ``dict`` as JSON; ``None`` gives
    ``{"error": {"type": error_type or a default for the status}}``: 422 on a list request is
    ``LIST_RECORDS_ITERATOR_NOT_AVAILABLE``). ``status=None`` with a ``delay`` answers normally
    after the sleep (a write is then applied even if the client has timed out). Faults are
    checked after auth, the base and the rate limiter; a faulted request writes nothing and an
    injected 429 starts no penalty. ``clear_faults()`` removes them all. So the 2nd write chunk
    failing is ``add_fault("Invoices", kind="write", on_request=2, status=503)``.

Request log
    Every request is appended at arrival as a ``LoggedRequest`` (``time`` = ``time.monotonic()``
    at arrival, ``method``, ``path`` (decoded), ``table`` (name when resolved), ``kind``,
    ``query``, ``body`` (parsed JSON, raw text if unparsable, or None), ``status`` (None until
    sent), ``fault``). ``log`` (a copy), ``requests_for(table, kind=None)``,
    ``count(status=None, table=None, method=None, kind=None)``, ``clear_log()``.
    ``internal_errors`` lists tracebacks of bugs in this server (they are answered with 500).
"""

from __future__ import annotations

import contextlib
import copy
import json
import secrets
import socket
import socketserver
import string
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self, cast
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "FakeAirtable",
    "Fault",
    "FaultKind",
    "LoggedRequest",
    "airtable_record",
    "new_record_id",
]

FaultKind = Literal["list", "write", "any"]

MAX_PAGE_SIZE = 100
MAX_RECORDS_PER_WRITE = 10
RATE_WINDOW_SECONDS = 1.0

_ALPHANUMERIC = string.ascii_letters + string.digits
_DEFAULT_ERROR_TYPES = {
    400: "INVALID_REQUEST_UNKNOWN",
    401: "AUTHENTICATION_REQUIRED",
    403: "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
    404: "NOT_FOUND",
    413: "REQUEST_TOO_LARGE",
    422: "INVALID_REQUEST_UNKNOWN",
    429: "RATE_LIMIT_REACHED",
    500: "SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


def _random_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(14))


def new_record_id() -> str:
    """Return a fresh AirTable-shaped record id: ``rec`` and 14 letters or digits."""
    return _random_id("rec")


def _now_iso() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def airtable_record(
    fields: Mapping[str, Any],
    record_id: str | None = None,
    created_time: str | None = None,
) -> dict[str, Any]:
    """Return a record in AirTable's list shape, generating the id and createdTime if omitted."""
    return {
        "id": record_id or new_record_id(),
        "createdTime": created_time or _now_iso(),
        "fields": copy.deepcopy(dict(fields)),
    }


@dataclass
class LoggedRequest:
    """One request as the server received it; ``status`` is None until the answer is sent."""

    time: float
    method: str
    path: str
    table: str | None
    kind: str
    query: dict[str, list[str]]
    body: Any
    status: int | None = None
    fault: bool = False


@dataclass
class Fault:
    """An injected failure; see the module docstring. ``seen``/``fired`` count its matches."""

    table: str | None
    kind: FaultKind
    on_request: int
    status: int | None
    times: int | None
    body: str | dict[str, Any] | None
    delay: float
    error_type: str | None
    seen: int = 0
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


@dataclass
class _Table:
    name: str
    id: str
    records: dict[str, dict[str, Any]]
    field_names: frozenset[str] | None


@dataclass
class _Cursor:
    table_id: str
    record_ids: list[str]
    position: int


@dataclass
class _ListOptions:
    page_size: int = MAX_PAGE_SIZE
    offset: str | None = None
    max_records: int | None = None
    fields: list[str] | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)


class _ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str = "") -> None:
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message or error_type


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _error_body(error_type: str, message: str) -> bytes:
    return _dumps({"error": {"type": error_type, "message": message}})


def _request_kind(method: str, segments: Sequence[str]) -> str:
    depth = len(segments)
    if method == "GET" and depth == 3:
        return "list"
    if method == "POST" and depth == 4 and segments[3] == "listRecords":
        return "list"
    if method == "GET" and depth == 4:
        return "read"
    if (method == "POST" and depth == 3) or (
        method in ("PATCH", "PUT", "DELETE") and depth in (3, 4)
    ):
        return "write"
    return "other"


def _sort_key(value: Any) -> tuple[int, Any]:
    # Missing values first, then numbers, then text, then anything else by its JSON.
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        return (1, float(value))
    if isinstance(value, str):
        return (2, value)
    return (3, json.dumps(value, sort_keys=True))


def _field_sort_key(name: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    def key(record: dict[str, Any]) -> tuple[int, Any]:
        return _sort_key(record["fields"].get(name))

    return key


def _is_empty(value: Any) -> bool:
    # AirTable reads an empty cell back as an absent key (a checkbox is true or absent).
    return value is None or value is False or value == "" or value == []


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: copy.deepcopy(value) for name, value in fields.items() if not _is_empty(value)}


def _int_option(raw: Any, name: str, low: int, high: int | None) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _ApiError(422, "INVALID_REQUEST_UNKNOWN", f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        raise _ApiError(422, "INVALID_REQUEST_UNKNOWN", f"{name} out of range: {value}")
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, fake: FakeAirtable) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._handler_threads: list[threading.Thread] = []
        self._closing = False
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a reverse DNS lookup that can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        # ThreadingMixIn does not keep daemon threads for server_close() to join: keep them here.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"fake-airtable-handler-{self.server_port}",
            daemon=True,
        )
        with self._connections_lock:
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
        thread.start()

    def join_handlers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._connections_lock:
            threads = list(self._handler_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            if self._closing:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Wake handler threads idling on keep-alive connections so they can be joined."""
        with self._connections_lock:
            self._closing = True
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, reset) is expected; only our own bugs are recorded.
        error = traceback.format_exc()
        if "ConnectionResetError" not in error and "BrokenPipeError" not in error:
            self.fake.internal_errors.append(error)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY each answer waits ~40 ms
    # for the client's delayed ACK, which the real API does not make anyone wait.
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection is closed after this many seconds

    def setup(self) -> None:
        super().setup()
        cast(_Server, self.server).track(self.connection)

    def finish(self) -> None:
        cast(_Server, self.server).untrack(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PATCH(self) -> None:
        self._answer("PATCH")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        arrival = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length > 0 else b""
        status, payload = cast(_Server, self.server).fake._handle(
            method, self.path, self.headers.get("Authorization"), raw_body, arrival
        )
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True


class FakeAirtable:
    """An in-memory AirTable base served over loopback HTTP; see the module docstring."""

    def __init__(
        self,
        token: str = "test-token",
        base_id: str = "appTEST00000000001",
        rate_limit: int | None = None,
        penalty_seconds: float = 30.0,
    ) -> None:
        self.token = token
        self._base_id = base_id
        self.rate_limit = rate_limit
        self.penalty_seconds = penalty_seconds
        self.internal_errors: list[str] = []
        # False: the token lacks schema.bases:read, and the metadata API answers 403
        self.schema_access = True
        # a status (say 503) the metadata API answers instead, the records being served
        self.schema_failure: int | None = None
        self._lock = threading.RLock()
        self._tables: dict[str, _Table] = {}
        self._cursors: dict[str, _Cursor] = {}
        self._faults: list[Fault] = []
        self._log: list[LoggedRequest] = []
        self._admitted: deque[float] = deque()
        self._penalty_until = 0.0
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free loopback port and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("FakeAirtable is already running")
        self._stopping.clear()
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-airtable-{self._httpd.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join the handler threads."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # wakes requests sleeping in an injected delay
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        httpd.join_handlers(timeout=5)
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``pyairtable.Api(endpoint_url=...)``."""
        if self._httpd is None:
            raise RuntimeError("FakeAirtable is not running; call start()")
        return f"http://127.0.0.1:{self._httpd.server_port}"

    @property
    def base_id(self) -> str:
        return self._base_id

    # -- data ------------------------------------------------------------------------------

    def set_records(
        self,
        table: str,
        records: Iterable[Mapping[str, Any]],
        field_names: Iterable[str] | None = None,
    ) -> str:
        """Create or replace ``table`` with deep copies of ``records``; return its table id."""
        stored: dict[str, dict[str, Any]] = {}
        for record in records:
            copied = copy.deepcopy(dict(record))
            copied.setdefault("id", new_record_id())
            copied.setdefault("createdTime", _now_iso())
            copied.setdefault("fields", {})
            stored[copied["id"]] = copied
        names = frozenset(field_names) if field_names is not None else None
        with self._lock:
            existing = self._tables.get(table)
            table_id = existing.id if existing else _random_id("tbl")
            self._tables[table] = _Table(table, table_id, stored, names)
        return table_id

    def records(self, table: str) -> list[dict[str, Any]]:
        """Return a deep copy of the table's current records, in creation order."""
        with self._lock:
            return copy.deepcopy(list(self._table(table).records.values()))

    def table_id(self, table: str) -> str:
        with self._lock:
            return self._table(table).id

    def delete_record(self, table: str, record_id: str) -> None:
        """Remove one record; KeyError if it does not exist."""
        with self._lock:
            del self._table(table).records[record_id]

    def drop_table(self, table: str) -> None:
        """Remove a whole table: requests naming it get 404 TABLE_NOT_FOUND."""
        with self._lock:
            del self._tables[self._table(table).name]

    def _table(self, name_or_id: str) -> _Table:
        if name_or_id in self._tables:
            return self._tables[name_or_id]
        for candidate in self._tables.values():
            if candidate.id == name_or_id:
                return candidate
        raise KeyError(name_or_id)

    # -- faults, cursors, rate limit -------------------------------------------------------

    def add_fault(
        self,
        table: str | None = None,
        *,
        on_request: int = 1,
        status: int | None = 500,
        times: int | None = 1,
        kind: FaultKind = "list",
        body: str | dict[str, Any] | None = None,
        delay: float = 0.0,
        error_type: str | None = None,
    ) -> Fault:
        """Inject a failure into matching requests; see "Fault injection" in the module doc."""
        if on_request < 1:
            raise ValueError("on_request counts from 1")
        if kind not in ("list", "write", "any"):
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(table, kind, on_request, status, times, body, delay, error_type)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def expire_cursors(self, table: str | None = None) -> int:
        """Forget issued offsets (of one table, or all); return how many were dropped."""
        with self._lock:
            table_id = self._table(table).id if table is not None else None
            doomed = [
                token
                for token, cursor in self._cursors.items()
                if table_id is None or cursor.table_id == table_id
            ]
            for token in doomed:
                del self._cursors[token]
        return len(doomed)

    def reset_rate_limit(self) -> None:
        """Forget the sliding window and end any penalty."""
        with self._lock:
            self._admitted.clear()
            self._penalty_until = 0.0

    # -- request log -----------------------------------------------------------------------

    @property
    def log(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def requests_for(self, table: str, kind: str | None = None) -> list[LoggedRequest]:
        """Logged requests addressed to ``table`` (by name or id), optionally of one kind."""
        with self._lock:
            aliases = {table}
            if table in self._tables or any(t.id == table for t in self._tables.values()):
                resolved = self._table(table)
                aliases |= {resolved.name, resolved.id}
            return [
                entry
                for entry in self._log
                if entry.table in aliases and (kind is None or entry.kind == kind)
            ]

    def count(
        self,
        status: int | None = None,
        table: str | None = None,
        method: str | None = None,
        kind: str | None = None,
    ) -> int:
        """How many logged requests match every given criterion."""
        entries = self.requests_for(table) if table is not None else self.log
        return sum(
            1
            for entry in entries
            if (status is None or entry.status == status)
            and (method is None or entry.method == method.upper())
            and (kind is None or entry.kind == kind)
        )

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- request handling ------------------------------------------------------------------

    def _handle(
        self, method: str, raw_path: str, auth: str | None, raw_body: bytes, arrival: float
    ) -> tuple[int, bytes]:
        split = urlsplit(raw_path)
        segments = [unquote(part) for part in split.path.split("/")[1:]]
        query = parse_qs(split.query, keep_blank_values=True)
        body: Any = None
        body_is_json = True
        if raw_body:
            text = raw_body.decode("utf-8", errors="replace")
            try:
                body = json.loads(text)
            except ValueError:
                body, body_is_json = text, False
        entry = LoggedRequest(
            time=arrival,
            method=method,
            path=unquote(split.path),
            table=segments[2] if len(segments) >= 3 else None,
            kind=_request_kind(method, segments),
            query=query,
            body=body,
        )
        with self._lock:
            self._log.append(entry)
        try:
            status, payload = self._respond(entry, segments, auth, body_is_json)
        except _ApiError as error:
            status, payload = error.status, _error_body(error.error_type, error.message)
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            status, payload = 500, _error_body("SERVER_ERROR", "fake_airtable internal error")
        with self._lock:
            entry.status = status
        return status, payload

    def _respond(
        self, entry: LoggedRequest, segments: list[str], auth: str | None, body_is_json: bool
    ) -> tuple[int, bytes]:
        if auth != f"Bearer {self.token}":
            raise _ApiError(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        if segments[:3] == ["v0", "meta", "bases"] and segments[4:] == ["tables"]:
            return self._schema(entry, segments[3])
        if len(segments) < 3 or segments[0] != "v0" or segments[1] != self._base_id:
            raise _ApiError(404, "NOT_FOUND", "Could not find what you are looking for")
        self._admit()
        with self._lock:
            try:
                table = self._table(segments[2])
            except KeyError:
                raise _ApiError(
                    404, "TABLE_NOT_FOUND", f"Could not find table {segments[2]} in this base"
                ) from None
            entry.table = table.name
            fault = self._matching_fault(table, entry.kind)
            entry.fault = fault is not None
        if fault is not None:
            if fault.delay > 0:
                self._stopping.wait(fault.delay)
            if fault.status is not None:
                return fault.status, self._fault_payload(fault, entry.kind)
        if not body_is_json:
            raise _ApiError(422, "INVALID_REQUEST_BODY", "Could not parse request body as JSON")
        return 200, _dumps(self._route(entry, table, segments[3:]))

    def _schema(self, entry: LoggedRequest, base_id: str) -> tuple[int, bytes]:
        """The base's tables, as the metadata API lists them (or 403 without the scope)."""
        entry.kind = "schema"
        if base_id != self._base_id:
            raise _ApiError(404, "NOT_FOUND", "Could not find what you are looking for")
        self._admit()
        if self.schema_failure is not None:
            status = self.schema_failure
            raise _ApiError(status, _DEFAULT_ERROR_TYPES.get(status, "SERVER_ERROR"), "failure")
        if not self.schema_access:
            raise _ApiError(
                403,
                "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                "Invalid permissions, or the requested model was not found.",
            )
        with self._lock:
            tables = []
            for table in self._tables.values():
                names = sorted(
                    table.field_names
                    if table.field_names is not None
                    else {n for r in table.records.values() for n in r["fields"]}
                )
                fields = [
                    {"id": f"fld{i:014d}", "name": name, "type": "singleLineText"}
                    for i, name in enumerate(names)
                ]
                tables.append(
                    {
                        "id": table.id,
                        "name": table.name,
                        "primaryFieldId": fields[0]["id"] if fields else "fld00000000000000",
                        "fields": fields,
                        "views": [],
                    }
                )
        return 200, _dumps({"tables": tables})

    def _admit(self) -> None:
        with self._lock:
            limit = self.rate_limit
            if limit is None:
                return
            now = time.monotonic()
            if now < self._penalty_until:
                raise _ApiError(429, "RATE_LIMIT_REACHED", "Rate limit exceeded (penalty)")
            while self._admitted and self._admitted[0] <= now - RATE_WINDOW_SECONDS:
                self._admitted.popleft()
            if len(self._admitted) >= limit:
                self._penalty_until = now + self.penalty_seconds
                raise _ApiError(429, "RATE_LIMIT_REACHED", "Rate limit exceeded")
            self._admitted.append(now)

    def _matching_fault(self, table: _Table, kind: str) -> Fault | None:
        chosen: Fault | None = None
        for fault in self._faults:
            if fault.table is not None and fault.table not in (table.name, table.id):
                continue
            if fault.kind != "any" and fault.kind != kind:
                continue
            fault.seen += 1
            if chosen is None and fault.seen >= fault.on_request and not fault.exhausted:
                fault.fired += 1
                chosen = fault
        return chosen

    @staticmethod
    def _fault_payload(fault: Fault, kind: str) -> bytes:
        if isinstance(fault.body, str):
            return fault.body.encode("utf-8")
        if fault.body is not None:
            return _dumps(fault.body)
        status = cast(int, fault.status)
        error_type = fault.error_type
        if error_type is None and status == 422 and kind == "list":
            error_type = "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"
        if error_type is None:
            error_type = _DEFAULT_ERROR_TYPES.get(status, "INJECTED_FAULT")
        return _error_body(error_type, f"Injected fault ({status})")

    def _route(self, entry: LoggedRequest, table: _Table, rest: list[str]) -> Any:
        method, body, query = entry.method, entry.body, entry.query
        if entry.kind == "list":
            if method == "GET":
                options = self._list_options_from_query(query)
            else:
                options = self._list_options_from_body(body if body is not None else {})
            return self._list(table, options)
        if method == "GET" and len(rest) == 1:
            with self._lock:
                return self._existing(table, rest[0])
        if entry.kind != "write":
            raise _ApiError(404, "NOT_FOUND", "Could not find what you are looking for")
        if method == "DELETE":
            if rest:
                return self._delete(table, [rest[0]])[0]
            return {"records": self._delete(table, query.get("records[]", []))}
        if not isinstance(body, dict):
            raise _ApiError(422, "INVALID_REQUEST_MISSING_FIELDS", "Expected a JSON object")
        if method == "POST":
            return self._create(table, body)
        replace = method == "PUT"
        if rest:
            return self._update_one(table, rest[0], body, replace)
        return self._update_many(table, body, replace)

    # -- listing ---------------------------------------------------------------------------

    @staticmethod
    def _list_options_from_query(query: dict[str, list[str]]) -> _ListOptions:
        def last(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        sort: list[tuple[str, bool]] = []
        index = 0
        while (sort_field := last(f"sort[{index}][field]")) is not None:
            sort.append((sort_field, last(f"sort[{index}][direction]") == "desc"))
            index += 1
        return FakeAirtable._list_options(
            page_size=last("pageSize"),
            offset=last("offset"),
            max_records=last("maxRecords"),
            fields=query.get("fields[]", query.get("fields")),
            sort=sort,
            formula=last("filterByFormula"),
        )

    @staticmethod
    def _list_options_from_body(body: Any) -> _ListOptions:
        if not isinstance(body, dict):
            raise _ApiError(422, "INVALID_REQUEST_UNKNOWN", "Expected a JSON object")
        raw_sort = body.get("sort") or []
        if not isinstance(raw_sort, list) or not all(
            isinstance(item, dict) and "field" in item for item in raw_sort
        ):
            raise _ApiError(422, "INVALID_SORT", "sort must be a list of {field, direction}")
        sort = [(str(item["field"]), item.get("direction") == "desc") for item in raw_sort]
        return FakeAirtable._list_options(
            page_size=body.get("pageSize"),
            offset=body.get("offset"),
            max_records=body.get("maxRecords"),
            fields=body.get("fields"),
            sort=sort,
            formula=body.get("filterByFormula"),
        )

    @staticmethod
    def _list_options(
        *,
        page_size: Any,
        offset: Any,
        max_records: Any,
        fields: Any,
        sort: list[tuple[str, bool]],
        formula: Any,
    ) -> _ListOptions:
        if formula:
            raise _ApiError(
                422,
                "INVALID_FILTER_BY_FORMULA",
                "fake_airtable does not evaluate filterByFormula",
            )
        if fields is not None and (
            not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
        ):
            raise _ApiError(422, "INVALID_REQUEST_UNKNOWN", "fields must be a list of names")
        return _ListOptions(
            page_size=(
                MAX_PAGE_SIZE
                if page_size is None
                else _int_option(page_size, "pageSize", 1, MAX_PAGE_SIZE)
            ),
            offset=str(offset) if offset else None,
            max_records=(
                None if max_records is None else _int_option(max_records, "maxRecords", 0, None)
            ),
            fields=fields,
            sort=sort,
        )

    def _list(self, table: _Table, options: _ListOptions) -> dict[str, Any]:
        with self._lock:
            if options.fields is not None:
                self._check_field_names(table, options.fields)
            if options.offset is not None:
                cursor = self._cursors.get(options.offset)
                if cursor is None or cursor.table_id != table.id:
                    raise _ApiError(
                        422,
                        "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
                        "The iterator is not available, start over from the first page",
                    )
                record_ids, position = cursor.record_ids, cursor.position
            else:
                ordered = list(table.records.values())
                for sort_field, descending in reversed(options.sort):
                    ordered.sort(key=_field_sort_key(sort_field), reverse=descending)
                record_ids = [rec["id"] for rec in ordered]
                if options.max_records is not None:
                    record_ids = record_ids[: options.max_records]
                position = 0
            page_end = position + options.page_size
            page = [
                self._project(table.records[record_id], options.fields)
                for record_id in record_ids[position:page_end]
                if record_id in table.records
            ]
            response: dict[str, Any] = {"records": page}
            if page_end < len(record_ids):
                token = f"{_random_id('itr')}/{record_ids[page_end]}"
                self._cursors[token] = _Cursor(table.id, record_ids, page_end)
                response["offset"] = token
            return response

    @staticmethod
    def _project(record: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
        projected = copy.deepcopy(record)
        if fields is not None:
            wanted = set(fields)
            projected["fields"] = {k: v for k, v in projected["fields"].items() if k in wanted}
        return projected

    # -- writing ---------------------------------------------------------------------------

    @staticmethod
    def _check_field_names(table: _Table, names: Iterable[str]) -> None:
        if table.field_names is None:
            return
        for name in names:
            if name not in table.field_names:
                raise _ApiError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')

    def _fields_of(self, table: _Table, item: Any) -> dict[str, Any]:
        fields = item.get("fields") if isinstance(item, dict) else None
        if not isinstance(fields, dict) or not all(isinstance(k, str) for k in fields):
            raise _ApiError(422, "INVALID_RECORDS", "Each record needs a fields object")
        self._check_field_names(table, fields)
        return fields

    @staticmethod
    def _record_list(body: dict[str, Any]) -> list[Any]:
        records = body.get("records")
        if not isinstance(records, list):
            raise _ApiError(422, "INVALID_RECORDS", "records must be a list")
        if len(records) > MAX_RECORDS_PER_WRITE:
            raise _ApiError(
                422,
                "INVALID_RECORDS",
                f"You can write at most {MAX_RECORDS_PER_WRITE} records per request",
            )
        return records

    @staticmethod
    def _existing(table: _Table, record_id: str) -> dict[str, Any]:
        record = table.records.get(record_id)
        if record is None:
            raise _ApiError(404, "NOT_FOUND", f"Record {record_id} does not exist in this table")
        return copy.deepcopy(record)

    @staticmethod
    def _new_record(table: _Table, fields: dict[str, Any]) -> dict[str, Any]:
        record_id = new_record_id()
        while record_id in table.records:
            record_id = new_record_id()
        record = airtable_record(_clean_fields(fields), record_id)
        table.records[record_id] = record
        return copy.deepcopy(record)

    @staticmethod
    def _apply_update(
        table: _Table, record_id: str, fields: dict[str, Any], replace: bool
    ) -> dict[str, Any]:
        record = table.records[record_id]
        merged = {} if replace else dict(record["fields"])
        merged.update(copy.deepcopy(fields))
        record["fields"] = _clean_fields(merged)
        return copy.deepcopy(record)

    def _create(self, table: _Table, body: dict[str, Any]) -> Any:
        with self._lock:
            if "records" not in body:
                return self._new_record(table, self._fields_of(table, body))
            field_sets = [self._fields_of(table, item) for item in self._record_list(body)]
            return {"records": [self._new_record(table, fields) for fields in field_sets]}

    def _update_one(
        self, table: _Table, record_id: str, body: dict[str, Any], replace: bool
    ) -> Any:
        with self._lock:
            fields = self._fields_of(table, body)
            self._existing(table, record_id)
            return self._apply_update(table, record_id, fields, replace)

    def _update_many(self, table: _Table, body: dict[str, Any], replace: bool) -> Any:
        merge_on = self._merge_fields(body.get("performUpsert"))
        with self._lock:
            items = self._record_list(body)
            # Plan every record first so that a bad one leaves the table untouched.
            plan: list[tuple[str | None, dict[str, Any]]] = []
            targeted: set[str] = set()
            keys_seen: set[str] = set()
            for item in items:
                fields = self._fields_of(table, item)
                record_id = item.get("id")
                if record_id is None and merge_on is None:
                    raise _ApiError(422, "INVALID_RECORDS", "Each record needs an id")
                if record_id is not None:
                    self._existing(table, str(record_id))
                    target: str | None = str(record_id)
                else:
                    key_fields = cast(list[str], merge_on)
                    target = self._upsert_target(table, fields, key_fields, keys_seen)
                if target is not None:
                    if target in targeted:
                        raise _ApiError(422, "INVALID_RECORDS", f"Record {target} is updated twice")
                    targeted.add(target)
                plan.append((target, fields))
            written: list[dict[str, Any]] = []
            created: list[str] = []
            updated: list[str] = []
            for target, fields in plan:
                if target is None:
                    record = self._new_record(table, fields)
                    created.append(record["id"])
                else:
                    record = self._apply_update(table, target, fields, replace)
                    updated.append(target)
                written.append(record)
        if merge_on is None:
            return {"records": written}
        return {"records": written, "createdRecords": created, "updatedRecords": updated}

    @staticmethod
    def _merge_fields(perform_upsert: Any) -> list[str] | None:
        if perform_upsert is None:
            return None
        merge_on = (
            perform_upsert.get("fieldsToMergeOn") if isinstance(perform_upsert, dict) else None
        )
        if (
            not isinstance(merge_on, list)
            or not 1 <= len(merge_on) <= 3
            or not all(isinstance(name, str) for name in merge_on)
        ):
            raise _ApiError(
                422,
                "INVALID_REQUEST_UNKNOWN",
                "performUpsert.fieldsToMergeOn must list 1 to 3 field names",
            )
        return merge_on

    @staticmethod
    def _upsert_target(
        table: _Table, fields: dict[str, Any], merge_on: list[str], keys_seen: set[str]
    ) -> str | None:
        missing = [name for name in merge_on if _is_empty(fields.get(name))]
        if missing:
            raise _ApiError(422, "INVALID_RECORDS", f"Upsert record lacks merge field(s) {missing}")
        key = json.dumps([fields[name] for name in merge_on], sort_keys=True)
        if key in keys_seen:
            raise _ApiError(422, "INVALID_RECORDS", f"Merge key {key} repeated in one request")
        keys_seen.add(key)
        matches = [
            record_id
            for record_id, record in table.records.items()
            if all(
                name in record["fields"] and record["fields"][name] == fields[name]
                for name in merge_on
            )
        ]
        if len(matches) > 1:
            raise _ApiError(
                422,
                "INVALID_RECORDS",
                f"{len(matches)} records match {key} on {merge_on}; upsert needs at most one",
            )
        return matches[0] if matches else None

    def _delete(self, table: _Table, record_ids: list[str]) -> list[dict[str, Any]]:
        if len(record_ids) > MAX_RECORDS_PER_WRITE:
            raise _ApiError(
                422,
                "INVALID_RECORDS",
                f"You can delete at most {MAX_RECORDS_PER_WRITE} records per request",
            )
        with self._lock:
            for record_id in record_ids:
                self._existing(table, record_id)
            for record_id in record_ids:
                del table.records[record_id]
        return [{"id": record_id, "deleted": True} for record_id in record_ids]
