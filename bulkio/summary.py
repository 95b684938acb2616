"""Pipeline aggregates for the Summary sheet of ``bulkio export pipeline``.

In the spirit of Close CRM's opportunity list aggregates (total and expected value of won, lost and
active deals): every group carries a count, the total amount and the *weighted* amount (the
"expected value", amount × probability / 100). An opportunity without a probability adds nothing
to the weighted amount: an unknown chance is not counted as a sure one.

The figures come from a pure function, :func:`summarize_pipeline`, so they can be tested without a
workbook; :func:`write_summary_sheet` only lays them out and adds a bar chart of amount by stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .definitions import ObjectSchema
from .sheets import safe_cell

STATUS_LABELS = {"OPEN": "Open", "WON": "Won", "LOST": "Lost"}
NO_OWNER = "(no owner)"
NO_CLOSE_DATE = "(no close date)"
NO_STAGE = "(no stage)"


@dataclass(slots=True)
class SummaryRow:
    """One group of opportunities: how many, their total amount and their weighted amount."""

    label: str
    count: int = 0
    amount: float = 0.0
    weighted: float = 0.0

    def add(self, amount: float | None, probability: float | None) -> None:
        self.count += 1
        if amount is not None:
            self.amount += amount
            if probability is not None:
                self.weighted += amount * probability / 100.0


@dataclass(slots=True)
class PipelineSummary:
    """Aggregates of a list of opportunities; every list keeps a stable, readable order."""

    currency: str | None
    total: SummaryRow
    by_status: list[SummaryRow] = field(default_factory=list)  # Open, Won, Lost
    by_stage: list[SummaryRow] = field(default_factory=list)  # in the stage options' order
    by_owner: list[SummaryRow] = field(default_factory=list)  # largest amount first
    by_month: list[SummaryRow] = field(default_factory=list)  # yyyy-mm ascending, undated last

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _value(record: dict[str, Any], key: str | None) -> Any:
    if not key:
        return None
    entry = (record.get("fields") or {}).get(key)
    return entry.get("value") if isinstance(entry, dict) else entry


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _month(value: Any) -> str | None:
    """``"2026-03-16T12:00:00Z"`` -> ``"2026-03"`` (in UTC, like every DATETIME bulkio writes)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return value[:7] if len(value) >= 7 else None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m")


def _first_id(record: dict[str, Any], key: str) -> str | None:
    rel = (record.get("relationships") or {}).get(key)
    values = rel.get("values") if isinstance(rel, dict) else None
    return values[0] if values else None


def member_name(member: dict[str, Any]) -> str:
    """``Ava Admin`` (the member's full name), else their email, else the id."""
    fields = member.get("fields") or {}
    name = (fields.get("$name") or {}).get("value")
    if isinstance(name, dict):
        text = " ".join(p for p in (name.get("firstName"), name.get("lastName")) if p)
        if text:
            return text
    elif isinstance(name, str) and name:
        return name
    email = (fields.get("$email") or {}).get("value")
    if isinstance(email, list):
        email = email[0] if email else None
    return str(email or member.get("id") or "")


def _pick_field(schema: ObjectSchema, preferred: str, value_type: str) -> str | None:
    f = schema.fields.get(preferred)
    if f is not None and f.value_type == value_type:
        return preferred
    return next((k for k, f in schema.fields.items() if f.value_type == value_type), None)


def _status(record: dict[str, Any], stage_label: str | None) -> str:
    status = _value(record, "$opportunityStatus")
    if isinstance(status, str) and status.upper() in STATUS_LABELS:
        return status.upper()
    label = (stage_label or "").strip().lower()
    if label == "closed won":
        return "WON"
    if label == "closed lost":
        return "LOST"
    return "OPEN"


def summarize_pipeline(
    opportunities: Iterable[dict[str, Any]], schema: ObjectSchema, members: Iterable[dict[str, Any]]
) -> PipelineSummary:
    """Totals by status, stage, owner and expected close month.

    ``opportunities`` are API records; the amount is the ``amount`` CURRENCY field (else the first
    CURRENCY field), the probability the ``probability`` NUMBER field, the month comes from
    ``closeDate`` (else the first DATETIME field).

    >>> s = summarize_pipeline(records, client.schema("opportunity"), client.members())
    >>> s.total.amount, [(r.label, r.count) for r in s.by_status]
    """
    amount_key = _pick_field(schema, "amount", "CURRENCY")
    prob_key = _pick_field(schema, "probability", "NUMBER")
    date_key = _pick_field(schema, "closeDate", "DATETIME")
    stage_def = schema.fields.get("$stage")
    options = stage_def.options if stage_def is not None else []
    stage_labels = {o.id: o.label for o in options}
    currency = schema.fields[amount_key].type_configuration.currency if amount_key else None
    names = {m.get("id"): member_name(m) for m in members}

    total = SummaryRow("Total")
    status_rows = {k: SummaryRow(v) for k, v in STATUS_LABELS.items()}
    stage_rows = {o.id: SummaryRow(o.label) for o in options}
    owner_rows: dict[str, SummaryRow] = {}
    month_rows: dict[str, SummaryRow] = {}
    for rec in opportunities:
        amount = _number(_value(rec, amount_key))
        prob = _number(_value(rec, prob_key))
        stage = _value(rec, "$stage")
        stage_label = stage_labels.get(stage, stage if isinstance(stage, str) else None)
        total.add(amount, prob)
        status_rows[_status(rec, stage_label)].add(amount, prob)
        stage_key = stage if isinstance(stage, str) and stage else NO_STAGE
        stage_rows.setdefault(stage_key, SummaryRow(stage_label or NO_STAGE)).add(amount, prob)
        owner_id = _first_id(rec, "$owner")
        owner = names.get(owner_id, owner_id) if owner_id else NO_OWNER
        owner_rows.setdefault(owner, SummaryRow(owner)).add(amount, prob)
        month = _month(_value(rec, date_key)) or NO_CLOSE_DATE
        month_rows.setdefault(month, SummaryRow(month)).add(amount, prob)

    by_owner = sorted(owner_rows.values(), key=lambda r: (r.label == NO_OWNER, -r.amount, r.label))
    by_month = sorted(month_rows.values(), key=lambda r: (r.label == NO_CLOSE_DATE, r.label))
    return PipelineSummary(
        currency=currency,
        total=total,
        by_status=list(status_rows.values()),
        by_stage=list(stage_rows.values()),
        by_owner=by_owner,
        by_month=by_month,
    )


# --- the sheet --------------------------------------------------------------------------------

#: Headers of the four tables on the Summary sheet (column A names the group).
TABLE_HEADERS = {
    "by_status": "Status",
    "by_stage": "Stage",
    "by_owner": "Owner",
    "by_month": "Expected close month",
}
VALUE_HEADERS = ("Count", "Amount", "Weighted amount")


def write_summary_sheet(
    ws: Any, summary: PipelineSummary, *, money_format: str = "#,##0.00", title: str = "Pipeline summary"
) -> None:
    """Lay the summary out on a (write-only) worksheet, one table per grouping, and add a native
    bar chart of amount (and weighted amount) by stage next to the tables.

    Layout (column A names the group; B count, C amount, D weighted amount)::

        Pipeline summary
        Currency | USD
        <blank>
        Status | Count | Amount | Weighted amount      <- Open, Won, Lost, Total
        <blank>
        Stage | ...                                    <- one row per stage option
        <blank>
        Owner | ...  /  Expected close month | ...
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    bold = Font(bold=True)
    ws.column_dimensions["A"].width = 28
    for col in "BCD":
        ws.column_dimensions[col].width = 18

    def cell(value: Any, *, fmt: str | None = None, strong: bool = False) -> Any:
        c = WriteOnlyCell(ws, value=value)
        if fmt:
            c.number_format = fmt
        if strong:
            c.font = bold
        return c

    def row_cells(r: SummaryRow, strong: bool = False) -> list[Any]:
        # Labels come from org data (stage labels, member names): escape them like any text cell.
        return [
            cell(safe_cell(r.label), strong=strong),
            cell(r.count, strong=strong),
            cell(round(r.amount, 2), fmt=money_format, strong=strong),
            cell(round(r.weighted, 2), fmt=money_format, strong=strong),
        ]

    row = 0

    def append(values: list[Any]) -> None:
        nonlocal row
        ws.append(values)
        row += 1

    append([cell(title, strong=True)])
    append(["Currency", summary.currency or ""])
    stage_rows: tuple[int, int] = (0, 0)
    for attr, header in TABLE_HEADERS.items():
        append([])
        append([cell(header, strong=True)] + [cell(h, strong=True) for h in VALUE_HEADERS])
        first = row + 1
        for r in getattr(summary, attr):
            append(row_cells(r))
        if attr == "by_status":
            append(row_cells(summary.total, strong=True))
        if attr == "by_stage":
            stage_rows = (first - 1, row)

    header_row, last_row = stage_rows
    if last_row > header_row:
        chart = BarChart()
        chart.type = "col"
        chart.title = "Amount by stage"
        chart.y_axis.title = summary.currency or "Amount"
        chart.x_axis.title = "Stage"
        data = Reference(ws, min_col=3, max_col=4, min_row=header_row, max_row=last_row)
        cats = Reference(ws, min_col=1, min_row=header_row + 1, max_row=last_row)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        chart.height, chart.width = 9, 18
        ws.add_chart(chart, "F2")
