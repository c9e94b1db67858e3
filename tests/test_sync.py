"""The sync against a loopback AirTable-compatible server, through pyairtable's real client."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sales_core import links
from sales_core.config import Settings
from sales_core.errors import SyncError
from sales_core.health import quarantine, sync_history, sync_status
from sales_core.sync import run_sync
from tests.conftest import LoopbackSettings
from tests.fake_airtable import FakeAirtable

TOKEN = "test-token-0123456789"
BASE = "appTESTBASE000001"


def rec(rid: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"id": rid, "createdTime": "2025-01-02T03:04:05.000Z", "fields": fields}


def dataset(n_opportunities: int = 230, n_invoices: int = 120) -> dict[str, list[dict[str, Any]]]:
    """A clean base: several pages of opportunities and invoices."""
    opportunities = [
        rec(
            f"recOPP{i:011d}",
            {
                "Opportunity Name": f"Hub for community {i}",
                "Organization": f"Community {i % 40}",
                "Stage": ["Lead", "Qualified", "Proposal", "Closed—won"][i % 4],
                "Opportunity Value": 1000 + i,
                "Probability Success": 1 + i % 5,
            },
        )
        for i in range(n_opportunities)
    ]
    contracts = [
        rec(
            f"recCON{i:011d}",
            {
                "Contract Name": f"Contract {i}",
                "Community": f"Community {i}",
                "Opportunity": [f"recOPP{i:011d}"],
                "Status": "Active",
                "Start Date": "2026-01-01",
                "Monthly Fee": 1000,
            },
        )
        for i in range(30)
    ]
    invoices = [
        rec(
            f"recINV{i:011d}",
            {
                "Invoice Number": f"INV-2026-{i + 1:04d}",
                "Contract": [f"recCON{i % 30:011d}"],
                "Amount": 1000,
                "Status": "Paid",
            },
        )
        for i in range(n_invoices)
    ]
    qualifications = [
        rec("recQUA00000000001", {"Assessment Key": "k1", "Opportunity": ["recOPP00000000001"]})
    ]
    return {
        "Opportunities": opportunities,
        "Contracts": contracts,
        "Invoices": invoices,
        "Qualifications": qualifications,
    }


def serve(server: FakeAirtable, data: dict[str, list[dict[str, Any]]]) -> None:
    for table, records in data.items():
        server.set_records(table, records)


@pytest.fixture
def server() -> Any:
    with FakeAirtable(token=TOKEN, base_id=BASE) as fake:
        yield fake
    assert not fake.internal_errors, fake.internal_errors[0]


@pytest.fixture
def make_settings(
    server: FakeAirtable, loopback_settings: LoopbackSettings
) -> Callable[..., Settings]:
    return partial(
        loopback_settings, server, AIRTABLE_RATE_LIMIT_PENALTY="0.3", AIRTABLE_MAX_RETRIES=None
    )


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the current tables, the history and the quarantine."""
    con = duckdb.connect(str(db))
    try:
        tables = [
            "opportunities",
            "contracts",
            "invoices",
            "qualifications",
            "opportunity_history",
            "quarantine",
        ]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()


def test_sync__several_pages_load_completely(server: FakeAirtable, make_settings: Any) -> None:
    serve(server, dataset())
    settings = make_settings()
    result = run_sync(settings)
    assert result.source == "airtable"
    assert result.counts == {
        "opportunities": 230,
        "contracts": 30,
        "invoices": 120,
        "qualifications": 1,
        "charges": 0,
    }
    assert result.rejected == 0 and result.warnings == 0
    pages = server.requests_for("Opportunities", kind="list")
    assert len(pages) == 3
    # The schema (table ids), then the pages; the last request finds that this base has no
    # Charges table (optional): loaded empty.
    assert result.requests == 1 + 3 + 1 + 2 + 1 + 1
    assert result.missing_tables == ["charges"]
    assert "no Charges table" in result.missing_text
    status = sync_status(settings.db_path)
    assert status.counts["opportunities"] == 230 and status.last_ok_source == "airtable"


def test_sync__429_then_success_waits_the_penalty(server: FakeAirtable, make_settings: Any) -> None:
    serve(server, dataset())
    server.add_fault("Opportunities", on_request=2, status=429, times=1)
    result = run_sync(make_settings())
    assert result.counts["opportunities"] == 230
    log = server.requests_for("Opportunities", kind="list")
    statuses = [r.status for r in log]
    assert statuses == [200, 429, 200, 200]
    assert log[2].time - log[1].time >= 0.3  # the configured penalty


def test_sync__429_beyond_the_retry_budget_fails_in_words(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, dataset())
    server.add_fault("Contracts", status=429, times=None)
    settings = make_settings(AIRTABLE_MAX_RETRIES="2", AIRTABLE_RATE_LIMIT_PENALTY="0.05")
    with pytest.raises(SyncError, match="429 Too Many Requests"):
        run_sync(settings)
    assert server.count(status=429, table="Contracts") == 3


def test_sync__5xx_halfway_leaves_previous_data_untouched(
    server: FakeAirtable, make_settings: Any
) -> None:
    data = dataset()
    serve(server, data)
    settings = make_settings()
    run_sync(settings)
    before = snapshot(settings.db_path)
    version = sync_status(settings.db_path).data_version

    data["Opportunities"][0]["fields"]["Stage"] = "Closed—lost"
    server.delete_record("Contracts", "recCON00000000003")
    serve(server, {"Opportunities": data["Opportunities"]})
    server.add_fault("Invoices", on_request=2, status=500, times=None)
    with pytest.raises(SyncError) as exc:
        run_sync(settings)
    assert "500" in str(exc.value) and "previous data is unchanged" in str(exc.value)
    assert snapshot(settings.db_path) == before
    status = sync_status(settings.db_path)
    assert status.data_version == version
    assert status.last_run_status == "failed"
    assert status.last_run_error is not None and "Invoices" in status.last_run_error
    history = sync_history(settings.db_path)
    assert list(history["status"]) == ["failed", "ok"]


def test_sync__transient_5xx_is_retried(server: FakeAirtable, make_settings: Any) -> None:
    serve(server, dataset())
    server.add_fault("Invoices", on_request=1, status=503, times=2)
    result = run_sync(make_settings())
    assert result.counts["invoices"] == 120


def test_sync__422_cursor_expiry_restarts_the_table_once(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, dataset())
    server.add_fault("Opportunities", on_request=3, status=422, times=1)
    result = run_sync(make_settings())
    assert result.counts["opportunities"] == 230
    offsets = [r.query.get("offset") for r in server.requests_for("Opportunities", kind="list")]
    assert offsets.count(None) == 2  # the table started over from its first page


def test_sync__422_cursor_expiry_that_persists_fails(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, dataset())
    settings = make_settings()
    run_sync(settings)
    before = snapshot(settings.db_path)
    server.add_fault("Opportunities", on_request=2, status=422, times=None)
    with pytest.raises(SyncError, match="expired twice"):
        run_sync(settings)
    assert snapshot(settings.db_path) == before


def test_sync__malformed_json_fails_and_keeps_data(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, dataset())
    settings = make_settings()
    run_sync(settings)
    before = snapshot(settings.db_path)
    server.add_fault("Qualifications", status=200, body='{"records": [')
    with pytest.raises(SyncError, match="not valid JSON"):
        run_sync(settings)
    assert snapshot(settings.db_path) == before


def test_sync__timeout_fails_in_words(server: FakeAirtable, make_settings: Any) -> None:
    serve(server, dataset(n_opportunities=5, n_invoices=5))
    server.add_fault("Contracts", status=None, delay=1.0, times=None)
    settings = make_settings(AIRTABLE_TIMEOUT="0.3", AIRTABLE_MAX_RETRIES="1")
    with pytest.raises(SyncError, match="did not answer"):
        run_sync(settings)


def test_sync__wrong_token_names_the_setting_and_hides_the_token(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, dataset(n_opportunities=5, n_invoices=5))
    wrong = "patWRONGTOKEN-1234567890"
    settings = make_settings(AIRTABLE_API_KEY=wrong)
    with pytest.raises(SyncError) as exc:
        run_sync(settings)
    assert "AIRTABLE_API_KEY" in str(exc.value)
    assert wrong not in str(exc.value)
    errors = " ".join(str(e) for e in sync_history(settings.db_path)["error"])
    assert wrong not in errors and TOKEN not in errors


def test_sync__unknown_table_points_at_the_mapping(
    server: FakeAirtable, make_settings: Any, tmp_path: Path
) -> None:
    serve(server, dataset(n_opportunities=5, n_invoices=5))
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[tables]\ncontracts = "Agreements"\n')
    with pytest.raises(SyncError, match="mapping file"):
        run_sync(make_settings(SALES_MAPPING=str(mapping)))


def test_sync__deleted_record_disappears_and_history_keeps_it(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, dataset())
    settings = make_settings()
    run_sync(settings)
    server.delete_record("Opportunities", "recOPP00000000007")
    server.delete_record("Invoices", "recINV00000000001")
    result = run_sync(settings)
    assert result.counts["opportunities"] == 229 and result.counts["invoices"] == 119
    con = duckdb.connect(str(settings.db_path))
    try:
        gone = con.execute("SELECT count(*) FROM opportunities WHERE id = 'recOPP00000000007'")
        assert gone.fetchall() == [(0,)]
        history = con.execute(
            "SELECT change, name FROM opportunity_history "
            "WHERE opportunity_id = 'recOPP00000000007' ORDER BY sync_run_id"
        ).fetchall()
    finally:
        con.close()
    assert history == [("created", "Hub for community 7"), ("deleted", "Hub for community 7")]


def test_sync__history_records_changes_only(server: FakeAirtable, make_settings: Any) -> None:
    data = dataset()
    serve(server, data)
    settings = make_settings()
    run_sync(settings)
    run_sync(settings)  # nothing changed: no new history
    data["Opportunities"][2]["fields"]["Stage"] = "Closed—won"
    data["Opportunities"][3]["fields"]["Opportunity Value"] = 99.5
    data["Opportunities"][4]["fields"]["Organization"] = "Renamed"  # not tracked
    serve(server, {"Opportunities": data["Opportunities"]})
    run_sync(settings)
    con = duckdb.connect(str(settings.db_path))
    try:
        rows = con.execute(
            "SELECT opportunity_id, stage, CAST(value AS VARCHAR) FROM opportunity_history "
            "WHERE change = 'changed' ORDER BY opportunity_id"
        ).fetchall()
        total = con.execute("SELECT count(*) FROM opportunity_history").fetchall()[0][0]
    finally:
        con.close()
    assert rows == [
        ("recOPP00000000002", "Closed—won", "1002.00"),
        ("recOPP00000000003", "Closed—won", "99.50"),
    ]
    assert total == 230 + 2


def test_sync__pacing_stays_under_five_per_second(server: FakeAirtable, make_settings: Any) -> None:
    # the schema, then 7 + 1 + 3 + 1 = 12 pages
    data = dataset(n_opportunities=700, n_invoices=300)
    serve(server, data)
    server.rate_limit = 5
    settings = make_settings(AIRTABLE_REQUESTS_PER_SECOND="5")
    result = run_sync(settings)
    assert result.counts["opportunities"] == 700
    arrivals = [r.time for r in server.log]
    assert len(arrivals) == 14  # the schema first; the 14th finds no Charges table
    assert server.count(status=429) == 0
    for i in range(len(arrivals) - 5):
        assert arrivals[i + 5] - arrivals[i] > 1.0  # no six requests within one second


ODDITIES: dict[str, list[dict[str, Any]]] = {
    "Opportunities": [
        rec(
            "recOPPGOOD0000001",
            {
                "Opportunity Name": "Good",
                "Stage": "Lead",
                "Owner": {"id": "usrA", "email": "a@x.org", "name": "Ana"},
            },
        ),
        rec(
            "recOPPNAN00000001",
            {"Opportunity Name": "NaN value", "Opportunity Value": {"specialValue": "NaN"}},
        ),
        rec("recOPPNONAME00001", {"Stage": "Lead"}),
        rec("recOPPONHOLD00001", {"Opportunity Name": "Odd stage", "Stage": "On hold"}),
        rec("recOPPEMPTY000001", {"Opportunity Name": "Only a name"}),
    ],
    "Contracts": [
        rec(
            "recCONGOOD0000001",
            {
                "Contract Name": "Good",
                "Start Date": "2026-01-01",
                "Monthly Fee": 1000,
                "Opportunity": ["recOPPGOOD0000001"],
            },
        ),
        rec("recCONNOSTART0001", {"Contract Name": "No start", "Monthly Fee": 10}),
        rec(
            "recCONERROR000001",
            {
                "Contract Name": "Formula error",
                "Start Date": "2026-01-01",
                "Amount": {"error": "#ERROR!"},
            },
        ),
        rec(
            "recCONDANGLING001",
            {
                "Contract Name": "Dangling",
                "Start Date": "2026-01-01",
                "Opportunity": ["recDELETED0000001"],
            },
        ),
        rec(
            "recCONLINKBAD0001",
            {
                "Contract Name": "Link to a rejected record",
                "Start Date": "2026-01-01",
                "Opportunity": ["recOPPNAN00000001"],
            },
        ),
    ],
    "Invoices": [
        rec(
            "recINVGOOD0000001",
            {"Invoice Number": "INV-2026-0001", "Contract": ["recCONGOOD0000001"], "Amount": 1000},
        ),
        rec("recINVBADDATE0001", {"Invoice Number": "INV-2026-0002", "Issue Date": "01/02/2026"}),
    ],
    "Qualifications": [
        rec(
            "recQUANEWOPT00001",
            {"Assessment Key": "k", "Money": "Maybe", "Opportunity": ["recOPPGOOD0000001"]},
        ),
    ],
}


def test_sync__every_oddity_quarantined_with_id_and_reason(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, ODDITIES)
    settings = make_settings()
    result = run_sync(settings)
    # An invoice with an unreadable field still loads (its number and key must stay known).
    assert result.counts == {
        "opportunities": 3,
        "contracts": 4,
        "invoices": 2,
        "qualifications": 1,
        "charges": 0,
    }
    assert result.rejected == 3
    problems = quarantine(settings.db_path)
    found = {
        (r["record_id"], r["field"], r["severity"]): r["problem"]
        for r in problems.to_dict("records")
    }
    assert "formula value NaN" in found[("recOPPNAN00000001", "Opportunity Value", "rejected")]
    assert "required" in found[("recOPPNONAME00001", "Opportunity Name", "rejected")]
    assert "On hold" in found[("recOPPONHOLD00001", "Stage", "warning")]
    assert "billing" in found[("recCONNOSTART0001", "Start Date", "warning")]
    assert "#ERROR!" in found[("recCONERROR000001", "Amount", "rejected")]
    assert "do not exist" in found[("recCONDANGLING001", "Opportunity", "warning")]
    assert "date" in found[("recINVBADDATE0001", "Issue Date", "warning")]
    assert "Maybe" in found[("recQUANEWOPT00001", "Money", "warning")]
    # A link to a record that exists in AirTable but was rejected here is not dangling.
    assert not any(k[0] == "recCONLINKBAD0001" for k in found)
    assert len(found) == 8


def test_sync__rejected_record_keeps_its_last_good_version(
    server: FakeAirtable, make_settings: Any
) -> None:
    data = dataset()
    serve(server, data)
    settings = make_settings()
    run_sync(settings)
    data["Contracts"][0]["fields"]["Monthly Fee"] = 2000
    data["Contracts"][0]["fields"]["Amount"] = {"error": "#ERROR!"}
    serve(server, {"Contracts": data["Contracts"]})
    result = run_sync(settings)
    assert result.rejected == 1
    con = duckdb.connect(str(settings.db_path))
    try:
        fee = con.execute(
            "SELECT CAST(monthly_fee AS VARCHAR) FROM contracts WHERE id = 'recCON00000000000'"
        ).fetchall()
    finally:
        con.close()
    assert fee == [("1000.00",)]


def test_sync__demo_source_without_credentials(settings: Settings) -> None:
    result = run_sync(settings)
    assert result.source == "demo"
    assert result.counts["opportunities"] > 100
    assert result.rejected > 0  # the demo has deliberately broken records


def test_cli_sync_and_status_json(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from sales_core.cli import main

    assert main(["sync", "--json"]) == 0
    synced = json.loads(capsys.readouterr().out)
    assert synced["status"] == "ok" and synced["source"] == "demo"
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["counts"] == synced["counts"]
    assert status["quarantined"] == synced["rejected"]


def test_sync__changed_records_replace_their_rows(server: FakeAirtable, make_settings: Any) -> None:
    data = dataset()
    serve(server, data)
    settings = make_settings()
    run_sync(settings)
    fields = data["Contracts"][5]["fields"]
    fields["Opportunity"] = ["recOPP00000000001", "recOPP00000000002"]
    fields["Monthly Fee"] = 1234.5
    del fields["Community"]
    serve(server, {"Contracts": data["Contracts"]})
    run_sync(settings)
    con = duckdb.connect(str(settings.db_path))
    try:
        row = con.execute(
            "SELECT opportunity_ids, CAST(monthly_fee AS VARCHAR), community, "
            "(SELECT count(*) FROM contracts) FROM contracts WHERE id = 'recCON00000000005'"
        ).fetchall()
    finally:
        con.close()
    assert row == [(["recOPP00000000001", "recOPP00000000002"], "1234.50", None, 30)]


def test_sync__reads_the_table_ids_so_records_link_to_airtable(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, dataset())
    settings = make_settings()
    run_sync(settings)
    found = links.record_links(settings)
    table = server.table_id("Opportunities")
    assert table.startswith("tbl")
    assert found.url("opportunities", "recOPP0001") == (
        f"https://airtable.com/{server.base_id}/{table}/recOPP0001"
    )
    assert found.url("invoices", "local:recC/2026-11") is None  # made here, not in AirTable
    assert [r.kind for r in server.log].count("schema") == 1  # once per sync, not per page


def test_sync__without_the_schema_scope_names_are_shown_without_links(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, dataset())
    settings = make_settings()
    run_sync(settings)
    assert links.record_links(settings).available
    server.schema_access = False  # the token lost schema.bases:read
    result = run_sync(settings)
    assert result.status == "ok" and result.counts["opportunities"] == 230
    found = links.record_links(settings)
    assert not found.available
    assert found.url("opportunities", "recOPP0001") is None
    assert "schema.bases:read" in found.note
    assert server.count(status=403) == 1


def test_sync__a_passing_failure_of_the_schema_keeps_the_links(
    server: FakeAirtable, make_settings: Any
) -> None:
    serve(server, dataset())
    settings = make_settings()
    run_sync(settings)
    before = links.record_links(settings)
    assert before.available
    server.schema_failure = 503  # the metadata API down for a moment, the records fine
    assert run_sync(settings).status == "ok"
    assert server.count(status=503) >= 1
    assert links.record_links(settings).tables == before.tables


def test_sync__demo_records_have_no_links(settings: Settings) -> None:
    run_sync(settings)
    found = links.record_links(settings)
    assert not found.available and found.note == "the records are not in AirTable"
