"""The month's invoices for the fiscal sponsor's accounting: Xero's and QuickBooks Online's
invoice import files, one row per invoice line.

A month's invoices are the receivables issued in it (by issue date) that went out: `Authorized`
or `Paid`, made here or synced from AirTable. Credit notes issued in it (`ACCRECCREDIT`) are
included with negative amounts. The columns follow each product's own import template; where
they come from is written in docs/billing.md ("Accounting export").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from sales_core import money, store
from sales_core.billing import Month
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.export import safe_csv

FORMATS = ("xero", "quickbooks")

# Xero's sales invoice import template, in its order (* = required by Xero).
XERO_COLUMNS = (
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "Total",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
)

# QuickBooks Online's invoice import: the headers it maps by itself.
QUICKBOOKS_COLUMNS = (
    "Invoice no",
    "Customer",
    "Invoice date",
    "Due date",
    "Terms",
    "Memo",
    "Item(Product/Service)",
    "Item description",
    "Item quantity",
    "Item rate",
    "Item amount",
    "Item tax code",
    "Service date",
    "Currency",
)


@dataclass(frozen=True)
class Options:
    """What the accounting side decides: revenue account, tax rate name, item, date format."""

    account_code: str = "200"
    tax_type: str = "Tax Exempt"
    item: str = "Hosting services"
    date_format: str | None = None  # default: Xero DD/MM/YYYY, QuickBooks MM/DD/YYYY


# Every line of the month's issued receivables and credit notes: the lines of invoices made
# here, and one line for an invoice synced from AirTable (its amount and period).
_LINES_SQL = """
WITH issued AS (
    SELECT r.*, coalesce(r.type, $receivable) AS kind
    FROM receivables AS r
    WHERE r.issue_date BETWEEN $first AND $last
      AND (list_contains($issued, r.status) OR coalesce(r.type, $receivable) = 'ACCRECCREDIT')
      AND coalesce(r.type, $receivable) <> $payable
)
SELECT i.number, i.kind, i.issue_date, i.due_date, i.currency,
       coalesce(c.community, c.name, '(contract not found)') AS customer, c.billing_email,
       c.po_number, c.payment_terms, coalesce(l.position, 1) AS position,
       coalesce(l.description, c.name, i.number) AS description,
       coalesce(l.amount, i.amount) AS amount,
       coalesce(l.period_start, i.period_start) AS period_start,
       coalesce(l.period_end, i.period_end) AS period_end
FROM issued AS i
LEFT JOIN contracts AS c ON c.id = i.contract_id
LEFT JOIN invoice_lines AS l ON l.invoice_key = i.invoice_key
    AND i.invoice_key IN (SELECT invoice_key FROM generated_invoices)
ORDER BY i.number, position
"""


def lines(settings: Settings, month: Month) -> pd.DataFrame:
    """The month's invoice lines, credit notes negative, in number order."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        frame = store.execute(con, _LINES_SQL, {"first": month.first, "last": month.last}).df()
    return frame


def _amount(value: object, currency: str, negative: bool) -> Decimal:
    """A Decimal, not text: the CSV leaves numbers as they are (a credit's minus is no
    formula)."""
    amount = money.quantize(Decimal(str(value)), currency)
    return -amount if negative else amount


def _day(value: object, fmt: str) -> str:
    if value is None or pd.isna(value):
        return ""
    return str(pd.Timestamp(value).date().strftime(fmt))


def export(settings: Settings, month: Month, fmt: str, options: Options = Options()) -> bytes:
    """The month's import file for `fmt` ('xero' or 'quickbooks'), as formula-safe UTF-8 CSV.

    Raises BillingError in words for an unknown format.
    """
    if fmt not in FORMATS:
        raise BillingError(f"Unknown export format '{fmt}': use {' or '.join(FORMATS)}.")
    rows = lines(settings, month)
    records = []
    for r in rows.to_dict("records"):
        currency = str(r["currency"] or money.DEFAULT_CURRENCY)
        credit = r["kind"] == "ACCRECCREDIT"
        amount = _amount(r["amount"], currency, credit)
        period = (
            f" ({_day(r['period_start'], '%Y-%m-%d')} – {_day(r['period_end'], '%Y-%m-%d')})"
            if r["period_start"] is not None and not pd.isna(r["period_start"])
            else ""
        )
        description = f"{r['description']}{period}"
        if fmt == "xero":
            day = options.date_format or "%d/%m/%Y"
            records.append(
                {
                    "*ContactName": r["customer"],
                    "EmailAddress": r["billing_email"] or "",
                    "*InvoiceNumber": r["number"],
                    "Reference": r["po_number"] or "",
                    "*InvoiceDate": _day(r["issue_date"], day),
                    "*DueDate": _day(r["due_date"], day),
                    "*Description": description,
                    "*Quantity": "1",
                    "*UnitAmount": amount,
                    "*AccountCode": options.account_code,
                    "*TaxType": options.tax_type,
                    "Currency": currency,
                }
            )
        else:
            day = options.date_format or "%m/%d/%Y"
            terms = r["payment_terms"]
            records.append(
                {
                    "Invoice no": r["number"],
                    "Customer": r["customer"],
                    "Invoice date": _day(r["issue_date"], day),
                    "Due date": _day(r["due_date"], day),
                    "Terms": "" if terms is None or pd.isna(terms) else f"Net {int(terms)}",
                    "Memo": f"PO {r['po_number']}" if r["po_number"] else "",
                    "Item(Product/Service)": options.item,
                    "Item description": description,
                    "Item quantity": "1",
                    "Item rate": amount,
                    "Item amount": amount,
                    "Item tax code": "",
                    "Service date": _day(r["period_start"], day),
                    "Currency": currency,
                }
            )
    columns = XERO_COLUMNS if fmt == "xero" else QUICKBOOKS_COLUMNS
    frame = pd.DataFrame(records, columns=list(columns), dtype=object).fillna("")
    return safe_csv(frame)


def file_name(month: Month, fmt: str) -> str:
    """The download's name, e.g. invoices-2026-11-xero.csv."""
    return f"invoices-{month}-{fmt}.csv"
