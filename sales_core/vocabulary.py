"""The product's words: every stage, status, frequency, state and kind, declared once.

Each is a `StrEnum`, so a member equals its text (`Stage.WON == "Closed—won"`) and values read
from AirTable or DuckDB compare without conversion. SQL never spells these out: queries bind
the lists below as parameters (`status = ANY($billed)`), so renaming a value is one edit here.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    LEAD = "Lead"
    QUALIFIED = "Qualified"
    PROPOSAL = "Proposal"
    CONTRACT_ADMIN = "Contract Admin"
    WON = "Closed—won"
    LOST = "Closed—lost"


OPEN_STAGES = (Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL, Stage.CONTRACT_ADMIN)
CLOSED_STAGES = (Stage.WON, Stage.LOST)


class ContractStatus(StrEnum):
    DRAFT = "Draft"
    ACTIVE = "Active"
    ENDED = "Ended"
    CANCELLED = "Cancelled"


# The contracts the invoice run bills (and the revenue pages count as contracted).
BILLED_CONTRACT_STATUSES = (ContractStatus.ACTIVE, ContractStatus.ENDED)


class BillingFrequency(StrEnum):
    MONTHLY = "Monthly"
    QUARTERLY = "Quarterly"
    ANNUAL = "Annual"
    UPFRONT = "Upfront"


class InvoiceStatus(StrEnum):
    DRAFT = "Draft"
    AUTHORIZED = "Authorized"
    PAID = "Paid"
    VOID = "Void"


# States in which an invoice bills its period (a Void one does not).
BILLING_INVOICE_STATUSES = (InvoiceStatus.DRAFT, InvoiceStatus.AUTHORIZED, InvoiceStatus.PAID)
# States that count as issued: sent to the community, revenue and receivables.
ISSUED_INVOICE_STATUSES = (InvoiceStatus.AUTHORIZED, InvoiceStatus.PAID)


class InvoiceType(StrEnum):
    RECEIVABLE = "ACCREC"
    PAYABLE = "ACCPAY"
    CREDIT_NOTE = "ACCRECCREDIT"


class LineKind(StrEnum):
    FEE = "fee"
    CHARGE = "charge"


class ChargeKind(StrEnum):
    PASS_THROUGH = "Pass-through"
    SERVICE = "Service"
    DISCOUNT = "Discount"


class PushState(StrEnum):
    """Where a local change stands on its way to AirTable."""

    PENDING = "pending"  # not sent, or changed since it was sent
    SENDING = "sending"  # a push started and did not report back: reconciled by key
    PUSHED = "pushed"


class Answer(StrEnum):
    CONFIRMED = "Confirmed"
    PARTIAL = "Partial"
    UNKNOWN = "Unknown"
    NO = "No"


class Recommendation(StrEnum):
    PURSUE = "Pursue"
    GATHER = "Gather information"
    DECLINE = "Decline"


class Category(StrEnum):
    SERVICES = "Services"
    GIVING = "Giving"


class ServiceType(StrEnum):
    HUB = "Hub service"
    CORE = "Core support"
    DEVELOPMENT = "Development"


def texts(members: tuple[StrEnum, ...] | type[StrEnum]) -> list[str]:
    """Plain strings for a bound SQL list parameter (DuckDB binds `list[str]` as VARCHAR[])."""
    return [str(m) for m in members]


# The words SQL may name as parameters: `$issued`, `$won`, ... A query's dict of parameters
# gains the ones it names (see `bind`); none is ever spelled out in SQL text.
# Final states: no change from here may overwrite them.
SETTLED_INVOICE_STATUSES = (InvoiceStatus.PAID, InvoiceStatus.VOID)

SQL_WORDS: dict[str, str | list[str]] = {
    "won": Stage.WON,
    "lost": Stage.LOST,
    "closed_stages": texts(CLOSED_STAGES),
    "billed_contracts": texts(BILLED_CONTRACT_STATUSES),
    "active_contract": ContractStatus.ACTIVE,
    "not_billed_contracts": texts((ContractStatus.DRAFT, ContractStatus.CANCELLED)),
    "draft": InvoiceStatus.DRAFT,
    "authorized": InvoiceStatus.AUTHORIZED,
    "paid": InvoiceStatus.PAID,
    "void": InvoiceStatus.VOID,
    "issued": texts(ISSUED_INVOICE_STATUSES),
    "invoice_states": texts(InvoiceStatus),
    "settled_states": texts(SETTLED_INVOICE_STATUSES),
    "receivable": InvoiceType.RECEIVABLE,
    "pass_through": ChargeKind.PASS_THROUGH,
    "credit_note": InvoiceType.CREDIT_NOTE,
    "payable": InvoiceType.PAYABLE,
    "pending": PushState.PENDING,
    "sending": PushState.SENDING,
    "pushed": PushState.PUSHED,
}

_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")


def bind(sql: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """`params` plus the vocabulary words the SQL names as `$word` (DuckDB refuses extras)."""
    given = dict(params or {})
    for name in _PARAMETER.findall(sql):
        if name not in given and name in SQL_WORDS:
            value = SQL_WORDS[name]
            given[name] = str(value) if isinstance(value, str) else value
    return given
