"""The settings of sending invoices and reminders by email (read by config.load_settings).

Nothing is sent unless `SMTP_HOST` and `INVOICE_FROM_EMAIL` are set. The password is kept out
of every repr and message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sales_core.errors import ConfigError

DELIVERY_SETTING_NAMES = (
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "INVOICE_FROM_EMAIL",
    "INVOICE_BCC",
    "INVOICE_DELIVERY",
    "INVOICE_SPONSOR_EMAIL",
    "REMINDER_DAYS",
)
DEFAULT_REMINDER_DAYS = (7, 30, 60)
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


@dataclass(frozen=True)
class DeliverySettings:
    """Where invoices go and how: the SMTP server, the sender, and the reminder steps."""

    host: str | None = None
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    from_email: str | None = None
    bcc: tuple[str, ...] = ()
    mode: str = "community"  # or "sponsor": the month's invoices in one email to the sponsor
    sponsor_email: str | None = None
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS

    @property
    def configured(self) -> bool:
        """True when an SMTP server and a sender are set: only then is anything sent."""
        return bool(self.host and self.from_email)


def _email(name: str, raw: str) -> str:
    if not _EMAIL.match(raw):
        raise ConfigError(f"{name} must be an email address like billing@example.org.")
    return raw


def parse_delivery(get: Callable[[str], str | None]) -> DeliverySettings:
    """The delivery settings from `get(name)` (environment, then secrets); ConfigError in words
    naming the wrong one. The password is never quoted."""
    port_text = get("SMTP_PORT") or "587"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"SMTP_PORT must be a port number (1-65535), got '{port_text[:20]}'.")
    starttls_text = (get("SMTP_STARTTLS") or "true").lower()
    if starttls_text not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError("SMTP_STARTTLS must be true or false.")
    mode = (get("INVOICE_DELIVERY") or "community").lower()
    if mode not in ("community", "sponsor"):
        raise ConfigError("INVOICE_DELIVERY must be community or sponsor.")
    from_email = get("INVOICE_FROM_EMAIL")
    sponsor = get("INVOICE_SPONSOR_EMAIL")
    bcc = tuple(
        _email("INVOICE_BCC", part.strip())
        for part in (get("INVOICE_BCC") or "").split(",")
        if part.strip()
    )
    days_text = get("REMINDER_DAYS")
    days: tuple[int, ...] = DEFAULT_REMINDER_DAYS
    if days_text is not None:
        parts = [p.strip() for p in days_text.split(",") if p.strip()]
        if not parts or not all(p.isdigit() and 0 < int(p) <= 3650 for p in parts):
            raise ConfigError(
                "REMINDER_DAYS must be days past due separated by commas, like 7,30,60."
            )
        days = tuple(sorted({int(p) for p in parts}))
    settings = DeliverySettings(
        host=get("SMTP_HOST"),
        port=int(port_text),
        username=get("SMTP_USERNAME"),
        password=get("SMTP_PASSWORD"),
        starttls=starttls_text in ("true", "1", "yes"),
        from_email=_email("INVOICE_FROM_EMAIL", from_email) if from_email else None,
        bcc=bcc,
        mode=mode,
        sponsor_email=_email("INVOICE_SPONSOR_EMAIL", sponsor) if sponsor else None,
        reminder_days=days,
    )
    if settings.host and not settings.from_email:
        raise ConfigError("SMTP_HOST is set but INVOICE_FROM_EMAIL is missing: set the sender.")
    if mode == "sponsor" and settings.host and not settings.sponsor_email:
        raise ConfigError("INVOICE_DELIVERY is sponsor but INVOICE_SPONSOR_EMAIL is missing.")
    if settings.username and not settings.password:
        raise ConfigError("SMTP_USERNAME is set but SMTP_PASSWORD is missing.")
    return settings
