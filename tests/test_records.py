"""Each oddity of the real API (airtable-schema.md) against the record parser."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from sales_core.config import FieldMapping
from sales_core.models import Contract, Invoice, Opportunity, Qualification
from sales_core.records import parse_record

MAPPING = FieldMapping()


def record(fields: dict[str, Any], rid: str = "recAAAAAAAAAAAAAA") -> dict[str, Any]:
    return {"id": rid, "createdTime": "2025-03-04T10:11:12.000Z", "fields": fields}


def test_omitted_keys__defaults() -> None:
    contract, problems = parse_record(
        "contracts", record({"Contract Name": "Hub", "Start Date": "2026-01-01"}), MAPPING
    )
    assert isinstance(contract, Contract)
    assert problems == []
    assert contract.currency == "USD"
    assert contract.billing_frequency == "Monthly"
    assert contract.payment_terms == 30
    assert contract.end_date is None
    assert contract.opportunity_ids == ()


def test_money_is_exact_decimal_from_json_number() -> None:
    opp, _ = parse_record(
        "opportunities", record({"Opportunity Name": "X", "Opportunity Value": 1234.1}), MAPPING
    )
    assert isinstance(opp, Opportunity)
    assert opp.value == Decimal("1234.10")
    opp, _ = parse_record(
        "opportunities", record({"Opportunity Name": "X", "Opportunity Value": 0.1 + 0.2}), MAPPING
    )
    assert isinstance(opp, Opportunity)
    assert opp.value == Decimal("0.30")


@pytest.mark.parametrize(
    "error", [{"error": "#ERROR!"}, {"specialValue": "NaN"}, {"specialValue": "Infinity"}]
)
def test_formula_error_object__record_rejected_with_field_and_reason(error: dict[str, str]) -> None:
    contract, problems = parse_record(
        "contracts",
        record({"Contract Name": "Hub", "Amount": error, "Start Date": "2026-01-01"}),
        MAPPING,
    )
    assert contract is None
    [problem] = problems
    assert problem.field == "Amount"
    assert problem.severity == "rejected"
    assert problem.record_id == "recAAAAAAAAAAAAAA"
    assert "formula" in problem.problem


def test_unknown_select_value__kept_with_warning() -> None:
    opp, problems = parse_record(
        "opportunities", record({"Opportunity Name": "X", "Stage": "On hold"}), MAPPING
    )
    assert isinstance(opp, Opportunity)
    assert opp.stage == "On hold"
    [problem] = problems
    assert problem.severity == "warning"
    assert "On hold" in problem.problem


def test_em_dash_stage_is_known() -> None:
    opp, problems = parse_record(
        "opportunities", record({"Opportunity Name": "X", "Stage": "Closed—won"}), MAPPING
    )
    assert isinstance(opp, Opportunity)
    assert problems == []


def test_collaborator_object() -> None:
    owner = {"id": "usrAAAAAAAAAAAAAA", "email": "ana@example.org", "name": "Ana Lima"}
    opp, problems = parse_record(
        "opportunities", record({"Opportunity Name": "X", "Owner": owner}), MAPPING
    )
    assert isinstance(opp, Opportunity)
    assert (opp.owner_name, opp.owner_email) == ("Ana Lima", "ana@example.org")
    assert problems == []


def test_linked_record_lists() -> None:
    invoice, _problems = parse_record(
        "invoices",
        record({"Invoice Number": "INV-2026-0001", "Contract": ["recB", "recC"]}),
        MAPPING,
    )
    assert isinstance(invoice, Invoice)
    assert invoice.contract_ids == ("recB", "recC")
    assert invoice.type == "ACCREC"  # missing Type means receivable


def test_missing_required_primary_field__rejected() -> None:
    opp, problems = parse_record("opportunities", record({"Stage": "Lead"}), MAPPING)
    assert opp is None
    assert problems[0].field == "Opportunity Name"
    assert "required" in problems[0].problem


def test_missing_start_date__loaded_with_billing_warning() -> None:
    contract, problems = parse_record("contracts", record({"Contract Name": "Hub"}), MAPPING)
    assert isinstance(contract, Contract)
    [problem] = problems
    assert problem.field == "Start Date"
    assert problem.severity == "warning"
    assert "billing" in problem.problem


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"Start Date": "2026-13-01"}, "Start Date"),
        ({"Start Date": 20260101}, "Start Date"),
        ({"Amount": "1,000"}, "Amount"),
        ({"Amount": True}, "Amount"),
        ({"CSS %": 15}, "CSS %"),
        ({"Payment Terms": 30.5}, "Payment Terms"),
        ({"Opportunity": [1, 2]}, "Opportunity"),
        ({"Amount": 1e20}, "Amount"),
    ],
)
def test_wrong_types__rejected(fields: dict[str, Any], field: str) -> None:
    contract, problems = parse_record(
        "contracts", record({"Contract Name": "Hub", **fields}), MAPPING
    )
    assert contract is None
    assert [p.field for p in problems if p.severity == "rejected"] == [field]


def test_rating_out_of_range__dropped_with_warning() -> None:
    opp, problems = parse_record(
        "opportunities", record({"Opportunity Name": "X", "Probability Success": 9}), MAPPING
    )
    assert isinstance(opp, Opportunity)
    assert opp.probability_rating is None
    assert problems[0].severity == "warning"


def test_text_kept_verbatim() -> None:
    note = 'She said "=HYPERLINK(\\"x\\")" <b>bold</b> \\ 🚀'
    q, _problems = parse_record(
        "qualifications",
        record(
            {
                "Assessment Key": "k",
                "Money": "Confirmed",
                "Money Notes": note,
                "Impending Event": "No",
            }
        ),
        MAPPING,
    )
    assert isinstance(q, Qualification)
    assert q.notes["Money"] == note
    assert q.answers == {"Money": "Confirmed", "Impending Event": "No"}


def test_datetime_text_in_a_date_field_gives_its_date() -> None:
    invoice, _ = parse_record(
        "invoices", record({"Issue Date": "2026-02-01T00:00:00.000Z"}), MAPPING
    )
    assert isinstance(invoice, Invoice)
    assert invoice.issue_date == date(2026, 2, 1)


def test_record_without_id_or_fields() -> None:
    entity, problems = parse_record("invoices", {"fields": {}}, MAPPING)
    assert entity is None and problems[0].field == "id"
    entity, problems = parse_record("invoices", {"id": "recX", "fields": None}, MAPPING)
    assert entity is None and problems[0].record_id == "recX"


def test_mapping_renames_fields() -> None:
    mapping = FieldMapping()
    mapping.fields["contracts"]["monthly_fee"] = "Fee"
    contract, _ = parse_record(
        "contracts", record({"Contract Name": "Hub", "Fee": 5, "Start Date": "2026-01-01"}), mapping
    )
    assert isinstance(contract, Contract)
    assert contract.monthly_fee == Decimal("5.00")


def test_unreadable_monthly_fee__loads_without_a_fee_so_billing_says_why() -> None:
    contract, problems = parse_record(
        "contracts",
        record(
            {
                "Contract Name": "Hub",
                "Monthly Fee": {"error": "#ERROR!"},
                "Start Date": "2026-01-01",
            }
        ),
        MAPPING,
    )
    assert isinstance(contract, Contract) and contract.monthly_fee is None
    [problem] = problems
    assert problem.field == "Monthly Fee" and problem.severity == "warning"
    assert "#ERROR!" in problem.problem


def test_invoice_with_a_bad_field__keeps_number_key_and_period() -> None:
    invoice, problems = parse_record(
        "invoices",
        record(
            {
                "Invoice Number": "INV-2026-0253",
                "Invoice Key": "recC/2026-11-01/2026-11-30",
                "Period Start": "2026-11-01",
                "Period End": "2026-11-30",
                "Amount": {"error": "#ERROR!"},
                "Status": "Authorized",
            }
        ),
        MAPPING,
    )
    assert isinstance(invoice, Invoice)
    assert (invoice.number, invoice.invoice_key, invoice.status) == (
        "INV-2026-0253",
        "recC/2026-11-01/2026-11-30",
        "Authorized",
    )
    assert invoice.amount is None and problems[0].severity == "warning"


@pytest.mark.parametrize(
    ("table", "fields", "attr", "kept", "problem"),
    [
        (
            "contracts",
            {"Contract Name": "Hub", "Start Date": "2026-01-01", "Payment Terms": 1_000_000_000},
            "payment_terms",
            1_000_000_000,
            "outside the sensible range 0 to 365; kept, never billed",
        ),
        (
            "contracts",
            {"Contract Name": "Hub", "Start Date": "2026-01-01", "Payment Terms": -30},
            "payment_terms",
            -30,
            "outside the sensible range 0 to 365; kept, never billed",
        ),
        (
            "contracts",
            {"Contract Name": "Hub", "Start Date": "2026-01-01", "Monthly Fee": 1e15},
            "monthly_fee",
            None,
            "outside the sensible range 0 to 1000000; value ignored",
        ),
        (
            "opportunities",
            {"Opportunity Name": "X", "Opportunity Value": -5000},
            "value",
            None,
            "outside the sensible range 0 to 1000000000; value ignored",
        ),
    ],
)
def test_absurd_values_are_warned_of_and_never_used(
    table: str, fields: dict[str, Any], attr: str, kept: Any, problem: str
) -> None:
    entity, problems = parse_record(table, record(fields), MAPPING)
    assert entity is not None and getattr(entity, attr) == kept
    assert [(p.problem, p.severity) for p in problems] == [(problem, "warning")]


def test_a_fee_below_the_minor_unit_is_rounded_with_a_warning() -> None:
    contract, problems = parse_record(
        "contracts",
        record({"Contract Name": "Hub", "Start Date": "2026-01-01", "Monthly Fee": 0.005}),
        MAPPING,
    )
    assert isinstance(contract, Contract) and contract.monthly_fee == Decimal("0.01")
    assert [p.severity for p in problems] == ["warning"]
    assert "rounded to 0.01" in problems[0].problem
