"""Who may do what: the access lists, the roles and the guard the services call.

Two roles. A **viewer** sees the dashboards and may save MANIAC-T assessments; a **biller** may
also generate invoices, authorize, mark paid, void and push. Viewers are listed by email or by
whole email domain, billers by email only (a biller is a viewer too).

Access is **open** (the demo) when no sign-in method is configured, no list is set and sign-in
is not required: then whoever uses the app or the CLI acts with every right, and the pages say
so in a banner. Otherwise everyone is checked against the lists, and nobody else gets in.

Pure functions only (no streamlit): the pages and the CLI find out who the person is, then
`actor_for` / `operator` here decide the role, and the services call `require` before they
write anything. Nothing here ever reads or names a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sales_core.errors import ConfigError, SalesError

Role = Literal["viewer", "biller"]
AuthMode = Literal["none", "oidc", "header"]
AUTH_MODES: tuple[AuthMode, ...] = ("none", "oidc", "header")
DEFAULT_AUTH_HEADER = "X-Forwarded-Email"
DEFAULT_ACCESS_CONTACT = "the console's administrator"
OPEN_LABEL = "app user (no sign-in configured)"

_RANK: dict[Role, int] = {"viewer": 1, "biller": 2}
# One '@', something on each side, no spaces: enough to compare, not an RFC 5322 parser.
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+)$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")


class AccessDenied(SalesError, PermissionError):
    """The acting person lacks the role an action needs; the message names both, never a secret."""


@dataclass(frozen=True)
class AccessSettings:
    """The access part of the settings (`[access]` in secrets.toml, or the environment)."""

    auth_mode: AuthMode = "none"
    auth_header: str = DEFAULT_AUTH_HEADER
    viewers: frozenset[str] = frozenset()
    viewer_domains: frozenset[str] = frozenset()
    billers: frozenset[str] = frozenset()
    require_sign_in: bool = False
    contact: str = DEFAULT_ACCESS_CONTACT

    @property
    def lists_configured(self) -> bool:
        """True when any allow-list has an entry."""
        return bool(self.viewers or self.viewer_domains or self.billers)

    @property
    def open(self) -> bool:
        """True for the demo: no sign-in method, no lists, sign-in not required."""
        return self.auth_mode == "none" and not self.lists_configured and not self.require_sign_in

    def web_problem(self) -> str | None:
        """Why the web app must not serve pages with these settings, or None when it may.

        The web app needs a sign-in method as soon as anything restricts access: without one it
        cannot tell who is asking, and letting everyone in would defeat the lists.
        """
        if self.auth_mode != "none":
            return None
        if self.require_sign_in:
            return (
                "SALES_REQUIRE_SIGN_IN is on but no sign-in method is configured: set "
                "SALES_AUTH_MODE to 'oidc' or 'header' (see the README)."
            )
        if self.lists_configured:
            return (
                "Access lists are set (SALES_VIEWERS, SALES_VIEWER_DOMAINS or SALES_BILLERS) but "
                "no sign-in method is configured: set SALES_AUTH_MODE to 'oidc' or 'header' "
                "(see the README)."
            )
        return None


@dataclass(frozen=True)
class Actor:
    """Who acts: a checked email and its role, or the open demo's unnamed user.

    `label` is what the audit log and the assessments record: the email when there is one.
    """

    label: str
    role: Role | None
    email: str | None = None

    @property
    def is_open(self) -> bool:
        """True for the demo's unchecked user (no sign-in configured)."""
        return self.email is None and self.role == "biller"

    def can(self, role: Role) -> bool:
        """True when the actor has `role` or a higher one."""
        return self.role is not None and _RANK[self.role] >= _RANK[role]


def normalise_email(raw: object) -> str | None:
    """The email trimmed and lower-cased, or None when it is not an email at all."""
    if not isinstance(raw, str):
        return None
    email = raw.strip().lower()
    return email if _EMAIL.match(email) else None


def normalise_domain(raw: str) -> str | None:
    """A domain entry trimmed, lower-cased, without a leading '@'; None when it is no domain."""
    domain = raw.strip().lower().removeprefix("@").rstrip(".")
    return domain if _DOMAIN.match(domain) else None


def email_domain(email: str) -> str:
    """The part after the '@' of a normalised email."""
    return email.rsplit("@", 1)[1]


def in_domains(email: str, domains: Iterable[str]) -> bool:
    """True when the email's domain is exactly one of `domains`.

    Whole domains only: `example.org` lets in `a@example.org`, not `a@evil-example.org` and not
    `a@sub.example.org` (list a subdomain explicitly to let it in).
    """
    normalised = normalise_email(email)
    return normalised is not None and email_domain(normalised) in set(domains)


def role_of(email: object, settings: AccessSettings) -> Role | None:
    """The role the lists give an email: 'biller', 'viewer' or None (a stranger)."""
    normalised = normalise_email(email)
    if normalised is None:
        return None
    if normalised in settings.billers:
        return "biller"
    if normalised in settings.viewers or in_domains(normalised, settings.viewer_domains):
        return "viewer"
    return None


def open_actor(label: str = OPEN_LABEL) -> Actor:
    """The demo's user, with every right: only for settings where access is open."""
    return Actor(label=label, role="biller")


def actor_for(email: object, settings: AccessSettings) -> Actor:
    """The actor behind a signed-in email: its role from the lists (None for a stranger)."""
    normalised = normalise_email(email)
    if normalised is None:
        label = email.strip() if isinstance(email, str) and email.strip() else "(no email)"
        return Actor(label=label[:200], role=None)
    return Actor(label=normalised, role=role_of(normalised, settings), email=normalised)


def operator(name: str | None, settings: AccessSettings, fallback: str) -> Actor:
    """The CLI's operator (`--as EMAIL` or SALES_OPERATOR), checked against the same lists.

    With open access any name will do (`fallback`, e.g. 'cli:<user>', when none is given).
    Otherwise the name must be an email on a list; raises AccessDenied saying so.
    """
    if settings.open:
        label = (name or "").strip() or fallback
        return Actor(label=normalise_email(label) or label, role="biller")
    if not name or not name.strip():
        raise AccessDenied(
            "Access lists are configured: say who you are with --as EMAIL or SALES_OPERATOR."
        )
    actor = actor_for(name, settings)
    if actor.role is None:
        raise AccessDenied(f"{actor.label} is not on the access lists; ask {settings.contact}.")
    return actor


def require(actor: Actor, role: Role, action: str) -> None:
    """Raise AccessDenied unless `actor` has `role` (or a higher one) for `action`."""
    if actor.can(role):
        return
    if actor.role is None:
        raise AccessDenied(f"{actor.label} may not {action}: not on the access lists.")
    raise AccessDenied(
        f"{actor.label} may not {action}: that needs the {role} role, and they are a {actor.role}."
    )


# -- reading the settings -------------------------------------------------------------------

ACCESS_SETTING_NAMES = (
    "SALES_AUTH_MODE",
    "SALES_AUTH_HEADER",
    "SALES_VIEWERS",
    "SALES_VIEWER_DOMAINS",
    "SALES_BILLERS",
    "SALES_REQUIRE_SIGN_IN",
    "SALES_ACCESS_CONTACT",
)


def _entries(name: str, raw: object) -> list[str]:
    """A list setting: a TOML list of strings, or one string separated by commas or spaces."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [part for part in re.split(r"[,\s;]+", raw) if part]
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return [item for item in raw if item.strip()]
    raise ConfigError(f"{name} must be a list of strings or one comma-separated string.")


def _emails(name: str, raw: object) -> frozenset[str]:
    out = set()
    for entry in _entries(name, raw):
        email = normalise_email(entry)
        if email is None:
            raise ConfigError(f"{name}: '{entry[:80]}' is not an email address.")
        out.add(email)
    return frozenset(out)


def _domains(name: str, raw: object) -> frozenset[str]:
    out = set()
    for entry in _entries(name, raw):
        domain = normalise_domain(entry)
        if domain is None:
            raise ConfigError(
                f"{name}: '{entry[:80]}' is not a domain like example.org "
                "(no wildcards: list each domain and subdomain)."
            )
        out.add(domain)
    return frozenset(out)


def _flag(name: str, raw: object) -> bool:
    if raw is None or raw == "":
        return False
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got '{str(raw)[:40]}'.")


def parse_access(values: dict[str, object]) -> AccessSettings:
    """AccessSettings from raw values by name (the environment's over secrets.toml's).

    Raises ConfigError naming the first wrong setting.
    """
    mode_raw = values.get("SALES_AUTH_MODE")
    mode = str(mode_raw).strip().lower() if mode_raw not in (None, "") else "none"
    if mode not in AUTH_MODES:
        raise ConfigError(
            f"SALES_AUTH_MODE must be one of {', '.join(AUTH_MODES)}, got '{mode[:40]}'."
        )
    header_raw = values.get("SALES_AUTH_HEADER")
    header = str(header_raw).strip() if header_raw not in (None, "") else DEFAULT_AUTH_HEADER
    if not re.match(r"^[A-Za-z0-9-]+$", header):
        raise ConfigError(f"SALES_AUTH_HEADER must be an HTTP header name, got '{header[:60]}'.")
    contact_raw = values.get("SALES_ACCESS_CONTACT")
    contact = str(contact_raw).strip() if contact_raw not in (None, "") else ""
    return AccessSettings(
        auth_mode=mode,  # narrowed by the check above
        auth_header=header,
        viewers=_emails("SALES_VIEWERS", values.get("SALES_VIEWERS")),
        viewer_domains=_domains("SALES_VIEWER_DOMAINS", values.get("SALES_VIEWER_DOMAINS")),
        billers=_emails("SALES_BILLERS", values.get("SALES_BILLERS")),
        require_sign_in=_flag("SALES_REQUIRE_SIGN_IN", values.get("SALES_REQUIRE_SIGN_IN")),
        contact=contact or DEFAULT_ACCESS_CONTACT,
    )
