"""What the CLI's commands share: who runs them, the month words, the database check, JSON."""

from __future__ import annotations

import argparse
import getpass
import json
import os
from datetime import date, timedelta
from typing import Any

from sales_core import access, health
from sales_core.billing import Month
from sales_core.config import Settings
from sales_core.errors import SalesError


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def actor_of(args: argparse.Namespace, settings: Settings) -> access.Actor:
    """Who runs the command (`--as`, else SALES_OPERATOR), checked against the access lists.

    With open access (no sign-in, no lists: the demo) anyone may, recorded as `cli:<user>` when
    unnamed. Otherwise an unknown operator raises AccessDenied, which main() prints in one line.
    """
    name = getattr(args, "actor", None) or os.environ.get("SALES_OPERATOR")
    return access.operator(name, settings.access, fallback=f"cli:{getpass.getuser()}")


def month_of(text: str, today: date) -> Month:
    """YYYY-MM, or `current` / `previous` (the month of today, or the one before), for cron."""
    word = text.strip().lower()
    if word == "current":
        return Month.of(today)
    if word == "previous":
        return Month.of(today.replace(day=1) - timedelta(days=1))
    return Month.parse(text)


def require_synced(settings: Settings) -> None:
    """Refuse, in words, to plan or bill from a database that never received a sync.

    A mistyped SALES_DB would otherwise be created empty and report "0 invoices" with success.
    """
    if not settings.db_path.exists():
        raise SalesError(
            f"There is no database at SALES_DB={settings.db_path}: check the setting, or run "
            f"`sales-core sync` first."
        )
    if not health.sync_status(settings.db_path, lock_timeout=settings.lock_timeout).has_data:
        raise SalesError(
            f"The database at SALES_DB={settings.db_path} has no successful sync yet: run "
            f"`sales-core sync` first."
        )
