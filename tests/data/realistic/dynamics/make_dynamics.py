"""Writes the Dynamics 365 "Export to Excel" fixtures of this folder (run it here to rebuild them).

What Export to Excel writes: one sheet named after the view, its first three columns hidden
((Do Not Modify) <Entity> = the record's GUID, (Do Not Modify) Row Checksum, (Do Not Modify) Modified On),
typed cells (dates, currency amounts), and a hidden sheet "hiddenSheet" with the entity's metadata.
People and companies are made up."""

from __future__ import annotations

from datetime import datetime

from openpyxl import Workbook

HIDDEN = ("(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On")


def book(path: str, view: str, entity: str, headers: list[str], rows: list[list[object]]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = view
    ws.append(headers)
    for r in rows:
        ws.append(r)
    for letter in "ABC":
        ws.column_dimensions[letter].hidden = True
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "m/d/yyyy h:mm AM/PM" if cell.column == 3 else "m/d/yyyy"
            elif isinstance(cell.value, float):
                cell.number_format = '"$"#,##0.00'
    meta = wb.create_sheet("hiddenSheet")
    meta.sheet_state = "hidden"
    meta.append(
        [
            entity,
            "ZRq5/ec8eRoMRnJrCcOO3hY9YQm2d7gqZKSPwbl4kNHxcDdB7p5VJ0lnZ1xlM3D8sYl6T9b1GkYt1Ue9wfQzw==:"
            + entity
            + "id",
        ]
    )
    wb.save(path)


def checksum(n: int) -> str:
    return f"q{n}Xy0Lr7ZbVh2kN4fG8sT1uW6eA3cD9mP5oJ/KiHnRt0lQ+zB=="


book(
    "My Active Accounts 12-4-2026 10-15-08 AM.xlsx",
    "My Active Accounts",
    "account",
    [
        "(Do Not Modify) Account",
        *HIDDEN,
        "Account Name",
        "Main Phone",
        "Address 1: Street 1",
        "Address 1: City",
        "Address 1: ZIP/Postal Code",
        "Address 1: Country/Region",
        "Website",
        "Number of Employees",
        "Annual Revenue",
        "Industry",
        "Relationship Type",
        "Owner",
    ],
    [
        [
            "5f2c7a10-3b1e-ef11-9f89-000d3a5c4e21",
            checksum(1),
            datetime(2026, 11, 28, 14, 5, 11),
            "Harbour & Finch Ltd",
            "020 7946 0321",
            "14 Wharf Road",
            "London",
            "N1 7GR",
            "United Kingdom",
            "harbourfinch.example",
            48,
            3200000.0,
            "Business Services",
            "Customer",
            "Ava Admin",
        ],
        [
            "7a91d3c4-3b1e-ef11-9f89-000d3a5c4e21",
            checksum(2),
            datetime(2026, 11, 30, 9, 41, 0),
            "Vaalbank Logistiek B.V.",
            "+31 20 794 6032",
            "Havenstraat 3",
            "Amsterdam",
            "1013 AB",
            "Netherlands",
            "https://vaalbank.example",
            120,
            None,
            "Transportation",
            "Prospect",
            "Ben Seller",
        ],
        [
            "0b7e55f2-3c1e-ef11-9f89-000d3a5c4e21",
            checksum(3),
            datetime(2026, 12, 1, 16, 20, 45),
            "Corvina Software S.r.l.",
            "+39 02 1234 5678",
            "Via Torino 21",
            "Milano",
            "20123",
            "Italy",
            "corvina.example",
            35,
            None,
            "Consulting",
            "Customer",
            "Ben Seller",
        ],
    ],
)
book(
    "My Active Contacts 12-4-2026 10-16-40 AM.xlsx",
    "My Active Contacts",
    "contact",
    [
        "(Do Not Modify) Contact",
        *HIDDEN,
        " Full Name",
        "Company Name",
        "Job Title",
        "Email",
        "Business Phone",
        "Mobile Phone",
        "Address 1: City",
        "Address 1: Country/Region",
    ],
    [
        [
            "c41f0e9a-3d1e-ef11-9f89-000d3a5c4e21",
            checksum(4),
            datetime(2026, 11, 28, 14, 9, 2),
            "Imogen Hartley",
            "Harbour & Finch Ltd",
            "Finance Director",
            "imogen.hartley@harbourfinch.example",
            "020 7946 0388",
            "07911 123456",
            "London",
            "United Kingdom",
        ],
        [
            "d8a2b6e1-3d1e-ef11-9f89-000d3a5c4e21",
            checksum(5),
            datetime(2026, 11, 30, 9, 50, 13),
            "Daan de Vries",
            "Vaalbank Logistiek B.V.",
            "Inkoper",
            "d.devries@vaalbank.example",
            "020 794 6033",
            "06 12345678",
            "Amsterdam",
            "Netherlands",
        ],
        [
            "e19c7d33-3e1e-ef11-9f89-000d3a5c4e21",
            checksum(6),
            datetime(2026, 12, 1, 16, 25, 30),
            "Chiara Bellini",
            "Corvina Software S.r.l.",
            "CTO",
            "chiara.bellini@corvina.example",
            None,
            "+39 347 123 4567",
            "Milano",
            "Italy",
        ],
    ],
)
book(
    "My Open Opportunities 12-4-2026 10-18-02 AM.xlsx",
    "My Open Opportunities",
    "opportunity",
    [
        "(Do Not Modify) Opportunity",
        *HIDDEN,
        "Topic",
        "Potential Customer",
        "Status",
        "Status Reason",
        "Sales Stage",
        "Pipeline Phase",
        "Probability",
        "Est. Revenue",
        "Est. Close Date",
        "Owner",
    ],
    [
        [
            "91b04f7e-401e-ef11-9f89-000d3a5c4e21",
            checksum(7),
            datetime(2026, 12, 2, 11, 0, 0),
            "Harbour & Finch - Treasury module",
            "Harbour & Finch Ltd",
            "Open",
            "In Progress",
            "Propose",
            "3-Propose",
            60,
            48000.0,
            datetime(2027, 1, 29),
            "Ava Admin",
        ],
        [
            "a2c35e8f-401e-ef11-9f89-000d3a5c4e21",
            checksum(8),
            datetime(2026, 12, 2, 11, 5, 0),
            "Vaalbank - fleet tracking pilot",
            "Vaalbank Logistiek B.V.",
            "Open",
            "In Progress",
            "Qualify",
            "1-Qualify",
            20,
            12500.0,
            datetime(2027, 3, 31),
            "Ben Seller",
        ],
        [
            "b3d46f90-411e-ef11-9f89-000d3a5c4e21",
            checksum(9),
            datetime(2026, 11, 20, 8, 30, 0),
            "Corvina - reseller agreement",
            "Corvina Software S.r.l.",
            "Won",
            "Purchased",
            "Close",
            "4-Close",
            100,
            30000.0,
            datetime(2026, 11, 20),
            "Ben Seller",
        ],
        [
            "c4e57a01-421e-ef11-9f89-000d3a5c4e21",
            checksum(10),
            datetime(2026, 10, 2, 17, 45, 0),
            "Harbour & Finch - payroll add-on",
            "Harbour & Finch Ltd",
            "Lost",
            "Canceled",
            "Develop",
            "2-Develop",
            0,
            9000.0,
            datetime(2026, 10, 2),
            "Ava Admin",
        ],
    ],
)
