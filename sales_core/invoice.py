"""The invoice: one type with its lines and its allowed state changes (pure, Decimal).

The run plans `Invoice`s, the ledger stores them (a `generated_invoices` row plus its
`invoice_lines`) and reads them back, the PDF prints them and the push sends them: the same
type all the way. Invoices synced from AirTable are `models.Invoice`, the table's declaration.
An invoice of run M has the contract's fee line for the period beginning in M, if any, and a
line per unbilled charge (docs/billing.md, "Lines and charges").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sales_core.errors import BillingError
from sales_core.vocabulary import InvoiceStatus, LineKind

# Allowed state changes (docs/billing.md): Draft -> Authorized -> Paid, and Draft or
# Authorized -> Void. The page, the CLI, the ledger and the adoption of AirTable's changes
# all ask this table.
TRANSITIONS: dict[InvoiceStatus, tuple[InvoiceStatus, ...]] = {
    InvoiceStatus.DRAFT: (InvoiceStatus.AUTHORIZED, InvoiceStatus.VOID),
    InvoiceStatus.AUTHORIZED: (InvoiceStatus.PAID, InvoiceStatus.VOID),
    InvoiceStatus.PAID: (),
    InvoiceStatus.VOID: (),
}


def allowed_targets(current: str | None) -> tuple[InvoiceStatus, ...]:
    """The states an invoice in `current` may move to next (none for an unknown state)."""
    if current not in TRANSITIONS:
        return ()
    return TRANSITIONS[InvoiceStatus(current)]


def reachable(current: str | None, target: str) -> bool:
    """Whether `target` follows `current` through one or more allowed changes.

    AirTable may show an invoice several steps on (Draft here, Paid there): that is a path
    the table allows, taken in one sync. A step back (Paid to Authorized) never is.
    """
    seen: set[str] = set()
    frontier = list(allowed_targets(current))
    while frontier:
        state = frontier.pop()
        if state == target:
            return True
        if state not in seen:
            seen.add(state)
            frontier.extend(allowed_targets(state))
    return False


def check_transition(current: str, target: str) -> None:
    """Raise BillingError, in words, unless the table allows `current` -> `target`."""
    if current not in TRANSITIONS:
        raise BillingError(f"Unknown invoice status '{current}'.")
    allowed = allowed_targets(current)
    if target not in allowed:
        if not allowed:
            raise BillingError(f"A {current} invoice cannot change any more.")
        if target == InvoiceStatus.PAID and current == InvoiceStatus.DRAFT:
            raise BillingError("Authorize the invoice before marking it paid.")
        options = " or ".join(allowed)
        raise BillingError(f"A {current} invoice can only become {options}, not {target}.")


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice: what is billed, for which days, and the exact amount."""

    kind: LineKind
    description: str
    amount: Decimal
    period_start: date | None = None
    period_end: date | None = None
    days: int | None = None
    detail: str = ""  # e.g. the proration, printed under the period
    charge_id: str | None = None  # the Charges record a charge line bills (billed once)
    charge_kind: str | None = None  # Pass-through, Service or Discount (charge lines)
    quantity: Decimal | None = None  # printed when the charge gives it
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class Invoice:
    """One invoice of a contract: planned by the run, stored here, printed and pushed.

    `number` is None until the run numbers it. `note` is for people reading the preview (e.g.
    that the period was billed before and voided); it is not stored or printed.
    """

    invoice_key: str
    contract_id: str
    contract_name: str
    community: str
    billing_email: str | None
    period_start: date
    period_end: date
    currency: str
    issue_date: date
    due_date: date
    lines: tuple[InvoiceLine, ...]
    number: str | None = None
    status: InvoiceStatus = InvoiceStatus.DRAFT
    note: str = ""
    # Bill to, as the contract gave it when the invoice was made (printed on the document).
    billing_contact: str | None = None
    billing_address: str | None = None
    po_number: str | None = None
    customer_tax_id: str | None = None
    # Its state since: payments and credit notes recorded, the paid date, why it was voided.
    amount_paid: Decimal = Decimal("0")
    credited: Decimal = Decimal("0")
    paid_date: date | None = None
    void_reason: str | None = None

    @property
    def total(self) -> Decimal:
        """What is owed once credit notes are taken off: the subtotal (`amount`) less credits."""
        return self.amount - self.credited

    @property
    def balance(self) -> Decimal:
        """What remains due: nothing on a Paid or Void invoice."""
        if self.status in (InvoiceStatus.PAID, InvoiceStatus.VOID):
            return Decimal("0")
        return self.total - self.amount_paid

    @property
    def amount(self) -> Decimal:
        """The total: the sum of the lines (each already exact in the currency's minor unit)."""
        return sum((line.amount for line in self.lines), Decimal("0"))

    @property
    def fee(self) -> InvoiceLine | None:
        return next((line for line in self.lines if line.kind == LineKind.FEE), None)

    @property
    def charges(self) -> tuple[InvoiceLine, ...]:
        return tuple(line for line in self.lines if line.kind == LineKind.CHARGE)

    @property
    def description(self) -> str:
        if self.fee is not None:
            return self.fee.description
        count = len(self.charges)
        return (
            f"{count} charge{'s' if count != 1 else ''} ({self.contract_name}), "
            f"{self.period_start} – {self.period_end}"
        )

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    @property
    def proration(self) -> str:
        return self.fee.detail if self.fee else ""

    @property
    def payment_terms_days(self) -> int:
        return (self.due_date - self.issue_date).days
