"""The seller's settings: checked IBAN and BIC, and no demo placeholder on a real invoice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sales_core.access import Actor
from sales_core.config import load_settings
from sales_core.errors import BillingError, ConfigError
from sales_core.invoicing import generate
from sales_core.ledger import authorize_many, generated_invoices
from sales_core.sync import run_sync
from tests.conftest import BASE, NOVEMBER, SELLER_ENV, TOKEN, serve_demo
from tests.fake_airtable import FakeAirtable

BILLER = Actor("biller@example.org", "biller")


def settings_with(tmp_path: Path, **env: str) -> Any:
    return load_settings(env, tmp_path / "no-secrets.toml")


def test_iban_and_bic_are_checked_and_kept_compact(tmp_path: Path) -> None:
    seller = settings_with(
        tmp_path, INVOICE_IBAN="de89 3704 0044 0532 0130 00", INVOICE_BIC="cobadeffxxx"
    ).seller
    assert (seller.iban, seller.bic) == ("DE89370400440532013000", "COBADEFFXXX")
    assert ("IBAN", "DE89 3704 0044 0532 0130 00") in seller.payment_lines
    with pytest.raises(ConfigError, match="INVOICE_IBAN"):
        settings_with(tmp_path, INVOICE_IBAN="DE89 3704 0044 0532 0130 01")  # check digits
    with pytest.raises(ConfigError, match="INVOICE_BIC"):
        settings_with(tmp_path, INVOICE_BIC="COBA-DE")
    with pytest.raises(ConfigError, match="INVOICE_REMITTANCE_EMAIL"):
        settings_with(tmp_path, INVOICE_REMITTANCE_EMAIL="remit at example.org")


def test_the_demo_bills_with_its_placeholders(tmp_path: Path) -> None:
    seller = settings_with(tmp_path).seller
    assert "demo" in seller.name and "demo" in seller.instructions_text
    assert len(seller.missing_for_billing()) == 3


def test_with_airtable_configured_the_placeholders_refuse_to_bill(
    loopback_settings: Any,
) -> None:
    with FakeAirtable(token=TOKEN, base_id=BASE) as server:
        serve_demo(server)
        placeholders = {name: None for name in SELLER_ENV}
        settings = loopback_settings(server, **placeholders)
        run_sync(settings)
        with pytest.raises(BillingError) as refused:
            generate(settings, NOVEMBER, actor=BILLER)
        message = str(refused.value)
        for name in ("INVOICE_SELLER_NAME", "INVOICE_SELLER_ADDRESS", "INVOICE_IBAN"):
            assert name in message
        assert generated_invoices(settings).empty  # nothing written
        # Once the seller is real, the run goes; authorizing is checked the same way.
        real = loopback_settings(server)
        made = generate(real, NOVEMBER, actor=BILLER).created
        assert made
        half = loopback_settings(server, INVOICE_SELLER_ADDRESS=None)
        with pytest.raises(BillingError, match="INVOICE_SELLER_ADDRESS"):
            authorize_many(half, [str(made[0].number)], actor=BILLER)
        assert authorize_many(real, [str(made[0].number)], actor=BILLER)
