"""Write the realistic CRM exports in this folder (deterministic: same files on every run).

    python tests/data/exports/make_exports.py

One folder per CRM, three files each (deals/opportunities, companies/accounts/organizations,
contacts/persons), 50+ rows, with each CRM's documented headers, id columns, owner, amount,
probability and date formats, extra columns bulkio ignores, and a few realistic blemishes whose rows
must fail (listed in BLEMISHES; tests/test_profiles.py asserts exactly those). Phones carry a
country code. Owners are the demo org's members (by name or email) plus one who left the company.
Sources of the headers: the profile files in bulkio/profiles/ cite them.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROWS = 56
OWNERS = ["Ava Admin", "Ben Seller", "Cleo Closer"]
OWNER_EMAILS = ["ava@demo.lightfield.test", "ben@demo.lightfield.test", "cleo@demo.lightfield.test"]
GONE = "Dan Departed"  # an owner who is not a member: reported, grouped

WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Gringotts",
    "Oscorp",
    "Aperture",
    "Massive",
    "Dunder",
    "Pied",
    "Monarch",
    "Nakatomi",
    "Virtucon",
    "Sirius",
    "Zorg",
    "Buy n Large",
    "Duff",
    "Krusty",
    "Sterling",
    "Ollivander",
]
SUFFIXES = ["Corp", "Inc", "GmbH", "Ltd", "Labs", "Systems", "Group", "AG", "LLC", "Partners"]
FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Elif",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kim",
    "Lena",
    "Marco",
    "Nora",
    "Omar",
    "Paula",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Yara",
]
LAST = [
    "Lima",
    "Schmidt",
    "Dubois",
    "Okafor",
    "Yilmaz",
    "Haddad",
    "Berg",
    "Martin",
    "Silva",
    "Novak",
    "Park",
    "Fischer",
    "Rossi",
    "Lindqvist",
    "Nasser",
    "Costa",
    "Murphy",
    "Garcia",
    "Larsen",
    "Singh",
]
CITIES = [
    ("Berlin", "BE", "10115", "Germany", "+49 30 901820"),
    ("Austin", "TX", "78701", "United States", "+1 512 555 01"),
    ("London", "", "EC1A 1BB", "United Kingdom", "+44 20 7946 09"),
    ("Paris", "", "75001", "France", "+33 1 42 68 53"),
    ("Toronto", "ON", "M5H 2N2", "Canada", "+1 416 555 01"),
]

#: The rows each file must fail, as (row, code): tests assert exactly these.
BLEMISHES: dict[str, list[tuple[int, str]]] = {}


def companies(rng: random.Random, tag: str) -> list[str]:
    names: list[str] = []
    for w in WORDS:
        for s in SUFFIXES:
            names.append(f"{w} {s}")
    rng.shuffle(names)
    return [f"{n} {tag}" if i % 7 == 0 else n for i, n in enumerate(names[:ROWS])]


def person(rng: random.Random, i: int) -> tuple[str, str]:
    return FIRST[i % len(FIRST)], LAST[(i * 7 + rng.randrange(3)) % len(LAST)]


def phone(rng: random.Random, base: str) -> str:
    return f"{base}{rng.randrange(10, 99)}"


def write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def day(rng: random.Random) -> date:
    return date(2026, 1, 1) + timedelta(days=rng.randrange(0, 365))


# --- HubSpot ---------------------------------------------------------------------------------------


def hubspot(rng: random.Random) -> None:
    names = companies(rng, "(HS)")
    industries = [
        "Computer Software",
        "Financial Services",
        "Hospital & Health Care",
        "Retail",
        "Logistics and Supply Chain",
        "Education Management",
        "Online Media",
    ]
    rows = []
    for i, name in enumerate(names):
        city, state, zipc, country, ph = CITIES[i % len(CITIES)]
        industry = industries[i % len(industries)]
        if i in (9, 30):
            industry = "Venture Capital & Private Equity"  # no such industry in the demo org
        rows.append(
            [
                str(9_100_000_000 + i * 37),
                name,
                name.split()[0].lower() + f"{i}.com",
                industry,
                rng.choice([12, 45, 180, 950, 4200]),
                f"{rng.randrange(1, 90) * 100000}",
                phone(rng, ph),
                f"{rng.randrange(1, 200)} Main Street",
                city,
                state,
                zipc,
                country,
                OWNERS[i % 3] if i % 4 else OWNER_EMAILS[i % 3],
                f"2025-0{1 + i % 9}-1{i % 9} 09:1{i % 10}",
                rng.choice(["Customer", "Lead", "Opportunity"]),
                "",
            ]
        )
    header = [
        "Record ID",
        "Company name",
        "Company Domain Name",
        "Industry",
        "Number of Employees",
        "Annual Revenue",
        "Phone Number",
        "Street Address",
        "City",
        "State/Region",
        "Postal Code",
        "Country/Region",
        "Company owner",
        "Create Date",
        "Lifecycle Stage",
        "Last Activity Date",
    ]
    write(HERE / "hubspot" / "hubspot-companies.csv", header, rows)
    BLEMISHES["hubspot/hubspot-companies.csv"] = [(11, "unknown_option"), (32, "unknown_option")]
    names = [n for j, n in enumerate(names) if j not in (9, 30)]  # rows that fail are not referenced

    sources = ["Organic Search", "Referrals", "Direct Traffic", "Offline Sources", "Email Marketing"]
    rows = []
    for i in range(ROWS):
        first, last = person(rng, i)
        email = f"{first.lower()}.{last.lower()}{i}@example.com"
        company = names[i % len(names)]
        if i == 14:
            email = "not-an-email@"  # a typo in the CRM
        if i == 40:
            company = "Nowhere Industries"  # a company that was never exported
        rows.append(
            [
                str(5_200_000 + i * 11),
                first,
                last,
                email,
                phone(rng, CITIES[i % 5][4]),
                rng.choice(["CFO", "Head of Sales", "Engineer", "COO"]),
                company,
                company,
                sources[i % len(sources)],
                f"2026-02-{1 + i % 27:02d} 14:3{i % 10}",
                OWNERS[i % 3],
                "Customer",
                "",
            ]
        )
    header = [
        "Record ID",
        "First Name",
        "Last Name",
        "Email",
        "Phone Number",
        "Job Title",
        "Company Name",
        "Associated Company",
        "Original Source",
        "Last Activity Date",
        "Contact owner",
        "Lifecycle Stage",
        "Lead Status",
    ]
    write(HERE / "hubspot" / "hubspot-contacts.csv", header, rows)
    BLEMISHES["hubspot/hubspot-contacts.csv"] = [(16, "invalid_email"), (42, "relationship_entity_missing")]

    stages = [
        "Appointment Scheduled",
        "Qualified To Buy",
        "Presentation Scheduled",
        "Decision Maker Bought-In",
        "Contract Sent",
        "Closed Won",
        "Closed Lost",
    ]
    probs = {
        "Appointment Scheduled": "0.2",
        "Qualified To Buy": "0.4",
        "Presentation Scheduled": "0.6",
        "Decision Maker Bought-In": "0.8",
        "Contract Sent": "0.9",
        "Closed Won": "1",
        "Closed Lost": "0",
    }
    rows = []
    for i in range(ROWS):
        stage = stages[i % len(stages)]
        owner = OWNERS[i % 3]
        close = f"{day(rng).isoformat()} 1{i % 10}:0{i % 6}"
        if i in (5, 23, 41):
            stage = "Demo Completed"  # a custom stage of their pipeline
        if i in (12, 33):
            owner = GONE
        if i == 27:
            close = "next quarter"
        rows.append(
            [
                str(31_000_000_000 + i * 101),
                f"{names[i % len(names)]} - {rng.choice(['Renewal', 'Expansion', 'New'])}",
                "Sales Pipeline",
                stage,
                f"{rng.randrange(5, 500) * 100}.{rng.choice(['00', '50'])}",
                close,
                owner,
                probs.get(stage, "0.5"),
                f"2025-11-{1 + i % 28:02d} 08:00",
                "newbusiness",
                names[i % len(names)],
                "",
            ]
        )
    header = [
        "Record ID",
        "Deal Name",
        "Pipeline",
        "Deal Stage",
        "Amount",
        "Close Date",
        "Deal owner",
        "Deal probability",
        "Create Date",
        "Deal Type",
        "Associated Company",
        "Last Activity Date",
    ]
    write(HERE / "hubspot" / "hubspot-deals.csv", header, rows)
    BLEMISHES["hubspot/hubspot-deals.csv"] = sorted(
        [
            (7, "unknown_option"),
            (25, "unknown_option"),
            (43, "unknown_option"),
            (14, "relationship_entity_missing"),
            (35, "relationship_entity_missing"),
            (29, "invalid_date"),
        ]
    )


# --- Salesforce ------------------------------------------------------------------------------------


def sfid(prefix: str, i: int) -> str:
    # 18 characters like a real one: 3-character key prefix, pod, counter, checksum-like suffix
    return f"{prefix}5g0000{i:05d}QA{chr(65 + i % 26)}{chr(65 + (i * 7) % 26)}"


def us_date(d: date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def salesforce(rng: random.Random) -> None:
    names = companies(rng, "(SF)")
    industries = ["Technology", "Finance", "Healthcare", "Manufacturing", "Retail", "Transportation", "Media"]
    rows = []
    for i, name in enumerate(names):
        city, state, zipc, country, ph = CITIES[(i + 2) % len(CITIES)]
        industry = industries[i % len(industries)]
        if i == 19:
            industry = "Not For Profit"  # a picklist value with no match in the demo org
        rows.append(
            [
                sfid("001", i),
                name,
                f"https://www.{name.split()[0].lower()}{i}.example",
                industry,
                rng.choice([15, 60, 240, 1200]),
                f"{rng.randrange(1, 50) * 250000}",
                phone(rng, ph),
                f"{rng.randrange(1, 99)} Market St",
                city,
                state,
                zipc,
                country,
                OWNERS[i % 3],
                rng.choice(["Customer - Direct", "Prospect"]),
                us_date(day(rng)),
            ]
        )
    header = [
        "Account ID",
        "Account Name",
        "Website",
        "Industry",
        "Employees",
        "Annual Revenue",
        "Phone",
        "Billing Street",
        "Billing City",
        "Billing State/Province",
        "Billing Zip/Postal Code",
        "Billing Country",
        "Account Owner",
        "Type",
        "Created Date",
    ]
    write(HERE / "salesforce" / "salesforce-accounts.csv", header, rows)
    BLEMISHES["salesforce/salesforce-accounts.csv"] = [(21, "unknown_option")]
    names = [n for j, n in enumerate(names) if j != 19]

    sources = ["Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Employee Referral"]
    rows = []
    for i in range(ROWS):
        first, last = person(rng, i + 3)
        rows.append(
            [
                sfid("003", i),
                first,
                last,
                f"{first[0].lower()}{last.lower()}{i}@example.org",
                phone(rng, CITIES[i % 5][4]),
                rng.choice(["VP Finance", "CTO", "Buyer", "Office Manager"]),
                names[i % len(names)],
                sfid("001", i % len(names)),
                sources[i % len(sources)],
                "1" if i % 9 == 0 else "0",
                us_date(day(rng)),
                OWNERS[i % 3],
                us_date(day(rng)),
            ]
        )
    rows[22][8] = "Carrier Pigeon"  # a lead source the demo org does not have
    header = [
        "Contact ID",
        "First Name",
        "Last Name",
        "Email",
        "Phone",
        "Title",
        "Account Name",
        "AccountId",
        "Lead Source",
        "Email Opt Out",
        "Last Activity",
        "Contact Owner",
        "Created Date",
    ]
    write(HERE / "salesforce" / "salesforce-contacts.csv", header, rows)
    BLEMISHES["salesforce/salesforce-contacts.csv"] = [(24, "unknown_option")]

    stages = [
        "Prospecting",
        "Qualification",
        "Needs Analysis",
        "Value Proposition",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "Closed Won",
        "Closed Lost",
    ]
    probs = [10, 20, 20, 50, 75, 90, 100, 0]
    rows = []
    for i in range(ROWS):
        s = i % len(stages)
        amount = f"{rng.randrange(2, 400) * 500:,}.00" if i % 3 else f"USD {rng.randrange(2, 400) * 500:,}.00"
        if i == 17:
            amount = "n/a"
        owner = OWNERS[i % 3] if i != 44 else GONE
        rows.append(
            [
                sfid("006", i),
                f"{names[i % len(names)]} {rng.choice(['Platform', 'Upsell', 'Pilot'])}",
                names[i % len(names)],
                stages[s],
                amount,
                f"{probs[s]}%" if i % 2 else str(probs[s]),
                us_date(day(rng)),
                owner,
                rng.choice(["Web", "Partner Referral", "Trade Show", "Purchased List"]),
                rng.choice(["New Customer", "Existing Customer - Upgrade"]),
                "Send proposal" if i % 4 == 0 else "",
                f"Q{1 + i % 4}-2026",
                us_date(day(rng)),
            ]
        )
    header = [
        "Opportunity ID",
        "Opportunity Name",
        "Account Name",
        "Stage",
        "Amount",
        "Probability (%)",
        "Close Date",
        "Opportunity Owner",
        "Lead Source",
        "Type",
        "Next Step",
        "Fiscal Period",
        "Created Date",
    ]
    write(HERE / "salesforce" / "salesforce-opportunities.csv", header, rows)
    BLEMISHES["salesforce/salesforce-opportunities.csv"] = [
        (19, "invalid_number"),  # "n/a": the amount reader (the profile has no transform for it)
        (46, "relationship_entity_missing"),
    ]


# --- Close -----------------------------------------------------------------------------------------


def close_id(prefix: str, i: int) -> str:
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(chars[(i * 13 + k * 5 + k * k) % len(chars)] for k in range(43))


def close(rng: random.Random) -> None:
    names = companies(rng, "(Close)")
    rows = []
    for i, name in enumerate(names):
        city, state, zipc, country, ph = CITIES[(i + 1) % len(CITIES)]
        first, last = person(rng, i + 5)
        rows.append(
            [
                close_id("lead_", i),
                name,
                name,
                rng.choice(["Potential", "Qualified", "Customer", "Bad Fit"]),
                f"https://{name.split()[0].lower()}{i}.example.com",
                "Imported from trade show" if i % 5 == 0 else "",
                f"{first} {last}",
                "Account Executive",
                f"{first.lower()}@{name.split()[0].lower()}{i}.example.com",
                phone(rng, ph),
                f"{rng.randrange(1, 80)} Harbour Road",
                city,
                state,
                zipc,
                country if i % 2 else {"Germany": "DE", "United States": "US"}.get(country, country),
                f"2025-10-{1 + i % 28:02d} 12:00:00.000000+00:00",
                OWNERS[i % 3],
            ]
        )
    rows[37][16 - 2] = "Atlantis"  # a country that does not exist
    header = [
        "id",
        "display_name",
        "name",
        "status_label",
        "url",
        "description",
        "primary_contact_name",
        "primary_contact_title",
        "primary_contact_primary_email",
        "primary_contact_primary_phone",
        "address_1_address_1",
        "address_1_city",
        "address_1_state",
        "address_1_zipcode",
        "address_1_country",
        "date_created",
        "created_by_name",
    ]
    write(HERE / "close" / "close-leads.csv", header, rows)
    BLEMISHES["close/close-leads.csv"] = [(39, "transform_failed")]
    names = [n for j, n in enumerate(names) if j != 37]

    rows = []
    for i in range(ROWS):
        first, last = person(rng, i + 8)
        lead = names[i % len(names)]
        rows.append(
            [
                close_id("cont_", i),
                close_id("lead_", i % len(names)),
                lead,
                f"{first} {last}",
                rng.choice(["Founder", "Ops Lead", "Procurement"]),
                f"{first.lower()}.{last.lower()}{i}@example.net",
                phone(rng, CITIES[i % 5][4]),
                f"2025-09-{1 + i % 28:02d} 10:00:00.000000+00:00",
            ]
        )
    rows[8][6] = "call me maybe"  # free text in a phone field
    header = [
        "id",
        "lead_id",
        "lead_display_name",
        "name",
        "title",
        "primary_email",
        "primary_phone",
        "date_created",
    ]
    write(HERE / "close" / "close-contacts.csv", header, rows)
    BLEMISHES["close/close-contacts.csv"] = [(10, "invalid_phone")]

    statuses = ["Active", "Active", "Won", "Lost"]
    rows = []
    for i in range(ROWS):
        status = statuses[i % len(statuses)]
        if i in (6, 26):
            status = "Demo Booked"  # a custom status of their pipeline
        value = rng.randrange(10, 900) * 10000  # cents
        conf = {"Won": 100, "Lost": 0}.get(status, rng.choice([25, 50, 75]))
        rows.append(
            [
                close_id("oppo_", i),
                close_id("lead_", i % len(names)),
                names[i % len(names)],
                status,
                {"Won": "won", "Lost": "lost"}.get(status, "active"),
                conf,
                value,
                "one_time",
                "USD",
                f"${value / 100:,.2f}",
                OWNERS[i % 3] if i != 50 else GONE,
                day(rng).isoformat() if i % 6 else "",
                "Annual plan" if i % 3 == 0 else "",
                f"2025-12-{1 + i % 28:02d} 16:20:00.000000+00:00",
            ]
        )
    header = [
        "id",
        "lead_id",
        "lead_name",
        "status_label",
        "status_type",
        "confidence",
        "value",
        "value_period",
        "value_currency",
        "value_formatted",
        "user_name",
        "date_won",
        "note",
        "date_created",
    ]
    write(HERE / "close" / "close-opportunities.csv", header, rows)
    BLEMISHES["close/close-opportunities.csv"] = [
        (8, "unknown_option"),
        (28, "unknown_option"),
        (52, "relationship_entity_missing"),
    ]


# --- Pipedrive -------------------------------------------------------------------------------------


def pipedrive(rng: random.Random) -> None:
    names = companies(rng, "(PD)")
    rows = []
    for i, name in enumerate(names):
        city, state, zipc, country, _ph = CITIES[(i + 3) % len(CITIES)]
        rows.append(
            [
                str(100 + i),
                name,
                OWNERS[i % 3],
                f"{rng.randrange(1, 60)} Rue Example, {city}",
                "Rue Example" if i % 2 else "Hauptstraße",
                str(rng.randrange(1, 120)),
                city,
                state,
                zipc,
                country,
                rng.choice(["Customer", "Hot lead", ""]),
                str(rng.randrange(0, 6)),
                f"2025-08-{1 + i % 28:02d} 11:00:00",
                "Entire company",
            ]
        )
    rows[45][2] = GONE
    header = [
        "Organization - ID",
        "Organization - Name",
        "Organization - Owner",
        "Organization - Address",
        "Organization - Address - Street/road name of Address",
        "Organization - Address - House number of Address",
        "Organization - Address - City/town/village/locality of Address",
        "Organization - Address - State/county of Address",
        "Organization - Address - ZIP/Postal code of Address",
        "Organization - Address - Country of Address",
        "Organization - Labels",
        "Organization - People",
        "Organization - Creation date",
        "Organization - Visible to",
    ]
    write(HERE / "pipedrive" / "pipedrive-organizations.csv", header, rows)
    BLEMISHES["pipedrive/pipedrive-organizations.csv"] = [(47, "relationship_entity_missing")]
    names = [n for j, n in enumerate(names) if j != 45]

    rows = []
    for i in range(ROWS):
        first, last = person(rng, i + 11)
        rows.append(
            [
                str(2000 + i),
                f"{first} {last}",
                first,
                last,
                names[i % len(names)],
                f"{first.lower()}{i}@{names[i % len(names)].split()[0].lower()}.example",
                "" if i % 4 else f"{first.lower()}.home{i}@example.com",
                phone(rng, CITIES[i % 5][4]),
                OWNERS[i % 3],
                rng.choice(["Customer", "Lead", ""]),
                f"2025-07-{1 + i % 28:02d} 09:00:00",
            ]
        )
    rows[51][5] = "someone at example dot com"
    header = [
        "Person - ID",
        "Person - Name",
        "Person - First name",
        "Person - Last name",
        "Person - Organization",
        "Person - Email - Work",
        "Person - Email - Home",
        "Person - Phone - Work",
        "Person - Owner",
        "Person - Label",
        "Person - Creation date",
    ]
    write(HERE / "pipedrive" / "pipedrive-persons.csv", header, rows)
    BLEMISHES["pipedrive/pipedrive-persons.csv"] = [(53, "invalid_email")]

    stages = ["Lead In", "Contact Made", "Demo Scheduled", "Proposal Made", "Negotiations Started"]
    rows = []
    for i in range(ROWS):
        stage = stages[i % len(stages)]
        status = rng.choice(["Open", "Open", "Won", "Lost"])
        if i in (3, 29):
            stage = "Waiting for budget"  # a stage of their own pipeline (open: won/lost deals take Deal - Status)
            status = "Open"
        rows.append(
            [
                str(7000 + i),
                f"{names[i % len(names)]} deal",
                f"{rng.randrange(3, 300) * 100}",
                "USD",
                stage,
                OWNERS[i % 3],
                names[i % len(names)],
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                day(rng).isoformat(),
                "" if i % 3 else str(rng.choice([30, 60, 90])),
                status,
                "" if status != "Lost" else "Price",
                f"2025-06-{1 + i % 28:02d} 10:00:00",
            ]
        )
    header = [
        "Deal - ID",
        "Deal - Title",
        "Deal - Value",
        "Deal - Currency of value",
        "Deal - Stage",
        "Deal - Owner",
        "Deal - Organization",
        "Deal - Contact person",
        "Deal - Expected close date",
        "Deal - Probability",
        "Deal - Status",
        "Deal - Lost reason",
        "Deal - Deal created",
    ]
    write(HERE / "pipedrive" / "pipedrive-deals.csv", header, rows)
    BLEMISHES["pipedrive/pipedrive-deals.csv"] = [(5, "unknown_option"), (31, "unknown_option")]


def main() -> None:
    hubspot(random.Random(9001))
    salesforce(random.Random(9002))
    close(random.Random(9003))
    pipedrive(random.Random(9004))
    lines = ["# rows each export must fail (written by make_exports.py; asserted by tests/test_profiles.py)"]
    for name, rows in sorted(BLEMISHES.items()):
        lines.append(f"{name}: " + ", ".join(f"{r} {c}" for r, c in sorted(rows)))
    (HERE / "BLEMISHES.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
