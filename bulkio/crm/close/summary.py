"""The Summary sheet of a Close pipeline export: Close's own opportunity aggregates.

Close's opportunity list answers, for every filter, ``total_results``, ``count_by_value_period``,
``total_value_{one_time,monthly,annual,annualized}`` and ``expected_value_{…}`` (seed 004:
annualized counts monthly values × 12, expected values weigh each value by its confidence), and
groups them by user and by the month or quarter won (``_group_by``). The Summary shows the same
figures for the exported opportunities — totals per value period and annualized, then grouped by
user, month won and quarter won — computed from the records themselves (in integer cents, so
nothing drifts), and checks the totals against Close's answer for the same filter: a difference
(a record changed while the export ran) is written on the sheet and returned in
:attr:`CloseSummary.mismatches`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...sheets import safe_cell
from .encode import units_to_cents

if TYPE_CHECKING:
    from ..base import Filters
    from .backend import CloseBackend

PERIODS = ("one_time", "monthly", "annual")
PERIOD_LABELS = {"one_time": "One-time", "monthly": "Monthly", "annual": "Annual"}
#: Close's aggregate names, in the order the sheet shows them.
AGGREGATES = (
    "total_value_one_time",
    "total_value_monthly",
    "total_value_annual",
    "total_value_annualized",
    "expected_value_one_time",
    "expected_value_monthly",
    "expected_value_annual",
    "expected_value_annualized",
)
HEADERS = (
    "Count",
    "One-time",
    "Monthly",
    "Annual",
    "Annualized",
    "Expected one-time",
    "Expected monthly",
    "Expected annual",
    "Expected annualized",
)
NOT_WON = "(not won)"
NO_USER = "(no user)"


@dataclass(slots=True)
class Aggregates:
    """One group of opportunities with Close's aggregates, in cents."""

    label: str
    key: str | None = None
    count: int = 0
    count_by_value_period: dict[str, int] = field(default_factory=dict)
    cents: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGGREGATES, 0))

    def add(self, period: str, value: int, expected: int, annualized: int, annualized_expected: int) -> None:
        self.count += 1
        self.count_by_value_period[period] = self.count_by_value_period.get(period, 0) + 1
        if period in PERIODS:
            self.cents[f"total_value_{period}"] += value
            self.cents[f"expected_value_{period}"] += expected
        self.cents["total_value_annualized"] += annualized
        self.cents["expected_value_annualized"] += annualized_expected

    def units(self, name: str) -> float:
        return self.cents[name] / 100

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "key": self.key,
            "total_results": self.count,
            "count_by_value_period": dict(self.count_by_value_period),
            **{name: self.units(name) for name in AGGREGATES},
        }


@dataclass
class CloseSummary:
    """The aggregates of the exported opportunities; :meth:`write_sheet` lays them out."""

    currency: str | None
    total: Aggregates
    by_user: list[Aggregates]
    by_month: list[Aggregates]
    by_quarter: list[Aggregates]
    filters: list[str] = field(default_factory=list)
    #: Close's own totals for the same filter (``None`` when they could not be asked for)
    api_totals: dict[str, Any] | None = None
    mismatches: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "filters": list(self.filters),
            "total": self.total.to_dict(),
            "by_user": [a.to_dict() for a in self.by_user],
            "by_month_won": [a.to_dict() for a in self.by_month],
            "by_quarter_won": [a.to_dict() for a in self.by_quarter],
            "matches_close_totals": not self.mismatches if self.api_totals is not None else None,
            "mismatches": list(self.mismatches),
        }

    def write_sheet(self, ws: Any, *, money_format: str = "#,##0.00") -> None:
        """Lay the summary out on a (write-only) worksheet: the totals per value period and
        annualized, then one table per grouping (user, month won, quarter won)."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        bold = Font(bold=True)
        ws.column_dimensions["A"].width = 30
        for col in "BCDEFGHIJ":
            ws.column_dimensions[col].width = 18

        def cell(value: Any, *, fmt: str | None = None, strong: bool = False) -> Any:
            c = WriteOnlyCell(ws, value=value)
            if fmt:
                c.number_format = fmt
            if strong:
                c.font = bold
            return c

        def money(cents: int, strong: bool = False) -> Any:
            return cell(cents / 100, fmt=money_format, strong=strong)

        ws.append([cell("Close pipeline summary", strong=True)])
        ws.append(["Currency", self.currency or ""])
        ws.append(["Filter", safe_cell("; ".join(self.filters)) if self.filters else "(all opportunities)"])
        if self.api_totals is None:
            check = "not checked against Close's own totals"
        elif self.mismatches:
            check = "DIFFERS from Close's own totals: " + "; ".join(self.mismatches)
        else:
            check = (
                "equal to Close's own totals for this filter (total_results, total_value_*, expected_value_*)"
            )
        ws.append(["Check", check])
        ws.append([])
        ws.append([cell(h, strong=True) for h in ("Value period", "Count", "Total value", "Expected value")])
        for period in PERIODS:
            ws.append(
                [
                    PERIOD_LABELS[period],
                    self.total.count_by_value_period.get(period, 0),
                    money(self.total.cents[f"total_value_{period}"]),
                    money(self.total.cents[f"expected_value_{period}"]),
                ]
            )
        ws.append(
            [
                cell("Annualized (monthly × 12)", strong=True),
                cell(self.total.count, strong=True),
                money(self.total.cents["total_value_annualized"], strong=True),
                money(self.total.cents["expected_value_annualized"], strong=True),
            ]
        )
        for title, groups in (
            ("User", self.by_user),
            ("Month won", self.by_month),
            ("Quarter won", self.by_quarter),
        ):
            ws.append([])
            ws.append([cell(title, strong=True)] + [cell(h, strong=True) for h in HEADERS])
            for g in groups:
                ws.append([safe_cell(g.label), g.count] + [money(g.cents[name]) for name in AGGREGATES])


def _value(record: Mapping[str, Any], key: str) -> Any:
    entry = (record.get("fields") or {}).get(key)
    return entry.get("value") if isinstance(entry, dict) else entry


def _cents(record: Mapping[str, Any], key: str) -> int:
    value = _value(record, key)
    return int(units_to_cents(value)) if value is not None else 0


def _first(record: Mapping[str, Any], key: str) -> str | None:
    rel = (record.get("relationships") or {}).get(key)
    values = rel.get("values") if isinstance(rel, dict) else None
    return str(values[0]) if values else None


def aggregate(
    opportunities: Iterable[Mapping[str, Any]], user_names: Mapping[str, str], currency: str | None
) -> CloseSummary:
    """The aggregates of neutral opportunity records (a pure function: no requests)."""
    total = Aggregates("Total")
    users: dict[str, Aggregates] = {}
    months: dict[str | None, Aggregates] = {}
    quarters: dict[str | None, Aggregates] = {}
    for rec in opportunities:
        period = str(_value(rec, "$valuePeriod") or "one_time")
        figures = (
            _cents(rec, "$value"),
            _cents(rec, "$expectedValue"),
            _cents(rec, "$annualizedValue"),
            _cents(rec, "$annualizedExpectedValue"),
        )
        total.add(period, *figures)
        user = _first(rec, "$user")
        label = user_names.get(user, user) if user else NO_USER
        users.setdefault(user or "", Aggregates(label or NO_USER, user)).add(period, *figures)
        won = _value(rec, "$dateWon")
        month = str(won)[:7] if won else None
        quarter = f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}" if month else None
        months.setdefault(month, Aggregates(month or NOT_WON, month)).add(period, *figures)
        quarters.setdefault(quarter, Aggregates(quarter or NOT_WON, quarter)).add(period, *figures)

    def dated(groups: dict[str | None, Aggregates]) -> list[Aggregates]:
        return sorted(groups.values(), key=lambda a: (a.key is None, a.key or ""))

    return CloseSummary(
        currency=currency,
        total=total,
        # as Close orders groups by user: by the user's full name
        by_user=sorted(users.values(), key=lambda a: (a.key is None or a.key == "", a.label.casefold())),
        by_month=dated(months),
        by_quarter=dated(quarters),
    )


def compare(summary: CloseSummary, api: Mapping[str, Any]) -> list[str]:
    """Differences between the summary's totals and Close's own aggregates (cents)."""
    out = []
    if int(api.get("total_results", -1)) != summary.total.count:
        out.append(f"total_results {api.get('total_results')} ≠ {summary.total.count} exported")
    for name in AGGREGATES:
        if name in api and int(api[name] or 0) != summary.total.cents[name]:
            out.append(f"{name} {int(api[name] or 0) / 100:.2f} ≠ {summary.total.cents[name] / 100:.2f}")
    by_period = api.get("count_by_value_period")
    if isinstance(by_period, Mapping):
        mine = {k: v for k, v in summary.total.count_by_value_period.items() if v}
        theirs = {k: int(v) for k, v in by_period.items() if v}
        if mine != theirs:
            out.append(f"count_by_value_period {theirs} ≠ {mine}")
    return out


def summarize(
    backend: CloseBackend, opportunities: list[dict[str, Any]], filters: Filters | None
) -> CloseSummary:
    """The Summary of the exported opportunities, checked against Close's aggregates for the
    same filter (one more list request)."""
    from ...errors import ApiError

    names = {str(u.get("id")): _user_name(u) for u in backend.config.users}
    summary = aggregate(opportunities, names, backend.config.currency)
    pairs = list(filters.items()) if isinstance(filters, Mapping) else list(filters or [])
    summary.filters = [f"{k}={v}" for k, v in pairs]
    try:
        summary.api_totals = backend.opportunity_totals(filters)
    except ApiError as exc:
        if exc.status != 400:
            raise
        return summary
    summary.mismatches = compare(summary, summary.api_totals)
    return summary


def _user_name(user: Mapping[str, Any]) -> str:
    name = " ".join(str(p) for p in (user.get("first_name"), user.get("last_name")) if p)
    return name or str(user.get("email") or user.get("id") or "")


__all__ = ["AGGREGATES", "Aggregates", "CloseSummary", "aggregate", "compare", "summarize"]
