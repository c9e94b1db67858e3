"""The demo's billing details: who each contract bills, and the Charges table.

Part of the demo generator (demogen.py), split off by concept. Each function draws from its
own `random.Random` stream, so adding these left every other demo table exactly as it was.

- Bill to: a billing contact, a postal address, a PO number on about half of the contracts
  and a VAT number for European ones. Communities whose names are in Japanese, Korean, Arabic
  or Hebrew get addresses in their own script, so invoices show every script the PDFs print.
- Charges (docs/billing.md, "Lines and charges"), all unbilled, so the next run has them:
  cloud costs passed through for several hubs, billed in arrears (service month M, Bill In
  M+1); the last cloud costs of a contract that has ended and of a quarterly one (invoices of
  charges alone); a discount; a one-off workshop with quantity and unit price, billed next
  month; and one charge in the wrong currency, which the run lists as skipped.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sales_core.airtable import to_json_value
from sales_core.models import Charge, Contract
from sales_core.schema import airtable_names
from sales_core.vocabulary import ChargeKind

if TYPE_CHECKING:
    from sales_core.demogen import _Contract

Record = dict[str, Any]
_CH = airtable_names(Charge)
_C = airtable_names(Contract)

# Addresses by the community's base name, in the community's own script where it has one.
_ADDRESSES: dict[str, tuple[str, str]] = {
    "京都大学 オープンサイエンスハブ": ("〒606-8501 京都府京都市左京区吉田本町", "Japan"),
    "서울대학교 데이터사이언스대학원": ("서울특별시 관악구 관악로 1, 942동", "Republic of Korea"),
    "جامعة الملك عبدالله للعلوم والتقنية": (
        "ثول 23955-6900، المملكة العربية السعودية",
        "Saudi Arabia",
    ),
    "האוניברסיטה העברית בירושלים": ("הר הצופים, ירושלים 9190501", "Israel"),
}
_CONTACTS_IN_SCRIPT: dict[str, str] = {
    "京都大学 オープンサイエンスハブ": "山田 花子",
    "서울대학교 데이터사이언스대학원": "김민준",
    "جامعة الملك عبدالله للعلوم والتقنية": "ليلى حداد",
    "האוניברסיטה העברית בירושלים": "נועה לוי",
}
# (street, city and postcode, country) by the currency a community is billed in.
_PLACES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "USD": (
        ("1200 Research Parkway, Suite 300", "Seattle, WA 98195", "United States"),
        ("77 Campus Drive", "Ann Arbor, MI 48109", "United States"),
        ("450 Serra Mall, Building 160", "Palo Alto, CA 94305", "United States"),
        ("Av. Prof. Luciano Gualberto 908", "São Paulo – SP, 05508-010", "Brazil"),
        ("Rondebosch Campus, Private Bag X3", "Cape Town 7701", "South Africa"),
    ),
    "EUR": (
        ("Wilhelmsplatz 1", "37073 Göttingen", "Germany"),
        ("21 rue de l'École-de-Médecine", "75006 Paris", "France"),
        ("Gran Via de les Corts Catalanes 585", "08007 Barcelona", "Spain"),
        ("Oude Markt 13", "3000 Leuven", "Belgium"),
    ),
    "GBP": (
        ("Old College, South Bridge", "Edinburgh EH8 9YL", "United Kingdom"),
        ("Gower Street", "London WC1E 6BT", "United Kingdom"),
    ),
    "JPY": (("Yoshida-honmachi, Sakyo-ku", "Kyoto 606-8501", "Japan"),),
}
_CONTACTS = (
    "Dana Whitaker",
    "María José Ortega",
    "Pieter van der Berg",
    "Chloé Martin",
    "Oluwaseun Adeyemi",
    "Grace O'Connell",
    "Rahul Mehta",
    "Søren Kjær",
)
_VAT_PREFIX = {"Germany": "DE", "France": "FR", "Spain": "ES", "Belgium": "BE"}


def bill_to_fields(rng: random.Random, contract: _Contract) -> Record:
    """Billing Contact, Billing Address, PO Number and Customer Tax ID (AirTable names)."""
    base = contract.community.name.split(" – Cohort ")[0]
    fields: Record = {}
    if base in _ADDRESSES:
        street, country = _ADDRESSES[base]
        fields[_C["billing_contact"]] = _CONTACTS_IN_SCRIPT[base]
        fields[_C["billing_address"]] = f"{base}\n{street}\n{country}"
    else:
        street, city, country = rng.choice(_PLACES.get(contract.currency, _PLACES["USD"]))
        fields[_C["billing_contact"]] = rng.choice(_CONTACTS)
        fields[_C["billing_address"]] = f"Accounts Payable\n{street}\n{city}\n{country}"
        if country in _VAT_PREFIX:
            fields[_C["customer_tax_id"]] = f"{_VAT_PREFIX[country]}{rng.randint(10**8, 10**9 - 1)}"
        elif country == "United Kingdom":
            fields[_C["customer_tax_id"]] = f"GB{rng.randint(10**8, 10**9 - 1)}"
    if rng.random() < 0.5:
        fields[_C["po_number"]] = f"PO-{rng.randint(2024, 2026)}-{rng.randint(1000, 99999):05d}"
    return fields


def _month_first(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _charge(
    new_id: Callable[[], str],
    today: date,
    contract: _Contract,
    description: str,
    kind: str,
    amount: Decimal,
    bill_in: date,
    *,
    service: tuple[date, date] | None = None,
    currency: str | None = None,
    quantity: Decimal | None = None,
    unit_price: Decimal | None = None,
) -> Record:
    fields: Record = {
        _CH["description"]: description,
        _CH["contract_ids"]: [contract.record_id],
        _CH["kind"]: kind,
        _CH["amount"]: to_json_value(amount),  # a JSON number, as AirTable sends it
        _CH["currency"]: currency or contract.currency,
        _CH["bill_in"]: bill_in.isoformat(),
    }
    if service is not None:
        fields[_CH["service_start"]] = service[0].isoformat()
        fields[_CH["service_end"]] = service[1].isoformat()
    if quantity is not None and unit_price is not None:
        fields[_CH["quantity"]] = to_json_value(quantity)
        fields[_CH["unit_price"]] = to_json_value(unit_price)
    created = f"{min(bill_in - timedelta(days=3), today - timedelta(days=1))}T09:30:00.000Z"
    return {"id": new_id(), "createdTime": created, "fields": fields}


def _cloud_costs(
    rng: random.Random, month_first: date, currency: str
) -> tuple[str, Decimal, tuple[date, date]]:
    last = _month_first(month_first, 1) - timedelta(days=1)
    cents = rng.randint(18_000, 240_000)
    amount = Decimal(cents) if currency == "JPY" else Decimal(cents) / 100
    label = f"Cloud costs passed through at cost, {month_first:%B %Y}"
    return label, amount, (month_first, last)


def build_charges(
    rng: random.Random,
    contracts: Sequence[_Contract],
    this_month: date,
    today: date,
    new_id: Callable[[], str],
) -> list[Record]:
    """The demo's Charges table, none billed yet (see the module's docstring)."""
    records: list[Record] = []
    active_monthly = [
        c
        for c in contracts
        if c.status == "Active"
        and c.frequency == "Monthly"
        and not c.omit_frequency
        and c.fee
        and c.start is not None
        and c.start < _month_first(this_month, -3)
        and (c.end is None or c.end > _month_first(this_month, 1))
        and c.service_type == "Hub service"
    ]
    hubs = sorted(active_monthly, key=lambda c: c.record_id)[:5]
    for contract in hubs:  # three months of cloud costs, each billed the month after
        for back in (3, 2, 1):
            month_first = _month_first(this_month, -back)
            label, amount, service = _cloud_costs(rng, month_first, contract.currency)
            records.append(
                _charge(
                    new_id,
                    today,
                    contract,
                    label,
                    ChargeKind.PASS_THROUGH,
                    amount,
                    _month_first(month_first, 1),
                    service=service,
                )
            )
    ended = next(
        (c for c in contracts if c.status == "Ended" and c.fee and c.end and c.start), None
    )
    if ended is not None and ended.end is not None:  # its last month's cloud costs, in arrears
        month_first = ended.end.replace(day=1)
        label, amount, _ = _cloud_costs(rng, month_first, ended.currency)
        records.append(
            _charge(
                new_id,
                today,
                ended,
                label,
                ChargeKind.PASS_THROUGH,
                amount,
                _month_first(month_first, 1),
                service=(month_first, ended.end),
            )
        )
    quarterly = next(
        (c for c in contracts if c.status == "Active" and c.frequency == "Quarterly" and c.fee),
        None,
    )
    if quarterly is not None:  # billed in a month where no quarter begins: charges alone
        month_first = _month_first(this_month, -1)
        label, amount, service = _cloud_costs(rng, month_first, quarterly.currency)
        records.append(
            _charge(
                new_id,
                today,
                quarterly,
                label,
                ChargeKind.PASS_THROUGH,
                amount,
                this_month,
                service=service,
            )
        )
    if hubs:
        records.append(
            _charge(
                new_id,
                today,
                hubs[0],
                "Multi-year renewal discount",
                ChargeKind.DISCOUNT,
                Decimal("-250.00"),
                this_month,
            )
        )
        workshop_day = _month_first(this_month, 1) + timedelta(days=9)
        records.append(
            _charge(
                new_id,
                today,
                hubs[1 % len(hubs)],
                "Instructor training workshop (2 days, online)",
                ChargeKind.SERVICE,
                Decimal("3000.00"),
                _month_first(this_month, 1),
                service=(workshop_day, workshop_day + timedelta(days=1)),
                quantity=Decimal(2),
                unit_price=Decimal("1500.00"),
            )
        )
        wrong = hubs[2 % len(hubs)]
        other = "EUR" if wrong.currency != "EUR" else "USD"
        label, amount, service = _cloud_costs(rng, _month_first(this_month, -1), other)
        records.append(
            _charge(
                new_id,
                today,
                wrong,
                f"{label} (entered in {other} by mistake)",
                ChargeKind.PASS_THROUGH,
                amount,
                this_month,
                service=service,
                currency=other,
            )
        )
    return sorted(records, key=lambda r: (r["createdTime"], r["id"]))
