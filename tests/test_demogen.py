"""sales_core.demogen: deterministic demo data in AirTable's list-records shape."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sales_core import demogen
from sales_core.qualification import POINTS
from sales_core.vocabulary import BillingFrequency, ContractStatus

Tables = dict[str, list[dict[str, Any]]]

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"
TODAY = date(2026, 11, 25)
RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")
CREATED_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z")
INVOICE_NUMBER = re.compile(r"INV-(\d{4})-(\d{4,})")
OPEN_STAGES = ("Lead", "Qualified", "Proposal", "Contract Admin")
MONEY_FIELDS = {
    "opportunities": ("Opportunity Value",),
    "contracts": ("Monthly Fee", "Amount"),
    "invoices": ("Amount",),
}


@pytest.fixture(scope="module")
def demo() -> Tables:
    return demogen.generate()


def fields_of(demo: Tables, table: str) -> list[dict[str, Any]]:
    return [record["fields"] for record in demo[table]]


def by_id(demo: Tables, table: str) -> dict[str, dict[str, Any]]:
    return {record["id"]: record["fields"] for record in demo[table]}


def iter_values(value: Any) -> Any:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from iter_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_values(item)


def test_generate__same_seed_gives_identical_output(demo: Tables) -> None:
    assert demogen.generate() == demo
    assert demogen.generate(seed=7) != demo


def test_generate__records_have_the_list_records_shape(demo: Tables) -> None:
    assert tuple(demo) == demogen.TABLE_KEYS
    for table, records in demo.items():
        for record in records:
            assert set(record) == {"id", "createdTime", "fields"}, table
            assert RECORD_ID.fullmatch(record["id"]), record["id"]
            assert CREATED_TIME.fullmatch(record["createdTime"]), record["createdTime"]
            assert record["createdTime"] < TODAY.isoformat()
            assert record["fields"]
            for value in iter_values(record["fields"]):
                # empty fields are left out, as the real API does
                assert value is not None and value != "" and value != [], (table, record)


def test_generate__record_ids_are_unique_across_tables(demo: Tables) -> None:
    ids = [record["id"] for records in demo.values() for record in records]
    assert len(ids) == len(set(ids))


def test_generate__counts_at_scale_1(demo: Tables) -> None:
    assert len(demo["opportunities"]) == 150
    assert len(demo["contracts"]) == 60
    assert 300 <= len(demo["invoices"]) <= 1500
    assert 5 <= len(demo["qualifications"]) <= 8
    organisations = {f["Organization"] for f in fields_of(demo, "opportunities")}
    organisations |= {f["Community"] for f in fields_of(demo, "contracts")}
    assert 35 <= len(organisations) <= 45
    assert any(not name.isascii() for name in organisations)


def test_opportunities__cover_every_stage_currency_and_category(demo: Tables) -> None:
    opportunities = fields_of(demo, "opportunities")
    assert set(demogen.STAGES) <= {f["Stage"] for f in opportunities}
    currencies = Counter(f.get("Currency", "USD") for f in opportunities)
    assert {"USD", "EUR", "GBP", "CAD"} <= set(currencies)
    assert currencies.most_common(1)[0][0] == "USD"
    assert {f["Category"] for f in opportunities} == {"Services", "Giving"}
    assert any("Probability Success" not in f for f in opportunities)
    assert any("Opportunity Value" not in f for f in opportunities)
    ratings = [f["Probability Success"] for f in opportunities if "Probability Success" in f]
    assert len(ratings) > len(opportunities) / 2
    assert all(type(r) is int and 1 <= r <= 5 for r in ratings)
    owners = {f["Owner"]["id"] for f in opportunities if "Owner" in f}
    assert 4 <= len(owners) <= 5
    lost = [f for f in opportunities if f["Stage"] == "Closed—lost"]
    assert sum("Lost Reason" in f for f in lost) > len(lost) / 2


def test_opportunities__open_deals_include_overdue_and_stale_ones(demo: Tables) -> None:
    open_deals = [f for f in fields_of(demo, "opportunities") if f["Stage"] in OPEN_STAGES]
    closes = [date.fromisoformat(f["Expected Close Date"]) for f in open_deals]
    assert sum(d < TODAY for d in closes) >= 3
    assert sum(TODAY <= d <= TODAY + timedelta(days=366) for d in closes) > len(closes) / 2
    idle = [(TODAY - date.fromisoformat(f["Last Activity"])).days for f in open_deals]
    assert sum(days > 30 for days in idle) >= 3
    assert all(days >= 0 for days in idle)


def test_contracts__cover_every_frequency_status_and_currency(demo: Tables) -> None:
    contracts = fields_of(demo, "contracts")
    frequencies = Counter(f.get("Billing Frequency", "Monthly") for f in contracts)
    assert set(frequencies) == set(BillingFrequency)
    assert frequencies.most_common(1)[0][0] == "Monthly"
    assert {f["Status"] for f in contracts} == set(ContractStatus)
    currencies = Counter(f.get("Currency", "USD") for f in contracts)
    assert {"USD", "EUR", "GBP", "JPY"} <= set(currencies)
    assert currencies["JPY"] == 1
    assert currencies.most_common(1)[0][0] == "USD"
    assert {f.get("Payment Terms") for f in contracts} >= {30, 45, 60, None}
    assert all(0 <= f["CSS %"] <= 1 for f in contracts if "CSS %" in f)


def test_contracts__renewal_radar_has_something_to_show(demo: Tables) -> None:
    active = [f for f in fields_of(demo, "contracts") if f["Status"] == "Active"]
    days_left = [
        (date.fromisoformat(f["End Date"]) - TODAY).days for f in active if "End Date" in f
    ]
    assert any(d < 0 for d in days_left)  # still Active after its end
    assert any(0 <= d <= 30 for d in days_left)
    assert any(30 < d <= 90 for d in days_left)
    assert any(90 < d <= 180 for d in days_left)
    assert any("End Date" not in f for f in active)  # open-ended


def test_contracts__link_to_a_won_opportunity_of_the_same_organisation(demo: Tables) -> None:
    opportunities = by_id(demo, "opportunities")
    linked = [f for f in fields_of(demo, "contracts") if "Opportunity" in f]
    assert len(linked) > len(demo["contracts"]) / 2
    for contract in linked:
        (opportunity_id,) = contract["Opportunity"]
        opportunity = opportunities[opportunity_id]
        assert opportunity["Stage"] == "Closed—won"
        assert opportunity["Organization"] == contract["Community"]


def test_money__json_numbers_with_at_most_two_decimals(demo: Tables) -> None:
    for table, names in MONEY_FIELDS.items():
        for f in fields_of(demo, table):
            for name in names:
                value = f.get(name)
                if value is None or isinstance(value, dict):  # absent, or a broken record
                    continue
                assert type(value) in (int, float), (table, name, value)
                exponent = Decimal(str(value)).as_tuple().exponent
                assert isinstance(exponent, int) and exponent >= -2, (table, name, value)
                if f.get("Currency") == "JPY":
                    assert type(value) is int


def test_invoices__numbers_are_gapless_per_issue_year_in_issue_order(demo: Tables) -> None:
    numbers: dict[str, list[int]] = defaultdict(list)
    issue_dates = []
    for f in fields_of(demo, "invoices"):
        match = INVOICE_NUMBER.fullmatch(f["Invoice Number"])
        assert match, f["Invoice Number"]
        assert match[1] == f["Issue Date"][:4]
        numbers[match[1]].append(int(match[2]))
        issue_dates.append(f["Issue Date"])
    assert issue_dates == sorted(issue_dates)
    assert len(numbers) >= 2
    for year, sequence in numbers.items():
        assert sequence == list(range(1, len(sequence) + 1)), year


def test_invoices__follow_the_contracts_and_billing_rules(demo: Tables) -> None:
    contracts = by_id(demo, "contracts")
    invoices = fields_of(demo, "invoices")
    keys = [f["Invoice Key"] for f in invoices if "Invoice Key" in f]
    assert len(keys) == len(set(keys))
    current_month = TODAY.replace(day=1).isoformat()
    for f in invoices:
        assert f["Issue Date"] < current_month
        assert date.fromisoformat(f["Issue Date"]).day == 1
        assert f["Period Start"] <= f["Period End"]
        if "Invoice Key" in f:
            (contract_id,) = f["Contract"]
            assert f["Invoice Key"] == f"{contract_id}/{f['Period Start']}/{f['Period End']}"
            contract = contracts.get(contract_id)
            if contract is not None:
                assert contract["Status"] in ("Active", "Ended")
                assert f["Currency"] == contract.get("Currency", "USD")
                assert contract["Start Date"] <= f["Period Start"]
                terms = contract.get("Payment Terms", 30)
                due = date.fromisoformat(f["Issue Date"]) + timedelta(days=terms)
                assert f["Due Date"] == due.isoformat()
        if f["Status"] == "Paid":
            assert f["Issue Date"] < f["Paid Date"] < TODAY.isoformat()
        else:
            assert "Paid Date" not in f
    statuses = Counter(f["Status"] for f in invoices)
    assert statuses.most_common(1)[0][0] == "Paid"
    assert statuses["Void"] >= 1 and statuses["Authorized"] >= 1
    overdue = [
        f
        for f in invoices
        if f["Status"] == "Authorized"
        and date.fromisoformat(f["Due Date"]) < TODAY - timedelta(days=60)
    ]
    assert overdue
    types = Counter(f.get("Type") for f in invoices)
    assert types["ACCREC"] > len(invoices) / 2
    assert types[None] >= 1  # missing Type means ACCREC
    assert 2 <= types["ACCPAY"] <= 3


@pytest.mark.parametrize(
    ("community", "period", "amount", "currency"),
    [
        ("京都大学 オープンサイエンスハブ", ("2026-04-11", "2026-04-30"), 66666, "JPY"),
        ("Pangeo Climate Community", ("2026-05-20", "2026-06-30"), 1387.10, "USD"),
        ("Pangeo Climate Community", ("2026-07-01", "2026-09-30"), 3000, "USD"),
        ("Cal State LA – Data Science Program", ("2026-02-01", "2026-02-10"), 357.14, "USD"),
        (
            "University of Washington – eScience Institute",
            ("2026-09-15", "2027-09-14"),
            12000,
            "USD",
        ),
    ],
)
def test_invoices__include_the_worked_examples_of_billing_md(
    demo: Tables, community: str, period: tuple[str, str], amount: float, currency: str
) -> None:
    contracts = by_id(demo, "contracts")
    matches = [
        f
        for f in fields_of(demo, "invoices")
        if "Contract" in f
        and f["Contract"][0] in contracts
        and contracts[f["Contract"][0]]["Community"] == community
        and (f["Period Start"], f["Period End"]) == period
    ]
    assert len(matches) == 1
    assert matches[0]["Amount"] == amount
    assert matches[0]["Currency"] == currency


def test_qualifications__follow_maniac_t(demo: Tables) -> None:
    opportunities = by_id(demo, "opportunities")
    recommendations = set()
    for f in fields_of(demo, "qualifications"):
        (opportunity_id,) = f["Opportunity"]
        assert opportunities[opportunity_id]["Stage"] in OPEN_STAGES
        assert re.fullmatch(rf"{opportunity_id}/{f['Assessed On']}/\d+", f["Assessment Key"])
        answers = {c: f[c] for c in demogen.CRITERIA}
        assert set(answers.values()) <= set(POINTS)
        assert f["Score"] == sum(POINTS[a] for a in answers.values())
        nos = list(answers.values()).count("No")
        if answers["Application"] == "No" or nos >= 3:
            expected = "Decline"
        elif f["Score"] >= 10 and nos == 0:
            expected = "Pursue"
        else:
            expected = "Gather information"
        assert f["Recommendation"] == expected
        recommendations.add(expected)
        assert any(f"{c} Notes" in f for c in demogen.CRITERIA)
        assert f["Assessed By"]
    assert recommendations == {"Pursue", "Gather information", "Decline"}
    keys = [f["Assessment Key"] for f in fields_of(demo, "qualifications")]
    assert len(keys) == len(set(keys))


def broken_records(demo: Tables) -> dict[str, list[str]]:
    contract_ids = {record["id"] for record in demo["contracts"]}
    stages = set(demogen.STAGES)
    checks: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
        "contract without Start Date": ("contracts", lambda f: "Start Date" not in f),
        "contract with a formula error": (
            "contracts",
            lambda f: isinstance(f.get("Monthly Fee", f.get("Amount")), dict),
        ),
        "opportunity with a NaN value": (
            "opportunities",
            lambda f: isinstance(f.get("Opportunity Value"), dict),
        ),
        "opportunity with an unknown Stage": ("opportunities", lambda f: f["Stage"] not in stages),
        "opportunity without a name": ("opportunities", lambda f: "Opportunity Name" not in f),
        "invoice with a dangling Contract link": (
            "invoices",
            lambda f: any(c not in contract_ids for c in f.get("Contract", [])),
        ),
    }
    return {
        name: [r["id"] for r in demo[table] if check(r["fields"])]
        for name, (table, check) in checks.items()
    }


def test_broken_records__one_of_each_kind(demo: Tables) -> None:
    found = broken_records(demo)
    assert {name: len(ids) for name, ids in found.items()} == dict.fromkeys(found, 1)
    contracts = by_id(demo, "contracts")
    assert contracts[found["contract with a formula error"][0]]["Monthly Fee"] == {
        "error": "#ERROR!"
    }
    opportunities = by_id(demo, "opportunities")
    assert opportunities[found["opportunity with a NaN value"][0]]["Opportunity Value"] == {
        "specialValue": "NaN"
    }
    assert opportunities[found["opportunity with an unknown Stage"][0]]["Stage"] == "On hold"
    # the broken contracts were never invoiced
    billed = {f["Contract"][0] for f in fields_of(demo, "invoices") if "Contract" in f}
    assert not billed & {
        found["contract without Start Date"][0],
        found["contract with a formula error"][0],
    }


def test_generate__scale_multiplies_records_but_not_breakage(demo: Tables) -> None:
    doubled = demogen.generate(scale=2)
    assert len(doubled["opportunities"]) == 300
    assert len(doubled["contracts"]) == 120
    assert 1.5 < len(doubled["invoices"]) / len(demo["invoices"]) < 2.5
    ids = [record["id"] for records in doubled.values() for record in records]
    assert len(ids) == len(set(ids))
    assert all(len(ids) == 1 for ids in broken_records(doubled).values())


def test_generate__other_today_moves_the_history(demo: Tables) -> None:
    today = date(2025, 3, 1)
    moved = demogen.generate(today=today)
    assert max(f["Issue Date"] for f in fields_of(moved, "invoices")) == "2025-02-01"
    assert max(r["createdTime"] for records in moved.values() for r in records) < "2025-03-01"
    with pytest.raises(ValueError):
        demogen.generate(scale=0)


def test_committed_demo_files_equal_generate_output(demo: Tables, tmp_path: Path) -> None:
    demogen.write(demo, tmp_path)
    for key in demogen.TABLE_KEYS:
        committed = DEMO_DIR / f"{key}.json"
        assert committed.read_bytes() == (tmp_path / f"{key}.json").read_bytes(), (
            f"{committed} is stale: run python -m sales_core.demogen --out data/demo"
        )


def test_main__writes_the_files_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert demogen.main(["--out", str(out), "--seed", "3", "--today", "2025-06-15"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "150 opportunities" in printed[0] and "60 contracts" in printed[0]
    expected = demogen.generate(seed=3, today=date(2025, 6, 15))
    for key in demogen.TABLE_KEYS:
        text = (out / f"{key}.json").read_text(encoding="utf-8")
        assert text.endswith("}\n")
        assert json.loads(text) == {"records": expected[key]}


def test_generate__sizes_set_the_table_sizes_for_load_tests() -> None:
    records = demogen.generate(sizes=demogen.Sizes(opportunities=200, contracts=70, invoices=1200))
    assert [len(records[t]) for t in ("opportunities", "contracts", "invoices")] == [200, 70, 1200]
    numbers = [r["fields"]["Invoice Number"] for r in records["invoices"]]
    keys = [
        r["fields"].get("Invoice Key") for r in records["invoices"] if "Invoice Key" in r["fields"]
    ]
    assert len(set(numbers)) == len(numbers) and len(set(keys)) == len(keys)
    archive = [r for r in records["invoices"] if r["fields"]["Issue Date"] < "2024-11-01"]
    assert archive and all(r["fields"]["Status"] in ("Paid", "Void") for r in archive)
