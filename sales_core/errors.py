"""The product's exceptions: one base class, each subclass also a builtin where that fits.

Every message is written for a person and never contains a secret.
"""

from __future__ import annotations


class SalesError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(SalesError, ValueError):
    """A setting is missing or wrong; the message names the setting."""


class StoreError(SalesError, RuntimeError):
    """The local DuckDB database failed; the message names the file and what happened."""


class DatabaseSettingError(StoreError, ConfigError):
    """SALES_DB names something that is not a usable DuckDB file: a wrong setting."""


class StoreBusyError(StoreError):
    """The DuckDB file stayed locked by another process, or a concurrent write won."""


class SchemaVersionError(StoreError):
    """The database was written by a newer release than this code."""


class AirtableError(SalesError, RuntimeError):
    """Talking to AirTable failed; the message says how, in words."""


class AirtableForbiddenError(AirtableError, PermissionError):
    """AirTable answered 403: the token lacks a scope or access to the base."""


class RecordsRefusedError(AirtableError):
    """AirTable refused the content of a write (a 422): sending it again will not help."""


class CursorExpiredError(AirtableError):
    """AirTable dropped a listing cursor (422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE)."""


class SyncError(SalesError, RuntimeError):
    """A sync did not complete; the previous data is unchanged."""


class TableNotFoundError(AirtableError, SyncError):
    """The base has no table of that name (AirTable's 404 TABLE_NOT_FOUND, or no demo file).

    For an optional table (models.OPTIONAL_TABLES) the sync loads it empty and says so.
    """


class BillingError(SalesError, ValueError):
    """A wrong month, date or state change; the message says what is wrong."""


class PdfError(SalesError, RuntimeError):
    """An invoice PDF could not be made; the invoice itself is kept."""


class UnprintableTextError(PdfError):
    """A document's text has a character that no shipped font can print; names the field."""
