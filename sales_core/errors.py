"""The product's exceptions: one base class, each subclass also a builtin where that fits.

Every message is written for a person and never contains a secret.
"""

from __future__ import annotations


class SalesError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(SalesError, ValueError):
    """A setting is missing or wrong; the message names the setting."""


class StoreBusyError(SalesError, RuntimeError):
    """The DuckDB file stayed locked by another process for longer than we wait."""


class AirtableError(SalesError, RuntimeError):
    """Talking to AirTable failed; the message says how, in words."""


class RecordsRefusedError(AirtableError):
    """AirTable refused the content of a write (a 422): sending it again will not help."""


class CursorExpiredError(AirtableError):
    """AirTable dropped a listing cursor (422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE)."""


class SyncError(SalesError, RuntimeError):
    """A sync did not complete; the previous data is unchanged."""
