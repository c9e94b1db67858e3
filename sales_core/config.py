"""Settings: the environment first, then `.streamlit/secrets.toml`, then defaults.

The secrets file's `[airtable]`, `[invoicing]`, `[delivery]` and `[access]` sections are read;
`[auth]` (the OIDC client of Streamlit's own sign-in) belongs to Streamlit and is never read here.

Also the mapping from the product's names to the AirTable base's table and field names, which a
TOML file (`SALES_MAPPING`) can override without a code change.

Nothing here reads a secret at import time, and no message ever contains the API token.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sales_core.access import ACCESS_SETTING_NAMES, AccessSettings, parse_access
from sales_core.delivery_settings import DELIVERY_SETTING_NAMES, DeliverySettings, parse_delivery
from sales_core.errors import ConfigError
from sales_core.models import DEFAULT_TABLE_NAMES, SYNCED
from sales_core.schema import airtable_names
from sales_core.seller_settings import SELLER_SETTING_NAMES, Seller, parse_seller
from sales_core.vocabulary import Stage

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = Path("data/sales.duckdb")
DEFAULT_ENDPOINT = "https://api.airtable.com"
DEFAULT_DEMO_DIR = PROJECT_ROOT / "data" / "demo"

DEFAULT_INVOICE_DIR = Path("data/invoices")

TABLE_KEYS = tuple(SYNCED)

# The default names follow the organisation's own AirTable bases (docs/airtable-schema.md);
# each comes from the table's declaration in models.py.
DEFAULT_TABLES: dict[str, str] = dict(DEFAULT_TABLE_NAMES)
DEFAULT_FIELDS: dict[str, dict[str, str]] = {
    table: airtable_names(model) for table, model in SYNCED.items()
}

DEFAULT_STAGE_PROBABILITY: dict[str, Decimal] = {
    Stage.LEAD: Decimal("0.10"),
    Stage.QUALIFIED: Decimal("0.25"),
    Stage.PROPOSAL: Decimal("0.50"),
    Stage.CONTRACT_ADMIN: Decimal("0.80"),
    Stage.WON: Decimal("1.00"),
    Stage.LOST: Decimal("0.00"),
}


@dataclass(frozen=True)
class FieldMapping:
    """Table and field names of the AirTable base, keyed by the product's own names."""

    tables: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TABLES))
    fields: dict[str, dict[str, str]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_FIELDS.items()}
    )

    def table(self, table_key: str) -> str:
        """The AirTable name of one of TABLE_KEYS."""
        return self.tables[table_key]

    def field_name(self, table_key: str, attr: str) -> str:
        """The AirTable field name behind a model attribute."""
        return self.fields[table_key][attr]


def load_mapping(path: Path | None) -> FieldMapping:
    """Read a mapping TOML file over the defaults; every unknown key is an error naming it.

    The file has a `[tables]` section (`contracts = "Our Contracts"`) and one section per table
    (`[contracts]` with `monthly_fee = "Fee per month"`). Anything left out keeps its default.
    """
    mapping = FieldMapping()
    if path is None:
        return mapping
    if not path.is_file():
        raise ConfigError(f"SALES_MAPPING: the mapping file {path} does not exist.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"SALES_MAPPING: {path} is not valid TOML ({exc}).") from None
    for section, values in data.items():
        if not isinstance(values, dict):
            raise ConfigError(f"SALES_MAPPING: '{section}' in {path} must be a [section].")
        if section == "tables":
            target = mapping.tables
        elif section in mapping.fields:
            target = mapping.fields[section]
        else:
            raise ConfigError(
                f"SALES_MAPPING: unknown section [{section}] in {path}; "
                f"expected [tables] or one of {', '.join(TABLE_KEYS)}."
            )
        for key, name in values.items():
            if key not in target:
                raise ConfigError(
                    f"SALES_MAPPING: unknown key '{key}' in [{section}] of {path}; "
                    f"known keys: {', '.join(sorted(target))}."
                )
            if not isinstance(name, str) or not name.strip():
                raise ConfigError(
                    f"SALES_MAPPING: '{key}' in [{section}] of {path} must be a non-empty string."
                )
            target[key] = name.strip()
    return mapping


_BASE_ID = re.compile(r"^app[A-Za-z0-9]{14}$")
# The user:password@ part of any URL in a text.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


def without_userinfo(text: str) -> str:
    """`text` with every URL's user name and password taken out: safe to show or record."""
    return _USERINFO.sub(r"\1", text)


@dataclass(frozen=True)
class Settings:
    """Everything the product reads from its environment. `api_key` is never shown."""

    api_key: str | None = field(default=None, repr=False)
    base_id: str | None = None
    endpoint_url: str = field(default=DEFAULT_ENDPOINT, repr=False)  # may hold a password
    db_path: Path = DEFAULT_DB
    mapping: FieldMapping = field(default_factory=FieldMapping)
    demo_dir: Path = DEFAULT_DEMO_DIR
    requests_per_second: float = 5.0
    rate_limit_penalty: float = 30.0
    request_timeout: float = 30.0
    max_retries: int = 3
    retry_backoff: float = 1.0
    lock_timeout: float = 10.0
    stage_probability: dict[str, Decimal] = field(
        default_factory=lambda: dict(DEFAULT_STAGE_PROBABILITY)
    )
    invoice_dir: Path = DEFAULT_INVOICE_DIR
    seller: Seller = field(default_factory=Seller)
    access: AccessSettings = field(default_factory=AccessSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)

    @property
    def endpoint_shown(self) -> str:
        """The AirTable endpoint as it may be shown: without a user name or password."""
        return without_userinfo(self.endpoint_url)

    @property
    def airtable_configured(self) -> bool:
        """True when both the token and the base id are set."""
        return bool(self.api_key and self.base_id)

    @property
    def source_name(self) -> str:
        """'airtable' when configured, else 'demo'."""
        return "airtable" if self.airtable_configured else "demo"


# name -> (Settings attribute, parser)
def _as_float(name: str, raw: str, *, minimum: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got '{raw}'.") from None
    if not value >= minimum or value != value or value == float("inf"):
        raise ConfigError(f"{name} must be a number of at least {minimum}, got '{raw}'.")
    return value


def _as_int(name: str, raw: str, *, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got '{raw}'.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got '{raw}'.")
    return value


SETTING_NAMES = (
    "AIRTABLE_API_KEY",
    "AIRTABLE_BASE_ID",
    "AIRTABLE_ENDPOINT_URL",
    "SALES_DB",
    "SALES_MAPPING",
    "SALES_DEMO_DIR",
    "AIRTABLE_REQUESTS_PER_SECOND",
    "AIRTABLE_RATE_LIMIT_PENALTY",
    "AIRTABLE_TIMEOUT",
    "AIRTABLE_MAX_RETRIES",
    "AIRTABLE_RETRY_BACKOFF",
    "SALES_LOCK_TIMEOUT",
    "INVOICE_DIR",
    *SELLER_SETTING_NAMES,
    *DELIVERY_SETTING_NAMES,
    *ACCESS_SETTING_NAMES,
)


def default_secrets_file() -> Path:
    """Where Streamlit itself reads secrets: `.streamlit/secrets.toml` under the working dir."""
    override = os.environ.get("SALES_SECRETS_FILE")
    return Path(override) if override else Path.cwd() / ".streamlit" / "secrets.toml"


def _read_secrets(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # The parser's message can quote the file, which may hold the token: keep only where.
        found = re.search(r"line \d+", str(exc))
        where = f" ({found.group(0)})" if found else ""
        raise ConfigError(f"{path} is not valid TOML{where}; fix the file's syntax.") from None
    merged: dict[str, Any] = {}
    for name in ("airtable", "invoicing", "access", "delivery"):
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"[{name}] in {path} must be a section.")
        merged.update(section)
    return merged


def _raw_text(env: Mapping[str, str], secrets: Mapping[str, Any], name: str) -> str | None:
    """A free-text setting, kept with its inner line breaks (an address has several lines)."""
    raw = env.get(name) or secrets.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ConfigError(f"{name} must be text.")
    return raw.replace("\\n", "\n").strip() or None


def load_settings(
    environ: Mapping[str, str] | None = None, secrets_file: Path | None = None
) -> Settings:
    """Build the settings: each name from the environment, else [airtable] in secrets.toml.

    Raises ConfigError naming the first wrong setting; the token's value is never quoted.
    """
    env = os.environ if environ is None else environ
    secrets = _read_secrets(secrets_file or default_secrets_file())

    def get(name: str) -> str | None:
        raw: object = env.get(name)
        if raw is None or raw == "":
            raw = secrets.get(name)
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise ConfigError(f"{name} must be a string or a number.")
        return str(raw).strip()

    unknown = sorted(set(secrets) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(
            f"Unknown setting {unknown[0]} in the secrets file; "
            f"known settings: {', '.join(SETTING_NAMES)}."
        )

    api_key = get("AIRTABLE_API_KEY")
    base_id = get("AIRTABLE_BASE_ID")
    if api_key is not None and (any(c.isspace() for c in api_key) or len(api_key) < 10):
        raise ConfigError(
            "AIRTABLE_API_KEY does not look like an AirTable personal access token "
            "(it is too short or contains spaces)."
        )
    if api_key is not None and not (api_key.isascii() and api_key.isprintable()):
        raise ConfigError(
            "AIRTABLE_API_KEY contains characters a token never has (letters outside A-Z, "
            "accents, typographic quotes or invisible characters, often from a copy and paste); "
            "copy it again from AirTable. The token itself is not shown."
        )
    if base_id is not None and not _BASE_ID.match(base_id):
        raise ConfigError(
            f"AIRTABLE_BASE_ID must look like 'app' followed by 14 letters or digits, "
            f"got '{base_id[:40]}'."
        )
    if bool(api_key) != bool(base_id):
        missing = "AIRTABLE_BASE_ID" if api_key else "AIRTABLE_API_KEY"
        present = "AIRTABLE_API_KEY" if api_key else "AIRTABLE_BASE_ID"
        raise ConfigError(f"{present} is set but {missing} is missing: set both, or neither.")

    endpoint = (get("AIRTABLE_ENDPOINT_URL") or DEFAULT_ENDPOINT).rstrip("/")
    if not re.match(r"^https?://[^\s/]+", endpoint):
        shown = without_userinfo(endpoint)[:80]
        raise ConfigError(f"AIRTABLE_ENDPOINT_URL must be an http(s) URL, got '{shown}'.")

    access = parse_access(
        {
            name: env.get(name) if env.get(name) not in (None, "") else secrets.get(name)
            for name in ACCESS_SETTING_NAMES
        }
    )
    mapping_path = get("SALES_MAPPING")
    demo_dir = get("SALES_DEMO_DIR")
    settings = Settings(
        api_key=api_key,
        base_id=base_id,
        endpoint_url=endpoint,
        db_path=Path(get("SALES_DB") or DEFAULT_DB),
        mapping=load_mapping(Path(mapping_path) if mapping_path else None),
        demo_dir=Path(demo_dir) if demo_dir else DEFAULT_DEMO_DIR,
        invoice_dir=Path(get("INVOICE_DIR") or DEFAULT_INVOICE_DIR),
        seller=parse_seller(lambda name: _raw_text(env, secrets, name)),
        access=access,
        delivery=parse_delivery(get),
    )
    overrides: dict[str, Any] = {}
    numeric: list[tuple[str, str, float]] = [
        ("AIRTABLE_REQUESTS_PER_SECOND", "requests_per_second", 0.1),
        ("AIRTABLE_RATE_LIMIT_PENALTY", "rate_limit_penalty", 0.0),
        ("AIRTABLE_TIMEOUT", "request_timeout", 0.1),
        ("AIRTABLE_RETRY_BACKOFF", "retry_backoff", 0.0),
        ("SALES_LOCK_TIMEOUT", "lock_timeout", 0.0),
    ]
    for name, attr, minimum in numeric:
        raw = get(name)
        if raw is not None:
            overrides[attr] = _as_float(name, raw, minimum=minimum)
    raw_retries = get("AIRTABLE_MAX_RETRIES")
    if raw_retries is not None:
        overrides["max_retries"] = _as_int("AIRTABLE_MAX_RETRIES", raw_retries, minimum=0)
    if overrides:
        settings = Settings(**{**settings.__dict__, **overrides})
    return settings
