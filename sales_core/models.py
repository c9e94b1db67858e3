"""Domain models: what one AirTable record means once it has been checked.

Money is `Decimal` from the JSON number (through `str`) onwards; no float touches an amount.
Parsing raw AirTable records into these models lives in `records.py`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["rejected", "warning"]

# ISO 4217 minor units for the currencies we expect; anything else is "unknown currency".
CURRENCY_MINOR_UNITS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "INR": 2,
    "BRL": 2,
    "MXN": 2,
    "ZAR": 2,
    "JPY": 0,
    "KRW": 0,
}

OPPORTUNITY_STAGES = (
    "Lead",
    "Qualified",
    "Proposal",
    "Contract Admin",
    "Closed—won",
    "Closed—lost",
)
CONTRACT_STATUSES = ("Draft", "Active", "Ended", "Cancelled")
BILLING_FREQUENCIES = ("Monthly", "Quarterly", "Annual", "Upfront")
INVOICE_STATUSES = ("Draft", "Authorized", "Paid", "Void")
INVOICE_TYPES = ("ACCREC", "ACCPAY")
ANSWERS = ("Confirmed", "Partial", "Unknown", "No")
RECOMMENDATIONS = ("Pursue", "Gather information", "Decline")
CATEGORIES = ("Services", "Giving")
SERVICE_TYPES = ("Hub service", "Core support", "Development")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    created_time: datetime | None = None


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

    name: str
    organization: str | None = None
    stage: str | None = None
    value: Decimal | None = None
    currency: str = "USD"
    probability_rating: int | None = Field(default=None, ge=1, le=5)
    expected_close: date | None = None
    target_start: date | None = None
    target_end: date | None = None
    category: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    last_activity: date | None = None
    lost_reason: str | None = None


class Contract(_Record):
    """A signed agreement with a community: what is billed, how often, in which currency."""

    name: str
    community: str | None = None
    opportunity_ids: tuple[str, ...] = ()
    status: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    billing_frequency: str = "Monthly"
    monthly_fee: Decimal | None = None
    amount: Decimal | None = None
    currency: str = "USD"
    css_pct: Decimal | None = None
    service_type: str | None = None
    payment_terms: int = 30
    billing_email: str | None = None


class Invoice(_Record):
    """An invoice as AirTable knows it (sent by the fiscal sponsor or pushed by us)."""

    number: str | None = None
    invoice_key: str | None = None
    contract_ids: tuple[str, ...] = ()
    period_start: date | None = None
    period_end: date | None = None
    issue_date: date | None = None
    due_date: date | None = None
    amount: Decimal | None = None
    currency: str = "USD"
    status: str | None = None
    paid_date: date | None = None
    type: str = "ACCREC"


class Qualification(_Record):
    """A MANIAC-T assessment as stored in AirTable; answers and notes keyed by criterion."""

    assessment_key: str
    opportunity_ids: tuple[str, ...] = ()
    assessed_by: str | None = None
    assessed_on: date | None = None
    answers: dict[str, str] = Field(default_factory=dict)
    notes: dict[str, str] = Field(default_factory=dict)
    score: int | None = None
    recommendation: str | None = None


Entity = Opportunity | Contract | Invoice | Qualification
