"""Seeded, deterministic demo data in exactly the shape of AirTable's list-records API.

`generate()` builds the five tables of the base (see specs/airtable-schema.md) for a non-profit
that runs managed JupyterHubs for research and education communities; `write()` stores them as
`<out>/<table>.json` = `{"records": [...]}`, the embedded default source of the dashboard
(`data/demo/`). `python -m sales_core.demogen --scale N --out DIR` does both.

Everything comes from `seed` and `today` through private `random.Random` instances (never the
global one), so the same arguments give byte-identical files. Like the real API, empty fields are
left out (no key, never null), links are lists of record ids and money is a JSON number (a whole
number when it has no cents, as AirTable sends it; JPY always whole).

Invoices are made *from the contracts* with the rules of specs/billing.md (service periods per
billing frequency, proration by days, one ROUND_HALF_UP per invoice), for the 24 run months before
`today`'s month. The current month is never invoiced, so the invoice run has work to do. A few
contracts are pinned to billing.md's worked examples, anchored on `today`'s month (at the default
`today` they are exactly the examples' dates).

A fixed handful of records is broken on purpose, the same six at every scale, so the sync's
quarantine and warnings have something to show (see `_break_records`):

1. contract with no `Start Date` (Active: the invoice run must skip it, with a reason);
2. contract whose `Monthly Fee` is a formula error object `{"error": "#ERROR!"}`;
3. opportunity whose `Opportunity Value` is `{"specialValue": "NaN"}`;
4. opportunity with an unknown `Stage` ("On hold", a renamed or new select option);
5. opportunity with no `Opportunity Name` key (the primary field left empty);
6. invoice whose `Contract` link points at a record id that does not exist (a deleted contract).
"""

from __future__ import annotations

import argparse
import calendar
import json
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, cast

from sales_core.airtable import to_json_value
from sales_core.billing import Month, block_period, prorated_amount
from sales_core.demo_charges import bill_to_fields, build_charges
from sales_core.errors import ConfigError
from sales_core.models import Contract, Invoice, Opportunity, Qualification
from sales_core.qualification import CRITERIA, Answer, criterion_attr, recommend, score
from sales_core.schema import airtable_names
from sales_core.vocabulary import Stage

TABLE_KEYS = ("opportunities", "contracts", "invoices", "qualifications", "charges")

STAGES = tuple(str(s) for s in Stage)

# AirTable's field names, from the tables' declarations (models.py).
_O = airtable_names(Opportunity)
_C = airtable_names(Contract)
_I = airtable_names(Invoice)
_Q = airtable_names(Qualification)

Record = dict[str, Any]
Fields = dict[str, Any]

_ID_ALPHABET = string.ascii_letters + string.digits
_HISTORY_MONTHS = 24  # invoice history before today's month
_OPPORTUNITIES_PER_SCALE = 150
_CONTRACTS_PER_SCALE = 60
_QUALIFIED_PER_SCALE = 6  # opportunities assessed; one of them twice

# --- reference data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Community:
    name: str
    domain: str
    currency: str  # what its contracts are billed in (JPY: only the pinned contract)


# name, billing e-mail domain (RFC 2606 ".example", never a real address), currency
_BASE_COMMUNITIES: tuple[tuple[str, str, str], ...] = (
    ("Université de Montréal – Research Hub", "umontreal.example", "USD"),
    ("Universität Göttingen", "uni-goettingen.example", "EUR"),
    ("Universidade de São Paulo – Data Science Lab", "usp.example", "USD"),
    ("京都大学 オープンサイエンスハブ", "kyoto-u.example", "JPY"),
    ("University of Edinburgh – School of GeoSciences", "ed.example", "GBP"),
    ("Pangeo Climate Community", "pangeo.example", "USD"),
    ("CryoCloud Polar Science", "cryocloud.example", "USD"),
    ("Openscapes Champions", "openscapes.example", "USD"),
    ("Carpentries Instructor Hub", "carpentries.example", "USD"),
    ("EarthScope Consortium – Training", "earthscope.example", "USD"),
    ("Ocean Biology Summer School", "oceanbio.example", "USD"),
    ("Universidad Nacional de Colombia – Bioinformática", "unal.example", "USD"),
    ("Universidad de Chile – Astroinformática", "uchile.example", "USD"),
    ("Sorbonne Université – Humanités numériques", "sorbonne.example", "EUR"),
    ("Technische Universität München – Geodäsie", "tum.example", "EUR"),
    ("Universitat de Barcelona – Ciència de Dades", "ub.example", "EUR"),
    ("Università di Bologna – Digital Humanities", "unibo.example", "EUR"),
    ("KU Leuven – Statistics Education", "kuleuven.example", "EUR"),
    ("Universiteit Utrecht – Climate Physics", "uu.example", "EUR"),
    ("Aalto University – Computing Education", "aalto.example", "EUR"),
    ("University College London – Neuroscience", "ucl.example", "GBP"),
    ("University of Bristol – Jean Golding Institute", "bristol.example", "GBP"),
    ("Imperial College London – Earth Science", "imperial.example", "GBP"),
    ("University of Toronto – Statistical Sciences", "utoronto.example", "USD"),
    ("جامعة الملك عبدالله للعلوم والتقنية", "kaust.example", "USD"),
    ("האוניברסיטה העברית בירושלים", "huji.example", "USD"),
    ("Makerere University – Data Science Africa", "mak.example", "USD"),
    ("Indian Institute of Science – Climate Lab", "iisc.example", "USD"),
    ("Universidad Nacional Autónoma de México – LANCIS", "unam.example", "USD"),
    ("University of Washington – eScience Institute", "uw.example", "USD"),
    ("서울대학교 데이터사이언스대학원", "snu.example", "USD"),
    ("Georgia Tech – Computational Media", "gatech.example", "USD"),
    ("UC Berkeley – Data Science Connector Courses", "berkeley.example", "USD"),
    ("Cal State LA – Data Science Program", "calstatela.example", "USD"),
    ("Howard University – Physics Department", "howard.example", "USD"),
    ("Navajo Technical University", "navajotech.example", "USD"),
    ("Fundação Oswaldo Cruz – Epidemiologia", "fiocruz.example", "USD"),
    ("Jupyter Meets the Earth", "jmte.example", "USD"),
    ("Climatematch Academy", "climatematch.example", "USD"),
    ("Neuromatch Academy", "neuromatch.example", "USD"),
)

_OWNERS: tuple[tuple[str, str], ...] = (
    ("Amara Okafor", "amara.okafor@example.org"),
    ("Jonas Weber", "jonas.weber@example.org"),
    ("Lucía Fernández", "lucia.fernandez@example.org"),
    ("Priya Raman", "priya.raman@example.org"),
    ("Sam Whitfield", "sam.whitfield@example.org"),
)
_OWNER_WEIGHTS = (5, 4, 3, 2, 2)

_FEES: dict[str, tuple[str, ...]] = {
    "USD": (
        "500",
        "750",
        "1000",
        "1200",
        "1500",
        "1833.33",
        "2000",
        "2500",
        "2916.67",
        "3000",
        "3500",
        "4000",
        "4500",
        "5000",
        "6000",
    ),
    "EUR": ("450", "900", "1250", "1666.67", "1800", "2750", "4200"),
    "GBP": ("400", "850", "1100", "1500", "2083.33", "2400", "3300"),
}
_GIFTS = ("5000", "10000", "15000", "25000", "40000", "50000", "100000", "250000")

_SERVICE_NAMES = (
    "{org}: managed JupyterHub",
    "{org}: hub for teaching {year}",
    "{org}: GPU hub pilot",
    "{org}: workshop hub {year}",
    "{org}: hub renewal {year}",
    "{org}: shared research hub",
    "{org}: BinderHub for courses",
    "{org}: cloud data hub ({year})",
)
_GIVING_NAMES = (
    "{org}: donation {year}",
    "{org}: gift for open infrastructure",
    "{org}: grant sub-award {year}",
)
_LOST_REASONS = (
    "Went with a self-hosted JupyterHub run by central IT.",
    "Funding was not approved this cycle.",
    "Chose a commercial cloud notebook service.",
    "Project postponed indefinitely.",
    "No response after the proposal.",
    "Department budget cut.",
    "Grant application unsuccessful.",
    "Another non-profit provider was closer to their region.",
    "Use case needed HPC scheduling, not a hub; referred elsewhere.",
)
_BILLING_LOCALS = ("billing", "accounts.payable", "finance", "grants-office", "ap")

# Evidence notes per criterion and answer; Unknown is sometimes left empty.
_NOTES: dict[str, dict[str, tuple[str, ...]]] = {
    "Money": {
        "Confirmed": (
            "Budget line approved for the next fiscal year.",
            "Funds set aside in their NSF award.",
        ),
        "Partial": (
            "Applying for a grant; decision expected in spring.",
            "Some money from the department, rest still open.",
        ),
        "Unknown": ("Not discussed yet.",),
        "No": ("No budget; hoping for a free service.",),
    },
    "Authority": {
        "Confirmed": ("Contact is the PI and signs the contract.",),
        "Partial": ("Contact champions it; the dean's office decides.",),
        "Unknown": ("Decision process not clear yet.",),
        "No": ("Contact is a student volunteer without authority.",),
    },
    "Need": {
        "Confirmed": (
            "Their self-managed hub keeps breaking before assignments are due.",
            "Students lose hours installing software locally.",
        ),
        "Partial": ("Current setup works but is a burden for one engineer.",),
        "Unknown": ("Need to ask what they run today.",),
        "No": ("Happy with the existing campus service.",),
    },
    "Impending Event": {
        "Confirmed": (
            "Course with 300 students starts next term.",
            "Summer school in July needs a hub.",
        ),
        "Partial": ("Would like it before the next workshop, date not fixed.",),
        "Unknown": ("No event mentioned.",),
        "No": ("No deadline; exploring options.",),
    },
    "Application": {
        "Confirmed": (
            "Standard teaching hub with nbgitpuller; an excellent fit.",
            "Cloud-native data analysis next to the data; our sweet spot.",
        ),
        "Partial": ("Needs GPUs for part of the course; feasible with a profile list.",),
        "Unknown": ("Workloads not described yet.",),
        "No": ("Needs a regulated clinical-data enclave; referred to a better-suited provider.",),
    },
    "Competition": {
        "Confirmed": ("No alternative under consideration.",),
        "Partial": ("Also looking at a commercial notebook service.",),
        "Unknown": ("Did not say what else they consider.",),
        "No": ("Central IT is building its own hub.",),
    },
    "Timeline": {
        "Confirmed": ("Contract via the sponsored-programs office, signature in four weeks.",),
        "Partial": ("Sub-award route; timing depends on the prime award.",),
        "Unknown": ("Buying process not discussed.",),
        "No": ("Procurement frozen until next year.",),
    },
}

# --- small helpers ----------------------------------------------------------------------------


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _add_months(d: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day."""
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(year, month0 + 1, min(d.day, calendar.monthrange(year, month0 + 1)[1]))


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _minor_unit(currency: str) -> Decimal:
    return Decimal("1") if currency == "JPY" else Decimal("0.01")


def _money(amount: Decimal, currency: str) -> object:
    """A JSON number as AirTable sends it: whole numbers without decimals, else 2 decimals."""
    return to_json_value(amount.quantize(_minor_unit(currency), rounding=ROUND_HALF_UP))


def _put(fields: Fields, key: str, value: object) -> None:
    """Set a field unless it is empty: the API leaves empty fields out."""
    if value is not None and value != "" and value != []:
        fields[key] = value


def _allocate(rng: random.Random, n: int, weights: Sequence[tuple[str, float]]) -> list[str]:
    """n labels in proportion to `weights`, each at least once when n allows, shuffled."""
    counts = [max(1, round(n * w)) if n >= len(weights) else 0 for _, w in weights]
    biggest = max(range(len(weights)), key=lambda i: weights[i][1])
    counts[biggest] += n - sum(counts)
    labels = [
        label for (label, _), count in zip(weights, counts, strict=True) for _ in range(count)
    ]
    if len(labels) < n:  # tiny n: plain weighted draws
        labels += rng.choices(
            [lbl for lbl, _ in weights], [w for _, w in weights], k=n - len(labels)
        )
    rng.shuffle(labels)
    return labels


def _service_period(
    frequency: str, start: date, end: date | None, month: date
) -> tuple[date, date] | None:
    """The service period billed in run month `month` (its first day): billing.md's rule."""
    if frequency == "Upfront" and end is None:
        return None
    return block_period(frequency, start, end, Month.of(month))


def _recommendation(answers: dict[str, str]) -> str:
    """MANIAC-T recommendation (the product's rule, specs/maniac-t.md)."""
    return str(recommend(cast("dict[str, Answer]", answers)))


# --- the generator ----------------------------------------------------------------------------


@dataclass
class _Contract:
    record_id: str
    community: _Community
    status: str
    frequency: str
    start: date | None
    end: date | None
    fee: Decimal | None  # None: no fee (or a broken one): never invoiced
    currency: str
    service_type: str = "Hub service"
    amount: Decimal | None = None
    payment_terms: int | None = 30
    css: str | None = "0.15"
    omit_frequency: bool = False
    omit_currency: bool = False
    opportunity_id: str | None = None
    created: date | None = None  # entered after its opportunity closed
    fee_error: bool = False  # BROKEN 2: Monthly Fee arrives as a formula error object

    @property
    def name(self) -> str:
        year = self.start.year if self.start else (self.end.year if self.end else "")
        return f"{self.community.name}: {self.service_type} {year}".rstrip()


@dataclass
class _Invoice:
    issue: date
    sort_key: tuple[str, str, str]  # (Community, Contract Name, contract id), billing.md order
    fields: Fields


@dataclass(frozen=True)
class Sizes:
    """Table sizes other than `scale`'s, for load tests; None keeps the scale's size.

    `invoices` adds archive history when the contracts' own invoices are fewer: copies of
    them moved back 24 months at a time (all paid), so the invoice table reaches that size.
    """

    opportunities: int | None = None
    contracts: int | None = None
    invoices: int | None = None


class _Generator:
    def __init__(self, scale: int, seed: int, today: date, sizes: Sizes | None = None) -> None:
        self.scale = scale
        self.sizes = sizes or Sizes()
        self.seed = seed
        self.today = today
        self.this_month = today.replace(day=1)
        self.window_start = today - timedelta(days=3 * 365)  # the pipeline's three years
        self.base_created = self.window_start - timedelta(days=45)  # the base was set up
        self._id_rng = self._rng("ids")
        self._ids: set[str] = set()
        self.communities = [
            _Community(
                name if k == 0 else f"{name} – Cohort {k + 1}",
                domain if k == 0 else f"c{k + 1}.{domain}",
                currency,
            )
            for k in range(scale)
            for name, domain, currency in _BASE_COMMUNITIES
        ]
        self.by_name = {c.name: c for c in self.communities}
        self.owners = [
            {"id": self.new_id("usr"), "email": email, "name": name} for name, email in _OWNERS
        ]
        self.contracts: list[_Contract] = []
        self.opportunities: list[Record] = []
        self.invoices: list[Record] = []
        self.qualifications: list[Record] = []
        self.charges: list[Record] = []

    # randomness and ids

    def _rng(self, stream: str) -> random.Random:
        """One independent stream per concern, so tweaking one table leaves the others alone."""
        return random.Random(f"sales_core.demogen:{self.seed}:{stream}")

    def new_id(self, prefix: str = "rec") -> str:
        while True:
            record_id = prefix + "".join(self._id_rng.choices(_ID_ALPHABET, k=14))
            if record_id not in self._ids:
                self._ids.add(record_id)
                return record_id

    def days_ago(self, rng: random.Random, lo: int, hi: int) -> date:
        return self.today - timedelta(days=rng.randint(lo, hi))

    def clamp(self, d: date) -> date:
        """Within the base's lifetime and strictly before today."""
        return min(max(d, self.base_created), self.today - timedelta(days=1))

    @staticmethod
    def stamp(rng: random.Random, d: date, first_hour: int = 8, last_hour: int = 18) -> str:
        t = datetime(
            d.year,
            d.month,
            d.day,
            rng.randint(first_hour, last_hour),
            rng.randint(0, 59),
            rng.randint(0, 59),
        )
        return f"{t:%Y-%m-%dT%H:%M:%S}.000Z"

    def owner(self, rng: random.Random) -> dict[str, str]:
        return dict(rng.choices(self.owners, _OWNER_WEIGHTS)[0])

    # contracts

    def build_contracts(self) -> None:
        rng = self._rng("contracts")
        self.contracts = self._pinned_contracts()
        wanted = self.sizes.contracts or _CONTRACTS_PER_SCALE * self.scale
        n_random = max(0, wanted - len(self.contracts))
        statuses = _allocate(
            rng, n_random, [("Active", 0.62), ("Ended", 0.22), ("Draft", 0.09), ("Cancelled", 0.07)]
        )
        frequencies = _allocate(
            rng,
            n_random,
            [("Monthly", 0.68), ("Quarterly", 0.14), ("Annual", 0.10), ("Upfront", 0.08)],
        )
        buckets = iter(
            _allocate(
                rng,
                statuses.count("Active"),
                [
                    ("open", 0.35),
                    ("future", 0.30),
                    ("soon30", 0.06),
                    ("soon90", 0.08),
                    ("soon180", 0.09),
                    ("past", 0.12),
                ],
            )
        )
        # JPY is billed by the one pinned contract only
        pool = [c for c in self.communities if c.currency != "JPY"]
        rng.shuffle(pool)
        for i in range(n_random):
            community = pool[i % len(pool)]
            status, frequency = statuses[i], frequencies[i]
            bucket = next(buckets) if status == "Active" else ""
            start, end = self._contract_dates(rng, status, frequency, bucket)
            fee = Decimal(rng.choice(_FEES[community.currency]))
            contract = _Contract(
                record_id=self.new_id(),
                community=community,
                status=status,
                frequency=frequency,
                start=start,
                end=end,
                fee=fee,
                currency=community.currency,
                service_type=rng.choices(
                    ("Hub service", "Core support", "Development"), (75, 15, 10)
                )[0],
                payment_terms=rng.choices((30, 45, 60, None), (70, 8, 7, 15))[0],
                css=rng.choice(("0.1", "0.12", "0.15", "0.15")),
                omit_frequency=frequency == "Monthly" and rng.random() < 0.08,
                omit_currency=community.currency == "USD" and rng.random() < 0.1,
            )
            if end is not None:
                contract.amount = prorated_amount(fee, start, end, contract.currency)
            elif rng.random() < 0.6:  # open-ended: the yearly value, when someone filled it in
                contract.amount = fee * 12
            self.contracts.append(contract)

    def _pinned_contracts(self) -> list[_Contract]:
        """billing.md's worked examples (anchored on today's month), an edge case, two breakages."""
        m = self.this_month

        def pinned(
            community: str,
            status: str,
            frequency: str,
            start: date | None,
            end: date | None,
            fee: str | None,
            **extra: Any,
        ) -> _Contract:
            c = self.by_name[community]
            return _Contract(
                self.new_id(),
                c,
                status,
                frequency,
                start,
                end,
                None if fee is None else Decimal(fee),
                c.currency,
                **extra,
            )

        return [
            # fee 99999 JPY from the 11th: first invoice 66666 (20 of 30 days at the default today)
            pinned(
                "京都大学 オープンサイエンスハブ",
                "Active",
                "Monthly",
                _add_months(m, -7).replace(day=11),
                None,
                "99999",
                amount=Decimal(99999 * 12),
                css="0.1",
            ),
            # Quarterly from the 20th: 1387.10, then 3000.00 per quarter
            pinned(
                "Pangeo Climate Community",
                "Active",
                "Quarterly",
                _add_months(m, -6).replace(day=20),
                None,
                "1000.00",
            ),
            # a pilot that ended on the 10th of its second month: 1000.00 then 357.14
            pinned(
                "Cal State LA – Data Science Program",
                "Ended",
                "Monthly",
                _add_months(m, -10),
                _add_months(m, -9).replace(day=10),
                "1000.00",
                amount=Decimal("1357.14"),
            ),
            # Annual from the 15th: 12000.00 per contract year
            pinned(
                "University of Washington – eScience Institute",
                "Active",
                "Annual",
                _add_months(m, -26).replace(day=15),
                None,
                "1000.00",
                amount=Decimal("12000.00"),
            ),
            # starts on the 16th of today's month: the run of this month bills 500.00
            pinned(
                "Climatematch Academy",
                "Active",
                "Monthly",
                m.replace(day=16),
                None,
                "1000.00",
                omit_frequency=True,
            ),
            # fixed-price development with no Monthly Fee: not broken, but never invoiced
            pinned(
                "Georgia Tech – Computational Media",
                "Active",
                "Monthly",
                _add_months(m, -4),
                _add_months(m, 8) - timedelta(days=1),
                None,
                service_type="Development",
                amount=Decimal("48000.00"),
                payment_terms=45,
            ),
            # BROKEN 1: no Start Date (see _break_records)
            pinned(
                "Makerere University – Data Science Africa",
                "Active",
                "Monthly",
                None,
                None,
                "1500.00",
            ),
            # BROKEN 2: Monthly Fee is a formula error object (see _break_records)
            pinned(
                "Universitat de Barcelona – Ciència de Dades",
                "Active",
                "Monthly",
                _add_months(m, -5),
                None,
                None,
                css="0.12",
                fee_error=True,
            ),
        ]

    def _contract_dates(
        self, rng: random.Random, status: str, frequency: str, bucket: str
    ) -> tuple[date, date | None]:
        today = self.today
        if frequency == "Annual":
            term = rng.choice((12, 24, 36))
        elif frequency == "Upfront":
            term = rng.choice((6, 12))
        else:
            term = rng.choice((6, 12, 24, 36, 36, 48))
        open_ended = frequency != "Upfront" and rng.random() < 0.4
        if status == "Active" and bucket == "open" and frequency != "Upfront":
            start = self.days_ago(rng, 120, 1500)
            return (start.replace(day=1) if rng.random() < 0.65 else start), None
        if status == "Active":
            lo, hi = {
                "soon30": (1, 30),
                "soon90": (31, 90),
                "soon180": (91, 180),
                "past": (-150, -3),
            }.get(bucket, (181, 720))
            end = today + timedelta(days=rng.randint(lo, hi))
            if rng.random() < 0.7 and lo <= (_month_end(end) - today).days <= hi:
                end = _month_end(end)
            while (start := _add_months(end + timedelta(days=1), -term)) > today - timedelta(20):
                term += 12
            return start, end
        if status == "Ended":
            end = self.days_ago(rng, 15, 420)
            if rng.random() < 0.7 and _month_end(end) < today:
                end = _month_end(end)
            return _add_months(end + timedelta(days=1), -term), end
        if status == "Draft":
            start = _add_months(self.this_month, rng.randint(1, 3))
        else:  # Cancelled: before or after its start
            start = today + timedelta(days=rng.randint(-240, 60))
        if rng.random() < 0.3:
            start = start.replace(day=rng.choice((10, 15)))
        if open_ended:
            return start, None
        return start, _add_months(start, term) - timedelta(days=1)

    def contract_records(self) -> list[Record]:
        rng = self._rng("contract-records")
        bill_to = self._rng("bill-to")
        records = []
        for c in self.contracts:
            fields: Fields = {
                _C["name"]: c.name,
                _C["community"]: c.community.name,
                _C["status"]: c.status,
                _C["service_type"]: c.service_type,
            }
            _put(fields, "Start Date", _iso(c.start))
            _put(fields, "End Date", _iso(c.end))
            if not c.omit_frequency:
                fields[_C["billing_frequency"]] = c.frequency
            if c.fee_error:
                fields[_C["monthly_fee"]] = {"error": "#ERROR!"}
            elif c.fee is not None:
                fields[_C["monthly_fee"]] = _money(c.fee, c.currency)
            if c.amount is not None:
                fields[_C["amount"]] = _money(c.amount, c.currency)
            if not c.omit_currency:
                fields[_C["currency"]] = c.currency
            if c.css is not None:
                fields[_C["css_pct"]] = float(c.css)
            _put(fields, "Payment Terms", c.payment_terms)
            fields[_C["billing_email"]] = f"{rng.choice(_BILLING_LOCALS)}@{c.community.domain}"
            if c.opportunity_id is not None:
                fields[_C["opportunity_ids"]] = [c.opportunity_id]
            fields.update(bill_to_fields(bill_to, c))
            created = c.created
            if created is None:  # legacy contract, imported when the base was set up
                created = self.clamp((c.start or self.today) - timedelta(days=rng.randint(5, 40)))
            records.append(
                {"id": c.record_id, "createdTime": self.stamp(rng, created), "fields": fields}
            )
        return records

    # opportunities

    def build_opportunities(self) -> None:
        rng = self._rng("opportunities")
        won_with_contract = self._won_for_contracts(rng)
        special = self._cad_opportunity(rng)
        wanted = self.sizes.opportunities or _OPPORTUNITIES_PER_SCALE * self.scale
        n_rest = max(0, wanted - len(won_with_contract) - 1)
        stages = _allocate(
            rng,
            n_rest,
            [
                ("Lead", 0.17),
                ("Qualified", 0.14),
                ("Proposal", 0.14),
                ("Contract Admin", 0.08),
                ("Closed—won", 0.12),
                ("Closed—lost", 0.35),
            ],
        )
        pool = [c for c in self.communities if c.currency != "JPY"]
        rest = [self._opportunity(rng, rng.choice(pool), stage) for stage in stages]
        self.opportunities = [*won_with_contract, special, *rest]

    def _won_for_contracts(self, rng: random.Random) -> list[Record]:
        """A Closed—won Services opportunity behind each contract signed in the last 3 years."""
        records = []
        for c in self.contracts:
            anchor = c.start or self.today - timedelta(days=45)
            close = anchor - timedelta(days=rng.randint(7, 60))
            close = min(close, self.days_ago(rng, 1, 20))
            if close < self.window_start:
                continue  # signed before the pipeline was kept in AirTable
            created = max(close - timedelta(days=rng.randint(20, 150)), self.window_start)
            value = c.amount if c.amount is not None else (c.fee * 12 if c.fee else None)
            fields: Fields = {
                _O["name"]: rng.choice(_SERVICE_NAMES).format(
                    org=c.community.name, year=anchor.year
                ),
                _O["organization"]: c.community.name,
                _O["stage"]: "Closed—won",
                _O["currency"]: c.currency,
                _O["expected_close"]: close.isoformat(),
                _O["category"]: "Services",
                _O["owner"]: self.owner(rng),
                _O["last_activity"]: min(
                    close + timedelta(days=rng.randint(0, 14)), self.today - timedelta(days=1)
                ).isoformat(),
            }
            if value is not None:
                fields[_O["value"]] = _money(value, c.currency)
            if rng.random() < 0.8:
                fields[_O["probability_rating"]] = 5
            _put(fields, "Target Start Date", _iso(c.start))
            _put(fields, "Target End Date", _iso(c.end))
            record: Record = {
                "id": self.new_id(),
                "createdTime": self.stamp(rng, created),
                "fields": fields,
            }
            c.opportunity_id = record["id"]
            c.created = min(
                close + timedelta(days=rng.randint(1, 10)), self.today - timedelta(days=1)
            )
            records.append(record)
        return records

    def _cad_opportunity(self, rng: random.Random) -> Record:
        """The one opportunity quoted in CAD."""
        toronto = self.by_name["University of Toronto – Statistical Sciences"]
        record = self._opportunity(rng, toronto, "Proposal", category="Services")
        record["fields"][_O["currency"]] = "CAD"
        record["fields"][_O["value"]] = 42000
        return record

    def _opportunity(
        self, rng: random.Random, org: _Community, stage: str, category: str | None = None
    ) -> Record:
        today = self.today
        if category is None:
            category = (
                "Giving" if rng.random() < (0.6 if stage == "Closed—won" else 0.12) else "Services"
            )
        fields: Fields = {
            _O["organization"]: org.name,
            _O["stage"]: stage,
            _O["category"]: category,
            _O["currency"]: org.currency,
        }
        if stage in ("Closed—won", "Closed—lost"):
            created = self.days_ago(rng, 40, 3 * 365 - 1)
            close = min(created + timedelta(days=rng.randint(10, 200)), today - timedelta(days=1))
            last_activity = close
            probability = (
                rng.choice((5, 5, None)) if stage == "Closed—won" else rng.choice((1, 1, 2, None))
            )
        else:
            age = {"Lead": (5, 200), "Qualified": (15, 300), "Proposal": (25, 360)}.get(
                stage, (30, 400)
            )
            created = self.days_ago(rng, *age)
            if rng.random() < 0.15:  # overdue: expected to close already
                close = max(self.days_ago(rng, 3, 120), created + timedelta(days=14))
            else:
                close = today + timedelta(days=rng.randint(7, 365))
            if rng.random() < 0.3:  # stale: no activity for more than 30 days
                last_activity = max(self.days_ago(rng, 31, 150), created)
            else:
                last_activity = max(self.days_ago(rng, 1, 29), created)
            low, high = {"Lead": (1, 2), "Qualified": (2, 3), "Proposal": (2, 4)}.get(stage, (4, 5))
            probability = rng.randint(low, high) if rng.random() < 0.8 else None
        names = _GIVING_NAMES if category == "Giving" else _SERVICE_NAMES
        fields[_O["name"]] = rng.choice(names).format(org=org.name, year=close.year)
        fields[_O["expected_close"]] = close.isoformat()
        fields[_O["last_activity"]] = last_activity.isoformat()
        _put(fields, "Probability Success", probability)
        if rng.random() < 0.95:  # a few deals have no value yet
            if category == "Giving":
                value = Decimal(rng.choice(_GIFTS))
            else:
                value = Decimal(rng.choice(_FEES[org.currency])) * rng.choice((6, 12, 12, 24))
            fields[_O["value"]] = _money(value, org.currency)
        if category == "Services" and not (stage == "Lead" and rng.random() < 0.4):
            target_start = close + timedelta(days=rng.randint(14, 75))
            target_start = target_start.replace(day=1) if rng.random() < 0.6 else target_start
            fields[_O["target_start"]] = target_start.isoformat()
            fields[_O["target_end"]] = (
                _add_months(target_start, rng.choice((12, 12, 24))) - timedelta(days=1)
            ).isoformat()
        if stage == "Closed—lost" and rng.random() < 0.85:
            fields[_O["lost_reason"]] = rng.choice(_LOST_REASONS)
        if not (stage == "Lead" and rng.random() < 0.1):  # some leads are not assigned yet
            fields[_O["owner"]] = self.owner(rng)
        return {"id": self.new_id(), "createdTime": self.stamp(rng, created), "fields": fields}

    # qualifications

    def build_qualifications(self) -> None:
        rng = self._rng("qualifications")
        latest_created = self.today - timedelta(days=20)
        candidates = [
            o
            for o in self.opportunities
            if o["fields"].get("Stage") in ("Lead", "Qualified", "Proposal")
            and "Opportunity Name" in o["fields"]
            and date.fromisoformat(o["createdTime"][:10]) <= latest_created
        ]
        n = min(len(candidates), _QUALIFIED_PER_SCALE * self.scale)
        chosen = rng.sample(candidates, n)
        profiles = ("strong", "mixed", "poor fit", "mixed", "strong", "mixed")
        for i, opportunity in enumerate(chosen):
            created = date.fromisoformat(opportunity["createdTime"][:10])
            assessed = created + timedelta(days=rng.randint(3, (self.today - created).days - 12))
            profile = profiles[i % len(profiles)]
            self.qualifications.append(self._assessment(rng, opportunity, assessed, profile, 1))
            if i % len(profiles) == 1:  # reassessed later, after a good call
                again = assessed + timedelta(days=rng.randint(7, (self.today - assessed).days - 1))
                self.qualifications.append(self._assessment(rng, opportunity, again, "strong", 2))

    def _assessment(
        self, rng: random.Random, opportunity: Record, assessed: date, profile: str, n: int
    ) -> Record:
        if profile == "strong":
            partial = set(rng.sample(CRITERIA, rng.randint(0, 3)))
            answers = {c: "Partial" if c in partial else "Confirmed" for c in CRITERIA}
        elif profile == "mixed":
            unknown = set(rng.sample([c for c in CRITERIA if c != "Application"], 3))
            answers = {
                c: "Unknown"
                if c in unknown
                else rng.choices(
                    ("Confirmed", "Partial", "No")
                    if c != "Application"
                    else ("Confirmed", "Partial", "Partial"),
                    (45, 45, 10),
                )[0]
                for c in CRITERIA
            }
        else:  # poor fit: the use case is not ours
            answers = {
                c: rng.choices(("Confirmed", "Partial", "Unknown", "No"), (30, 30, 30, 10))[0]
                for c in CRITERIA
            }
            answers["Application"] = "No"
        owner = opportunity["fields"].get(_O["owner"]) or self.owner(rng)
        fields: Fields = {
            _Q["assessment_key"]: f"{opportunity['id']}/{assessed.isoformat()}/{n}",
            _Q["opportunity_ids"]: [opportunity["id"]],
            _Q["assessed_by"]: owner["name"],
            _Q["assessed_on"]: assessed.isoformat(),
            _Q["score"]: score(cast("dict[str, Answer]", answers)),
            _Q["recommendation"]: _recommendation(answers),
        }
        for criterion, answer in answers.items():
            fields[_Q[criterion_attr(criterion)]] = answer
            if answer != "Unknown" or rng.random() < 0.5:
                fields[_Q[f"{criterion_attr(criterion)}_notes"]] = rng.choice(
                    _NOTES[criterion][answer]
                )
        return {"id": self.new_id(), "createdTime": self.stamp(rng, assessed), "fields": fields}

    # invoices

    def build_invoices(self) -> None:
        rng = self._rng("invoices")
        first_run = _add_months(self.this_month, -_HISTORY_MONTHS)
        last_run = _add_months(self.this_month, -1)
        drafts: list[_Invoice] = []
        for c in self.contracts:
            if c.status not in ("Active", "Ended") or c.start is None or not c.fee or c.fee <= 0:
                continue
            month = max(first_run, c.start.replace(day=1))
            until = last_run if c.end is None else min(last_run, c.end.replace(day=1))
            while month <= until:
                period = _service_period(c.frequency, c.start, c.end, month)
                if period is not None:
                    drafts.append(self._draft(c, month, period))
                month = _add_months(month, 1)
        drafts += self._extra_invoices(rng)
        drafts += self._archive(drafts)
        drafts.sort(key=lambda d: (d.issue, d.sort_key))
        self._settle(rng, drafts)
        next_number: dict[int, int] = {}
        for draft in drafts:  # gapless per issue year, in issue order
            year = draft.issue.year
            next_number[year] = next_number.get(year, 0) + 1
            draft.fields[_I["number"]] = f"INV-{year}-{next_number[year]:04d}"
            self.invoices.append(
                {
                    "id": self.new_id(),
                    "createdTime": self.stamp(rng, draft.issue, 6, 7),
                    "fields": draft.fields,
                }
            )

    def _archive(self, drafts: list[_Invoice]) -> list[_Invoice]:
        """Older copies of the contracts' invoices, until `sizes.invoices` is reached."""
        target = self.sizes.invoices
        if target is None or len(drafts) >= target:
            return []
        template = [d for d in drafts if "Type" not in d.fields and "Invoice Key" in d.fields]
        archive: list[_Invoice] = []
        shift = 0
        while len(drafts) + len(archive) < target:
            shift -= 24
            for draft in template:
                if len(drafts) + len(archive) >= target:
                    break
                fields = dict(draft.fields)
                for key in ("Period Start", "Period End", "Issue Date", "Due Date"):
                    fields[key] = _add_months(date.fromisoformat(fields[key]), shift).isoformat()
                contract = fields[_I["contract_ids"]][0]
                fields[_I["invoice_key"]] = (
                    f"{contract}/{fields['Period Start']}/{fields['Period End']}"
                )
                archive.append(
                    _Invoice(date.fromisoformat(fields[_I["issue_date"]]), draft.sort_key, fields)
                )
        return archive

    def _draft(self, c: _Contract, month: date, period: tuple[date, date]) -> _Invoice:
        assert c.fee is not None
        due = month + timedelta(days=c.payment_terms or 30)
        fields: Fields = {
            _I["invoice_key"]: f"{c.record_id}/{period[0].isoformat()}/{period[1].isoformat()}",
            _I["contract_ids"]: [c.record_id],
            _I["period_start"]: period[0].isoformat(),
            _I["period_end"]: period[1].isoformat(),
            _I["issue_date"]: month.isoformat(),
            _I["due_date"]: due.isoformat(),
            _I["amount"]: _money(prorated_amount(c.fee, *period, c.currency), c.currency),
            _I["currency"]: c.currency,
        }
        return _Invoice(month, (c.community.name, c.name, c.record_id), fields)

    def _extra_invoices(self, rng: random.Random) -> list[_Invoice]:
        """Three payables (hosting bills; not revenue) and the one with a dangling link."""
        extras = []
        for months_back in (14, 9, 4):
            issue = _add_months(self.this_month, -months_back)
            period_start = _add_months(issue, -1)
            extras.append(
                _Invoice(
                    issue,
                    ("", "", ""),
                    {
                        _I["period_start"]: period_start.isoformat(),
                        _I["period_end"]: _month_end(period_start).isoformat(),
                        _I["issue_date"]: issue.isoformat(),
                        _I["due_date"]: (issue + timedelta(days=30)).isoformat(),
                        _I["amount"]: _money(Decimal(rng.randint(80000, 260000)) / 100, "USD"),
                        _I["currency"]: "USD",
                        _I["type"]: "ACCPAY",
                    },
                )
            )
        # BROKEN 6: the contract this invoice was for has since been deleted from the base
        issue = _add_months(self.this_month, -17)
        gone = self.new_id()
        extras.append(
            _Invoice(
                issue,
                ("Pacific Northwest Data Science Collective", "", gone),
                {
                    _I[
                        "invoice_key"
                    ]: f"{gone}/{issue.isoformat()}/{_month_end(issue).isoformat()}",
                    _I["contract_ids"]: [gone],
                    _I["period_start"]: issue.isoformat(),
                    _I["period_end"]: _month_end(issue).isoformat(),
                    _I["issue_date"]: issue.isoformat(),
                    _I["due_date"]: (issue + timedelta(days=30)).isoformat(),
                    _I["amount"]: 1500,
                    _I["currency"]: "USD",
                    _I["type"]: "ACCREC",
                },
            )
        )
        return extras

    def _settle(self, rng: random.Random, drafts: list[_Invoice]) -> None:
        """Status, Paid Date and Type: old ones paid, recent ones open, slow payers, voids."""
        communities = sorted({d.sort_key[0] for d in drafts if d.sort_key[0] in self.by_name})
        slow = set(rng.sample(communities, max(1, round(len(communities) * 0.04))))
        slow_since = _add_months(self.this_month, -7)
        void_before = _add_months(self.this_month, -3)
        receivable = [
            i for i, d in enumerate(drafts) if "Type" not in d.fields and d.issue <= void_before
        ]
        void = set(rng.sample(receivable, max(2, len(receivable) // 300)))
        for i, draft in enumerate(drafts):
            fields = draft.fields
            if "Type" not in fields and rng.random() < 0.88:
                fields[_I["type"]] = "ACCREC"  # else left out: missing means ACCREC
            if i in void:
                fields[_I["status"]] = "Void"  # the month was waived; its number stays used
                continue
            due = date.fromisoformat(fields[_I["due_date"]])
            paid = due + timedelta(days=rng.randint(-20, 40))
            paid = max(paid, draft.issue + timedelta(days=3))
            if draft.sort_key[0] in slow and draft.issue >= slow_since:
                fields[_I["status"]] = "Authorized"  # overdue: a slow payer
            elif paid < self.today:
                fields[_I["status"]] = "Paid"
                fields[_I["paid_date"]] = paid.isoformat()
            else:
                fields[_I["status"]] = "Authorized"

    # breakage

    def break_records(self) -> None:
        """Six deliberately broken records, the same handful at every scale (module docstring)."""
        # BROKEN 1, 2 and 6 are made with the contracts and invoices (_pinned_contracts,
        # _extra_invoices); the two contracts were never invoiced (no start, no usable fee).
        rng = self._rng("broken")
        assessed = {q["fields"][_Q["opportunity_ids"]][0] for q in self.qualifications}

        def pick(stage: str) -> Record:
            return rng.choice(
                [
                    o
                    for o in self.opportunities
                    if o["fields"][_O["stage"]] == stage
                    and o["fields"].get(_O["currency"]) != "CAD"
                    and _O["value"] in o["fields"]
                    and o["id"] not in assessed
                ]
            )

        # BROKEN 3: the value arrives as a formula special value
        pick("Proposal")["fields"][_O["value"]] = {"specialValue": "NaN"}
        # BROKEN 4: a select option nobody told us about
        pick("Qualified")["fields"][_O["stage"]] = "On hold"
        # BROKEN 5: the primary field left empty (the key is absent)
        del pick("Lead")["fields"][_O["name"]]

    def records(self) -> dict[str, list[Record]]:
        contracts = self.contract_records()

        def by_creation(records: list[Record]) -> list[Record]:
            return sorted(records, key=lambda r: (r["createdTime"], r["id"]))

        return {
            "opportunities": by_creation(self.opportunities),
            "contracts": by_creation(contracts),
            "invoices": self.invoices,  # already in issue (= creation) order
            "qualifications": by_creation(self.qualifications),
            "charges": self.charges,
        }

    def build_charges(self) -> None:
        self.charges = build_charges(
            self._rng("charges"), self.contracts, self.this_month, self.today, self.new_id
        )


def generate(
    scale: int = 1,
    seed: int = 2026,
    today: date = date(2026, 11, 25),
    sizes: Sizes | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Demo records for every table in TABLE_KEYS, in AirTable's list-records shape.

    Same arguments, same output. `scale` multiplies communities, opportunities, contracts and
    invoices; the six broken records stay six. Nothing is dated today or later except plans
    (expected close dates, contract ends, draft contracts' starts). `sizes` sets the number of
    opportunities, contracts or invoices directly (see `Sizes`).
    """
    if scale < 1:
        raise ConfigError("The demo scale must be 1 or more.")
    generator = _Generator(scale, seed, today, sizes)
    generator.build_contracts()
    generator.build_opportunities()
    generator.build_invoices()
    generator.build_qualifications()
    generator.break_records()
    generator.build_charges()
    return generator.records()


def write(records: dict[str, list[dict[str, Any]]], out_dir: Path) -> None:
    """Write `out_dir/<table>.json` as `{"records": [...]}`, byte-stable for the same records."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for key in TABLE_KEYS:
        with (out_dir / f"{key}.json").open("w", encoding="utf-8", newline="\n") as f:
            json.dump({"records": records[key]}, f, indent=1, ensure_ascii=False, sort_keys=True)
            f.write("\n")


def main(argv: list[str] | None = None) -> int:
    """`python -m sales_core.demogen`: generate the demo base and write its JSON files."""
    parser = argparse.ArgumentParser(
        prog="python -m sales_core.demogen",
        description="Generate deterministic demo data in AirTable's list-records shape.",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help="multiply the number of records (default 1: 150 opportunities)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument(
        "--out", type=Path, default=Path("data/demo"), help="output directory (default data/demo)"
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=date(2026, 11, 25),
        help="the date the data is 'as of', YYYY-MM-DD (default 2026-11-25)",
    )
    for table in ("opportunities", "contracts", "invoices"):
        parser.add_argument(
            f"--{table}",
            type=int,
            default=None,
            metavar="N",
            help=f"about N {table} instead of the scale's number (for load tests)",
        )
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be 1 or more")
    sizes = Sizes(args.opportunities, args.contracts, args.invoices)
    records = generate(scale=args.scale, seed=args.seed, today=args.today, sizes=sizes)
    write(records, args.out)
    counts = ", ".join(f"{len(records[key])} {key}" for key in TABLE_KEYS)
    print(
        f"wrote {args.out}: {counts} (scale {args.scale}, seed {args.seed}, "
        f"today {args.today.isoformat()})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
