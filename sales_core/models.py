"""The synced tables, declared once: each field is a column of the store and a field of AirTable.

A field's `Col(...)` (schema.py) gives its default AirTable name and how it is read; the sync's
readers, the default field mapping, the store's columns, the Arrow schema and the demo
generator's field names all come from here. Adding an optional field is one line here plus one
migration (migrations.py) that adds the column.

Money is `Decimal` from the JSON number (through `str`) onwards; no float touches an amount.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sales_core.qualification import CRITERIA, criterion_attr
from sales_core.schema import (
    COLLABORATOR,
    CREATED,
    CURRENCY,
    DATE,
    FRACTION,
    ID,
    INT,
    LINKS,
    MONEY,
    PRICE,
    QUANTITY,
    RATING,
    TEXT,
    Col,
    select,
)
from sales_core.vocabulary import (
    Answer,
    BillingFrequency,
    Category,
    ChargeKind,
    ContractStatus,
    InvoiceStatus,
    InvoiceType,
    Recommendation,
    ServiceType,
    Stage,
)

Severity = Literal["rejected", "warning"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, ID]


class Problem(BaseModel):
    """One thing wrong with one record, for the Data health page."""

    model_config = ConfigDict(frozen=True)

    table: str
    record_id: str
    field: str
    problem: str
    raw_value: str | None = None
    severity: Severity = "rejected"


class Opportunity(_Record):
    """A deal in the sales pipeline."""

    name: Annotated[str, Col("Opportunity Name", TEXT, required=True)]
    organization: Annotated[str | None, Col("Organization", TEXT)] = None
    stage: Annotated[str | None, Col("Stage", select(Stage))] = None
    value: Annotated[
        Decimal | None,
        Col(
            "Opportunity Value",
            MONEY,
            minor_unit=True,
            sensible=(Decimal(0), Decimal(1_000_000_000)),
        ),
    ] = None
    currency: Annotated[str, Col("Currency", CURRENCY)] = "USD"
    probability_rating: Annotated[
        int | None, Col("Probability Success", RATING, drop_on_error=True), Field(ge=1, le=5)
    ] = None
    expected_close: Annotated[date | None, Col("Expected Close Date", DATE)] = None
    target_start: Annotated[date | None, Col("Target Start Date", DATE)] = None
    target_end: Annotated[date | None, Col("Target End Date", DATE)] = None
    category: Annotated[str | None, Col("Category", select(Category))] = None
    owner_name: Annotated[str | None, Col("Owner", COLLABORATOR, key="owner", part=0)] = None
    owner_email: Annotated[str | None, Col("Owner", COLLABORATOR, key="owner", part=1)] = None
    last_activity: Annotated[date | None, Col("Last Activity", DATE)] = None
    lost_reason: Annotated[str | None, Col("Lost Reason", TEXT)] = None
    created_time: Annotated[datetime | None, CREATED] = None


class Contract(_Record):
    """A signed agreement with a community: what is billed, how often, in which currency."""

    name: Annotated[str, Col("Contract Name", TEXT, required=True)]
    community: Annotated[str | None, Col("Community", TEXT)] = None
    opportunity_ids: Annotated[tuple[str, ...], Col("Opportunity", LINKS)] = ()
    status: Annotated[str | None, Col("Status", select(ContractStatus))] = None
    start_date: Annotated[date | None, Col("Start Date", DATE, needed_for="billing")] = None
    end_date: Annotated[date | None, Col("End Date", DATE)] = None
    billing_frequency: Annotated[str, Col("Billing Frequency", select(BillingFrequency))] = (
        BillingFrequency.MONTHLY
    )
    # An unreadable fee loads as no fee: the invoice run then lists the contract as skipped
    # with the reason, rather than the contract vanishing from the run.
    monthly_fee: Annotated[
        Decimal | None,
        Col(
            "Monthly Fee",
            MONEY,
            drop_on_error=True,
            minor_unit=True,
            sensible=(Decimal(0), Decimal(1_000_000)),
        ),
    ] = None
    amount: Annotated[Decimal | None, Col("Amount", MONEY, minor_unit=True)] = None
    currency: Annotated[str, Col("Currency", CURRENCY)] = "USD"
    css_pct: Annotated[Decimal | None, Col("CSS %", FRACTION)] = None
    service_type: Annotated[str | None, Col("Service Type", select(ServiceType))] = None
    payment_terms: Annotated[
        int, Col("Payment Terms", INT, sensible=(Decimal(0), Decimal(365)), keep_outside=True)
    ] = 30
    billing_email: Annotated[str | None, Col("Billing Email", TEXT)] = None
    created_time: Annotated[datetime | None, CREATED] = None
    po_number: Annotated[str | None, Col("PO Number", TEXT)] = None
    billing_contact: Annotated[str | None, Col("Billing Contact", TEXT)] = None
    billing_address: Annotated[str | None, Col("Billing Address", TEXT)] = None
    customer_tax_id: Annotated[str | None, Col("Customer Tax ID", TEXT)] = None


# An invoice is never rejected for one bad field: its number, key and period must stay known,
# or the invoice run could reuse its number or bill its period again. The field is dropped
# with a warning instead.
class Invoice(_Record):
    """An invoice as AirTable knows it (sent by the fiscal sponsor or pushed by us)."""

    number: Annotated[str | None, Col("Invoice Number", TEXT, drop_on_error=True)] = None
    invoice_key: Annotated[str | None, Col("Invoice Key", TEXT, drop_on_error=True)] = None
    contract_ids: Annotated[tuple[str, ...], Col("Contract", LINKS, drop_on_error=True)] = ()
    contract_id: Annotated[str | None, Col(None, TEXT, first_of="contract_ids")] = None
    period_start: Annotated[date | None, Col("Period Start", DATE, drop_on_error=True)] = None
    period_end: Annotated[date | None, Col("Period End", DATE, drop_on_error=True)] = None
    issue_date: Annotated[date | None, Col("Issue Date", DATE, drop_on_error=True)] = None
    due_date: Annotated[date | None, Col("Due Date", DATE, drop_on_error=True)] = None
    amount: Annotated[Decimal | None, Col("Amount", MONEY, drop_on_error=True, minor_unit=True)] = (
        None
    )
    currency: Annotated[str, Col("Currency", CURRENCY, drop_on_error=True)] = "USD"
    status: Annotated[str | None, Col("Status", select(InvoiceStatus), drop_on_error=True)] = None
    paid_date: Annotated[date | None, Col("Paid Date", DATE, drop_on_error=True)] = None
    void_reason: Annotated[str | None, Col("Void Reason", TEXT, drop_on_error=True)] = None
    amount_paid: Annotated[
        Decimal | None, Col("Amount Paid", MONEY, drop_on_error=True, minor_unit=True)
    ] = None
    sent_at: Annotated[str | None, Col("Sent At", TEXT, drop_on_error=True)] = None
    type: Annotated[str, Col("Type", select(InvoiceType), drop_on_error=True)] = (
        InvoiceType.RECEIVABLE
    )
    created_time: Annotated[datetime | None, CREATED] = None
    # On a credit note: the invoice it credits.
    credited_invoice_ids: Annotated[
        tuple[str, ...], Col("Credited Invoice", LINKS, drop_on_error=True)
    ] = ()


class Charge(_Record):
    """What an invoice bills besides the fee: cloud costs passed through, a one-off service,
    a discount (a negative amount). Billed once, by the first run of its Bill In month or later.
    """

    description: Annotated[str, Col("Description", TEXT, required=True)]
    contract_ids: Annotated[tuple[str, ...], Col("Contract", LINKS, required=True)] = ()
    contract_id: Annotated[str | None, Col(None, TEXT, first_of="contract_ids")] = None
    kind: Annotated[str, Col("Kind", select(ChargeKind))] = ChargeKind.SERVICE
    amount: Annotated[Decimal, Col("Amount", MONEY, required=True, minor_unit=True)]
    currency: Annotated[str, Col("Currency", CURRENCY)] = "USD"
    service_start: Annotated[date | None, Col("Service Start", DATE)] = None
    service_end: Annotated[date | None, Col("Service End", DATE)] = None
    bill_in: Annotated[date | None, Col("Bill In", DATE, needed_for="billing")] = None
    quantity: Annotated[Decimal | None, Col("Quantity", QUANTITY, drop_on_error=True)] = None
    unit_price: Annotated[Decimal | None, Col("Unit Price", PRICE, drop_on_error=True)] = None
    created_time: Annotated[datetime | None, CREATED] = None


_ANSWER = select(Answer)


class Qualification(_Record):
    """A MANIAC-T assessment as stored in AirTable: one answer and one note per criterion."""

    assessment_key: Annotated[str, Col("Assessment Key", TEXT, required=True)]
    opportunity_ids: Annotated[tuple[str, ...], Col("Opportunity", LINKS)] = ()
    opportunity_id: Annotated[str | None, Col(None, TEXT, first_of="opportunity_ids")] = None
    assessed_by: Annotated[str | None, Col("Assessed By", TEXT)] = None
    assessed_on: Annotated[date | None, Col("Assessed On", DATE)] = None
    money: Annotated[str | None, Col("Money", _ANSWER)] = None
    authority: Annotated[str | None, Col("Authority", _ANSWER)] = None
    need: Annotated[str | None, Col("Need", _ANSWER)] = None
    impending_event: Annotated[str | None, Col("Impending Event", _ANSWER)] = None
    application: Annotated[str | None, Col("Application", _ANSWER)] = None
    competition: Annotated[str | None, Col("Competition", _ANSWER)] = None
    timeline: Annotated[str | None, Col("Timeline", _ANSWER)] = None
    money_notes: Annotated[str | None, Col("Money Notes", TEXT)] = None
    authority_notes: Annotated[str | None, Col("Authority Notes", TEXT)] = None
    need_notes: Annotated[str | None, Col("Need Notes", TEXT)] = None
    impending_event_notes: Annotated[str | None, Col("Impending Event Notes", TEXT)] = None
    application_notes: Annotated[str | None, Col("Application Notes", TEXT)] = None
    competition_notes: Annotated[str | None, Col("Competition Notes", TEXT)] = None
    timeline_notes: Annotated[str | None, Col("Timeline Notes", TEXT)] = None
    score: Annotated[int | None, Col("Score", INT, drop_on_error=True)] = None
    recommendation: Annotated[str | None, Col("Recommendation", select(Recommendation))] = None
    created_time: Annotated[datetime | None, CREATED] = None

    @property
    def answers(self) -> dict[str, str]:
        """Answer per criterion, for the criteria answered."""
        found = {c: getattr(self, criterion_attr(c)) for c in CRITERIA}
        return {c: a for c, a in found.items() if a is not None}

    @property
    def notes(self) -> dict[str, str]:
        found = {c: getattr(self, f"{criterion_attr(c)}_notes") for c in CRITERIA}
        return {c: n for c, n in found.items() if n is not None}


Entity = Opportunity | Contract | Invoice | Qualification | Charge

# The synced tables: the store's table name -> its declaration, and AirTable's default name.
SYNCED: dict[
    str,
    type[Opportunity] | type[Contract] | type[Invoice] | type[Qualification] | type[Charge],
] = {
    "opportunities": Opportunity,
    "contracts": Contract,
    "invoices": Invoice,
    "qualifications": Qualification,
    "charges": Charge,
}
DEFAULT_TABLE_NAMES: dict[str, str] = {
    "opportunities": "Opportunities",
    "contracts": "Contracts",
    "invoices": "Invoices",
    "qualifications": "Qualifications",
    "charges": "Charges",
}
# Tables a base may lack: the sync then loads them empty and says what cannot be done.
OPTIONAL_TABLES: dict[str, str] = {"charges": "bill cloud costs, services and discounts"}
