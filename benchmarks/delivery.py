"""Send 1,000 invoices to an SMTP server on loopback and say where the time goes.

    .venv/bin/python benchmarks/delivery.py [--invoices 1000]

The invoices are made by the run on generated contracts (sales_core.demogen) and authorized;
the server is aiosmtpd on 127.0.0.1, accepting everything. Printed: invoices per second, and
the time per invoice of the parts: rendering the PDF, claiming (one small write transaction),
the SMTP exchange, and recording it as sent (another).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.handlers import Sink  # noqa: E402

from sales_core import delivery, demogen, ledger  # noqa: E402
from sales_core.access import Actor  # noqa: E402
from sales_core.billing import Month  # noqa: E402
from sales_core.config import Settings  # noqa: E402
from sales_core.delivery_settings import DeliverySettings  # noqa: E402
from sales_core.invoicing import generate  # noqa: E402
from sales_core.sync import run_sync  # noqa: E402

BILLER = Actor("bench@example.org", "biller")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    source = work / "data"
    # The demo base scaled up: about 21 of its 60 contracts bill each month.
    demogen.write(demogen.generate(scale=max(1, round(args.invoices / 21))), source)
    settings = Settings(db_path=work / "sales.duckdb", demo_dir=source, invoice_dir=work / "pdf")
    run_sync(settings, "demo")
    month = Month(2026, 11)
    made = generate(settings, month, actor=BILLER, push=False)
    numbers = [str(d.number) for d in made.created][: args.invoices]
    ledger.authorize_many(settings, numbers, actor=BILLER)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    settings = replace(
        settings,
        delivery=DeliverySettings(
            host="127.0.0.1", port=port, starttls=False, from_email="billing@example.org"
        ),
    )
    planned, skipped = delivery.plan_sends(settings)
    parts: dict[str, float] = defaultdict(float)

    def timed(name: str, function: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                parts[name] += time.perf_counter() - started

        return wrapper

    for attr, name in (
        ("_attachment", "render the PDF"),
        ("_claim", "claim"),
        ("_mark_sent", "record as sent"),
    ):
        setattr(delivery, attr, timed(name, getattr(delivery, attr)))
    started = time.perf_counter()
    outcome = delivery.send(settings, planned, actor=BILLER, today=date(2026, 11, 25))
    total = time.perf_counter() - started
    controller.stop()
    sent = len(outcome.sent)
    print(
        f"{len(made.created)} invoices made, {sent} sent, {len(skipped)} left out, "
        f"{len(outcome.failed)} failed"
    )
    print(f"sent in {total:.2f} s: {sent / total:.1f} invoices per second")
    smtp = total - sum(parts.values())
    for name, seconds in [*parts.items(), ("SMTP and the rest", smtp)]:
        print(
            f"  {name:<20} {seconds:7.2f} s  {seconds / max(sent, 1) * 1000:7.1f} ms each "
            f"({seconds / total:.0%})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
