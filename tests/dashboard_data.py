"""A small hand-made base for the dashboards, with figures worked out by hand in the tests.

"Today" is 2026-11-25 (the demo data's day). Written as demo files in AirTable's shape and
loaded through the real sync, so the metrics read exactly what a sync stores.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

TODAY = date(2026, 11, 25)
INJECTION_NAME = '=HYPERLINK("http://evil.example","Zeta")'

AMARA = {"id": "usrAmara", "email": "amara@example.org", "name": "Amara Okafor"}
JONAS = {"id": "usrJonas", "email": "jonas@example.org", "name": "Jonas Weber"}


def _record(record_id: str, created: str, **fields: Any) -> dict[str, Any]:
    return {"id": record_id, "createdTime": f"{created}T10:00:00.000Z", "fields": fields}


def _opportunity(record_id: str, created: str, **fields: Any) -> dict[str, Any]:
    return _record(record_id, created, **{k.replace("_", " "): v for k, v in fields.items()})


OPPORTUNITIES = [
    # open, USD: 10000 + 20000 + 3000 (unknown stage) = 33000.00
    # weighted: 10000 × 0.10 (Lead default) + 20000 × 3/5 + nothing for "On hold" = 13000.00
    _opportunity(
        "recOppAlpha",
        "2026-10-01",
        Opportunity_Name="Alpha hub",
        Organization="Alpha U",
        Stage="Lead",
        Opportunity_Value=10000,
        Currency="USD",
        Category="Services",
        Owner=AMARA,
        Expected_Close_Date="2026-12-15",
        Last_Activity="2026-11-20",
    ),
    _opportunity(
        "recOppBeta",
        "2026-06-01",
        Opportunity_Name="Beta hub",
        Organization="Beta College",
        Stage="Proposal",
        Opportunity_Value=20000,
        Currency="USD",
        Probability_Success=3,
        Category="Services",
        Owner=JONAS,
        Expected_Close_Date="2027-01-10",
        Last_Activity="2026-09-01",  # 85 days quiet
    ),
    _opportunity(
        "recOppGamma",
        "2026-07-01",
        Opportunity_Name="Gamma gift",
        Organization="Gamma Trust",
        Stage="Qualified",
        Currency="USD",
        Probability_Success=2,
        Category="Giving",
        Owner=AMARA,
        Expected_Close_Date="2027-02-01",
        Last_Activity="2026-11-01",
    ),  # no value: counted, never summed
    _opportunity(
        "recOppDelta",
        "2026-05-01",
        Opportunity_Name="Delta EUR",
        Organization="Delta Uni",
        Stage="Contract Admin",
        Opportunity_Value=8000,
        Currency="EUR",
        Category="Services",
        Owner=JONAS,
        Expected_Close_Date="2026-12-01",
        Last_Activity="2026-10-20",
    ),  # weighted 8000 × 0.80 = 6400.00 EUR
    _opportunity(
        "recOppEta",
        "2026-08-01",
        Opportunity_Name="Eta on hold",
        Organization="Eta Lab",
        Stage="On hold",
        Opportunity_Value=3000,
        Currency="USD",
        Category="Services",
        Owner=AMARA,
        Expected_Close_Date="2027-03-01",
        Last_Activity="2026-11-10",
    ),
    # closed in the trailing 12 months: one won (90 days), one lost (70 days)
    _opportunity(
        "recOppEpsilon",
        "2026-03-03",
        Opportunity_Name="Epsilon won",
        Organization="Eps Inst",
        Stage="Closed—won",
        Opportunity_Value=5000,
        Currency="USD",
        Probability_Success=5,
        Category="Services",
        Owner=AMARA,
        Expected_Close_Date="2026-06-01",
        Last_Activity="2026-06-01",
    ),
    _opportunity(
        "recOppZeta",
        "2026-05-23",
        Opportunity_Name=INJECTION_NAME,
        Organization="Zeta Org",
        Stage="Closed—lost",
        Opportunity_Value=7000,
        Currency="USD",
        Category="Services",
        Owner=JONAS,
        Expected_Close_Date="2026-08-01",
        Last_Activity="2026-08-01",
    ),
    # GBP, no expected close date yet: in every view until someone narrows the dates
    _opportunity(
        "recOppIota",
        "2026-11-02",
        Opportunity_Name="Iota hub",
        Organization="Iota Uni",
        Stage="Lead",
        Opportunity_Value=1000,
        Currency="GBP",
        Category="Services",
        Owner=AMARA,
        Last_Activity="2026-11-24",
    ),
    # closed before the 12 months
    _opportunity(
        "recOppTheta",
        "2025-01-10",
        Opportunity_Name="Theta old win",
        Organization="Theta",
        Stage="Closed—won",
        Opportunity_Value=12000,
        Currency="USD",
        Category="Giving",
        Owner=AMARA,
        Expected_Close_Date="2025-06-01",
        Last_Activity="2025-06-01",
    ),
]


def _contract(record_id: str, **fields: Any) -> dict[str, Any]:
    return _record(record_id, "2024-01-01", **{k.replace("_", " "): v for k, v in fields.items()})


CONTRACTS = [
    # starts mid-month: November's MRR 1000 × 15/30 = 500.00, in force today
    _contract(
        "recConPangeo",
        Contract_Name="Pangeo hub",
        Community="Pangeo",
        Status="Active",
        Start_Date="2026-11-16",
        Monthly_Fee=1000,
        Currency="USD",
        **{"CSS %": 0.15},
    ),
    # ends on 20 December (25 days): December's MRR 2000 × 20/31 = 1290.32
    _contract(
        "recConCryo",
        Contract_Name="CryoCloud hub",
        Community="CryoCloud",
        Status="Active",
        Start_Date="2025-01-01",
        End_Date="2026-12-20",
        Monthly_Fee=2000,
        Currency="USD",
        **{"CSS %": 0.10},
    ),
    _contract(
        "recConGoettingen",
        Contract_Name="Göttingen hub",
        Community="Göttingen",
        Status="Active",
        Start_Date="2026-01-01",
        Monthly_Fee=1500,
        Currency="EUR",
        **{"CSS %": 0.12},
    ),
    # past its End Date but still Active
    _contract(
        "recConOpenscapes",
        Contract_Name="Openscapes hub",
        Community="Openscapes",
        Status="Active",
        Start_Date="2024-01-01",
        End_Date="2026-10-31",
        Monthly_Fee=500,
        Currency="USD",
        **{"CSS %": 0.15},
    ),
    # the only JPY contract
    _contract(
        "recConKyoto",
        Contract_Name="Kyoto hub",
        Community="Kyoto",
        Status="Active",
        Start_Date="2026-04-11",
        Monthly_Fee=99999,
        Currency="JPY",
        **{"CSS %": 0.1},
    ),
    _contract(
        "recConDraft",
        Contract_Name="Draft hub",
        Community="Drafty",
        Status="Draft",
        Start_Date="2027-01-01",
        Monthly_Fee=3000,
        Currency="USD",
    ),
    _contract(
        "recConEnded",
        Contract_Name="Ended hub",
        Community="Ended Co",
        Status="Ended",
        Start_Date="2025-01-01",
        End_Date="2026-03-31",
        Monthly_Fee=800,
        Currency="USD",
    ),
    # ends 15 February 2027: 82 days, in the 31–90 bucket
    _contract(
        "recConCarpentries",
        Contract_Name="Carpentries hub",
        Community="Carpentries",
        Status="Active",
        Start_Date="2025-06-01",
        End_Date="2027-02-15",
        Monthly_Fee=700,
        Currency="USD",
        **{"CSS %": 0.15},
    ),
]


def _invoice(
    record_id: str,
    number: str,
    contract: str,
    issue: str,
    due: str,
    amount: float,
    status: str = "Authorized",
    currency: str = "USD",
    **extra: Any,
) -> dict[str, Any]:
    fields = {
        "Invoice Number": number,
        "Contract": [contract],
        "Issue Date": issue,
        "Due Date": due,
        "Amount": amount,
        "Currency": currency,
        "Status": status,
        "Type": "ACCREC",
    }
    fields.update({k.replace("_", " "): v for k, v in extra.items()})
    return _record(record_id, issue, **fields)


INVOICES = [
    # outstanding USD, on the aging boundaries (days past due on 2026-11-25)
    _invoice("recInv1", "INV-2026-0001", "recConCryo", "2026-11-01", "2026-11-25", 100),  # 0
    _invoice("recInv2", "INV-2026-0002", "recConCryo", "2026-09-26", "2026-10-26", 200),  # 30
    _invoice("recInv3", "INV-2026-0003", "recConCryo", "2026-09-25", "2026-10-25", 300),  # 31
    _invoice("recInv4", "INV-2026-0004", "recConCarpentries", "2026-08-27", "2026-09-26", 400),
    _invoice("recInv5", "INV-2026-0005", "recConCarpentries", "2026-08-26", "2026-09-25", 500),
    _invoice("recInv6", "INV-2026-0006", "recConCarpentries", "2026-07-28", "2026-08-27", 600),
    _invoice("recInv7", "INV-2026-0007", "recConCarpentries", "2026-07-27", "2026-08-26", 700),
    # paid in October
    _invoice(
        "recInv8",
        "INV-2026-0008",
        "recConCryo",
        "2026-10-01",
        "2026-10-31",
        1000,
        status="Paid",
        Paid_Date="2026-10-20",
    ),
    # never counted: void, and a payable
    _invoice(
        "recInv9", "INV-2026-0009", "recConPangeo", "2026-11-01", "2026-12-01", 5000, status="Void"
    ),
    _invoice(
        "recInv10", "INV-2026-0010", "recConPangeo", "2026-11-01", "2026-12-01", 9999, Type="ACCPAY"
    ),
    # EUR, current
    _invoice(
        "recInv11",
        "INV-2026-0011",
        "recConGoettingen",
        "2026-11-01",
        "2026-12-01",
        1500,
        currency="EUR",
    ),
]


def write_base(directory: Path) -> Path:
    """Write the base as demo files into `directory`; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "opportunities": OPPORTUNITIES,
        "contracts": CONTRACTS,
        "invoices": INVOICES,
        "qualifications": [
            _record(
                "recQual1",
                "2026-10-05",
                **{
                    "Assessment Key": "recOppAlpha/2026-10-05/1",
                    "Opportunity": ["recOppAlpha"],
                    "Assessed By": "Amara Okafor",
                    "Assessed On": "2026-10-05",
                    "Score": 11,
                    "Recommendation": "Pursue",
                    **{c: "Confirmed" for c in ("Money", "Authority", "Need", "Application")},
                    **{c: "Partial" for c in ("Impending Event", "Competition", "Timeline")},
                },
            )
        ],
    }
    for name, records in tables.items():
        (directory / f"{name}.json").write_text(json.dumps({"records": records}), "utf-8")
    return directory
