"""Who sends the invoices and how to pay them: the seller block of every PDF and email.

Read by config.load_settings from the environment or the `[invoicing]` section of
`.streamlit/secrets.toml`. An IBAN or a BIC that fails validation (schwifty: the country's
length and format, the check digits, a known bank code format) is a configuration error
naming the setting. The demo runs on placeholder values; once AirTable is configured, no
invoice is generated or authorized while the name, the address or the payment details are
unset or still those placeholders (`missing_for_billing`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from sales_core.errors import BillingError, ConfigError

DEMO_SELLER_NAME = "Managed Hubs Collaborative (demo seller)"
DEMO_SELLER_ADDRESS = "c/o its fiscal sponsor\n1 Example Street, Suite 100\nSpringfield, USA"
DEMO_PAYMENT_INSTRUCTIONS = (
    "Pay by bank transfer to account 000-000-000 (demo). Quote the invoice number. "
    "Set INVOICE_PAYMENT_INSTRUCTIONS for real instructions."
)

# Setting name -> attribute, in the order the PDF prints them.
SELLER_SETTINGS: dict[str, str] = {
    "INVOICE_SELLER_NAME": "name",
    "INVOICE_SELLER_ADDRESS": "address",
    "INVOICE_SELLER_TAX_ID": "tax_id",
    "INVOICE_SELLER_EMAIL": "email",
    "INVOICE_BANK_NAME": "bank_name",
    "INVOICE_ACCOUNT_NAME": "account_name",
    "INVOICE_ACCOUNT_NUMBER": "account_number",
    "INVOICE_ROUTING_NUMBER": "routing_number",
    "INVOICE_IBAN": "iban",
    "INVOICE_BIC": "bic",
    "INVOICE_REMITTANCE_EMAIL": "remittance_email",
    "INVOICE_NOTES": "notes",
    "INVOICE_PAYMENT_INSTRUCTIONS": "payment_instructions",
}
SELLER_SETTING_NAMES = tuple(SELLER_SETTINGS)
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


@dataclass(frozen=True)
class Seller:
    """The seller's details, as the settings give them (None: not set)."""

    name: str = DEMO_SELLER_NAME
    address: str = DEMO_SELLER_ADDRESS
    tax_id: str | None = None
    email: str | None = None
    bank_name: str | None = None
    account_name: str | None = None
    account_number: str | None = None
    routing_number: str | None = None
    iban: str | None = None  # compact and checked (schwifty)
    bic: str | None = None
    remittance_email: str | None = None
    notes: str | None = None
    payment_instructions: str | None = None

    @property
    def payment_lines(self) -> list[tuple[str, str]]:
        """The structured payment details that are set: (label, value)."""
        shown = [
            ("Bank", self.bank_name),
            ("Account name", self.account_name),
            ("Account number", self.account_number),
            ("Routing number", self.routing_number),
            ("IBAN", _grouped_iban(self.iban) if self.iban else None),
            ("BIC", self.bic),
            ("Remittance advice to", self.remittance_email),
        ]
        return [(label, value) for label, value in shown if value]

    @property
    def has_payment_details(self) -> bool:
        """An account to pay into (a number or an IBAN), or real free-text instructions."""
        instructions = self.payment_instructions
        real_text = bool(instructions) and instructions != DEMO_PAYMENT_INSTRUCTIONS
        return bool(self.account_number or self.iban or real_text)

    @property
    def instructions_text(self) -> str:
        """The free-text instructions printed under the payment details ('' when none)."""
        if self.payment_instructions:
            return self.payment_instructions
        if not self.payment_lines:  # the demo: say what to set
            return DEMO_PAYMENT_INSTRUCTIONS
        return ""

    def texts(self) -> tuple[str, ...]:
        """Every text the seller block may print (for the font check)."""
        return tuple(str(getattr(self, f.name) or "") for f in fields(self))

    def missing_for_billing(self) -> list[str]:
        """The settings to fill in before real invoices go out: unset or still the demo's."""
        missing = []
        if not self.name or self.name == DEMO_SELLER_NAME:
            missing.append("INVOICE_SELLER_NAME")
        if not self.address or self.address == DEMO_SELLER_ADDRESS:
            missing.append("INVOICE_SELLER_ADDRESS")
        if not self.has_payment_details:
            missing.append(
                "payment details (INVOICE_ACCOUNT_NUMBER or INVOICE_IBAN, or "
                "INVOICE_PAYMENT_INSTRUCTIONS)"
            )
        return missing


def _grouped_iban(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def parse_seller(text: Callable[[str], str | None]) -> Seller:
    """The seller from the settings; `text(name)` gives a setting's text (None: unset).

    Raises ConfigError naming the setting for an IBAN or BIC that fails validation, or an
    email that is not one.
    """
    values: dict[str, str | None] = {attr: text(name) for name, attr in SELLER_SETTINGS.items()}
    if values["iban"]:
        try:
            values["iban"] = IBAN(values["iban"]).compact
        except SchwiftyException as exc:
            raise ConfigError(f"INVOICE_IBAN is not a valid IBAN ({exc}).") from None
    if values["bic"]:
        try:
            values["bic"] = str(BIC(values["bic"]).compact)
        except SchwiftyException as exc:
            raise ConfigError(f"INVOICE_BIC is not a valid BIC ({exc}).") from None
    for name in ("INVOICE_SELLER_EMAIL", "INVOICE_REMITTANCE_EMAIL"):
        given = values[SELLER_SETTINGS[name]]
        if given and not _EMAIL.match(given):
            raise ConfigError(f"{name} must be one email address, got '{given[:80]}'.")
    return Seller(
        name=values["name"] or DEMO_SELLER_NAME,
        address=values["address"] or DEMO_SELLER_ADDRESS,
        **{k: v for k, v in values.items() if k not in ("name", "address")},
    )


def require_real_seller(seller: Seller, airtable_configured: bool, what: str) -> None:
    """With AirTable configured, refuse to `what` while the seller is not filled in."""
    if not airtable_configured:
        return
    missing = seller.missing_for_billing()
    if missing:
        raise BillingError(
            f"Cannot {what} yet: set the seller's real {', '.join(missing)} first (environment "
            f"or [invoicing] in .streamlit/secrets.toml). The demo placeholders must never "
            f"reach a real invoice."
        )
