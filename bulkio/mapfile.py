"""Mapping files: what a migration needs to say about each column, as declarative data.

A mapping file (YAML or JSON) names, per source column, the target field (or ``ignore``), an
optional **value map** (source value → option label/id, member email, account name…) and a list of
**transforms** from a fixed set (no code runs). ``derived`` columns are built from several
columns (``join``) or none (``constant``). The file is checked by a pydantic model (JSON Schema:
``bulkio/mapping.schema.json``) and then against the object's schema, and every problem is one line
naming the file, the line and what was expected — before any request that writes::

    object: opportunity
    columns:
      Deal Name: $name
      Deal Stage:
        field: $stage
        values: {appointmentscheduled: Lead, closedwon: Closed Won}
        unmapped: fail
      Probability: {field: probability, transform: [fraction]}
      Notes: ignore
    derived:
      - {field: source, constant: HubSpot}

The old form, a flat ``header: key`` object (or a two-column CSV), still loads: it is a mapping
file with only targets. See docs/mapping.md.
"""

from __future__ import annotations

import csv
import difflib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from .definitions import ObjectSchema
from .errors import InputFileError

#: Targets that mean "do not import this column".
IGNORE = frozenset({"ignore", "-", ""})
#: Step names that take no argument (``transform: [trim, fraction]``).
FLAG_STEPS = (
    "trim",
    "lower",
    "upper",
    "title",
    "fraction",
    "percent",
    "cents",
    "thousands",
    "country",
    "salesforce_id",
    "split_name",
)
#: Step names that take an argument (``{number: de_DE}``, ``{date: "%d.%m.%Y"}``).
ARG_STEPS = ("number", "currency", "date", "regex", "split_name")
STEP_NAMES = tuple(dict.fromkeys(FLAG_STEPS + ARG_STEPS))

#: What each step produces, and the value types it may feed (a transform that cannot fit the
#: field is refused when the file is checked).
_NUMERIC = frozenset({"NUMBER", "CURRENCY"})
_TEXTUAL = frozenset(
    {
        "TEXT",
        "MARKDOWN",
        "HTML",
        "EMAIL",
        "URL",
        "TELEPHONE",
        "SOCIAL_HANDLE",
        "SINGLE_SELECT",
        "MULTI_SELECT",
    }
)
STEP_TARGETS: dict[str, frozenset[str]] = {
    "fraction": _NUMERIC,
    "percent": _NUMERIC,
    "cents": _NUMERIC,
    "thousands": _NUMERIC,
    "number": _NUMERIC,
    "currency": _NUMERIC,
    "date": frozenset({"DATETIME"}),
    "split_name": frozenset({"FULL_NAME"}),
}


class MappingFileError(InputFileError):
    """A mapping file that cannot be used: one line naming the file, the line and what was expected."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.line = line
        where = f"line {line}" if line else None
        super().__init__(f"{where}: {message}" if where else message, path=path)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NumberStep(_Strict):
    """``{number: de_DE}``: a number written the way ``locale`` writes them (Babel's data)."""

    locale: str = Field("en_US", description="Locale such as de_DE, fr-FR, de-CH, en-US.")


class DateStep(_Strict):
    """``{date: "%d.%m.%Y"}``: strptime pattern(s), tried in order."""

    pattern: str | list[str] = Field(description="strptime pattern, e.g. %d.%m.%Y, or a list of them.")


class RegexStep(_Strict):
    """``{regex: "(\\d+)"}``: keep one group of the first match (no match is an error)."""

    pattern: str
    group: int | str = 1


class SplitNameStep(_Strict):
    """``split_name``: one full-name cell → first/last; ``order: last_first`` reads ``Lima, Ana``."""

    order: Literal["first_last", "last_first"] = "first_last"


class Step(_Strict):
    """One transform: exactly one of these keys (a bare name stands for ``{name: true}``)."""

    trim: Literal[True] | None = Field(None, description="Strip and collapse white space.")
    lower: Literal[True] | None = None
    upper: Literal[True] | None = None
    title: Literal[True] | None = None
    fraction: Literal[True] | None = Field(None, description="0.45 → 45 (a 0–1 fraction into a 0–100 field).")
    percent: Literal[True] | None = Field(None, description="'45%' or '45' → 45.")
    cents: Literal[True] | None = Field(None, description="150000 (cents) → 1500.00.")
    thousands: Literal[True] | None = Field(
        None, description="84,500 (in thousands, ZoomInfo's revenue) → 84500000."
    )
    country: Literal[True] | None = Field(
        None,
        description="A country name in English (or a 2/3-letter code) → its 2-letter code (Babel's data).",
    )
    salesforce_id: Literal[True] | None = Field(
        None,
        description="A 15-character Salesforce id (report exports) → its 18-character form (Data Loader), "
        "so both match the same record.",
    )
    split_name: SplitNameStep | None = None
    number: NumberStep | None = None
    currency: NumberStep | None = Field(None, description="Like number, currency symbols and codes dropped.")
    date: DateStep | None = None
    regex: RegexStep | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {data: True}
        if isinstance(data, dict) and len(data) == 1:
            ((name, arg),) = data.items()
            if name == "split_name" and arg is True:
                arg = {}
            elif name in ("number", "currency") and isinstance(arg, str):
                arg = {"locale": arg}
            elif name in ("number", "currency") and arg is True:
                arg = {}
            elif name == "date" and isinstance(arg, (str, list)) or name == "regex" and isinstance(arg, str):
                arg = {"pattern": arg}
            data = {name: arg}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> Step:
        if len(self.names()) != 1:
            raise ValueError(f"a transform step is exactly one of: {', '.join(STEP_NAMES)}")
        return self

    def names(self) -> list[str]:
        return [n for n in STEP_NAMES if getattr(self, n) is not None]

    @property
    def name(self) -> str:
        return self.names()[0]


class ColumnSpec(_Strict):
    """What to do with one source column. A bare string is ``{field: <string>}``."""

    field: str | None = Field(None, description="Target field or relationship key, or 'ignore'.")
    transform: list[Step] = Field(default_factory=list, description="Steps applied in order, before values.")
    values: dict[str, str] = Field(
        default_factory=dict,
        description="Source value → option label/id or reference (matched ignoring case and spaces).",
    )
    default: str | None = Field(None, description="Used for a value the value map does not list.")
    unmapped: Literal["fail", "pass", "blank"] = Field(
        "pass",
        description="A value the map does not list (and no default): fail the row, pass it as is, or "
        "leave the cell blank (then a fallback column of the same field is used).",
    )
    currency_from: str | list[str] | None = Field(
        None,
        description="The column holding each row's currency code (Pipedrive's Deal - Currency, HubSpot's "
        "Currency): the amount is read as an amount in that currency, so one in another currency than "
        "the field's is refused instead of stored as if it were the field's. A list: the first present.",
    )
    skip_rows: list[str] = Field(
        default_factory=list,
        description='Rows whose value in this column is one of these (ignoring case; "" for a blank '
        "cell) are not imported; a skipped_row warning names each (Salesforce's IsDeleted: true). The "
        "column may be ignored.",
    )
    fallback: bool = Field(
        False,
        description="Used only on rows where the other column of the same field is blank (or when the "
        "file has no other column for it).",
    )
    note: str | None = Field(None, description="Free text (bulkio map writes how sure it is).")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data is None or isinstance(data, str):
            return {"field": data}
        return data

    @field_validator("transform", mode="before")
    @classmethod
    def _one_step(cls, v: Any) -> Any:
        return [v] if isinstance(v, (str, dict)) else v

    @field_validator("skip_rows", mode="before")
    @classmethod
    def _skip_texts(cls, v: Any) -> Any:
        if isinstance(v, (str, bool, int, float)):
            v = [v]
        return [_scalar_text(x) for x in v] if isinstance(v, list) else v

    @field_validator("values", mode="before")
    @classmethod
    def _texts(cls, v: Any) -> Any:
        # YAML reads `Yes: true` and `1: x` as bool/int keys and values: take them as the text they were
        if v is None:  # `values:` whose entries are all commented out (a bulkio map draft)
            return {}
        if isinstance(v, dict):
            return {_scalar_text(k): _scalar_text(x) for k, x in v.items()}
        return v

    @property
    def target(self) -> str | None:
        f = (self.field or "").strip()
        return None if f.casefold() in IGNORE else f


class DerivedSpec(_Strict):
    """A column that no single header holds: ``join`` of several columns, or a ``constant``."""

    field: str
    join: list[str] | None = Field(None, description="Source headers joined with sep (blank ones skipped).")
    house_number: list[str] | None = Field(
        None,
        description="With join (the street's name): the house number's header(s), the first filled one "
        "used; it goes before the name where the row's country writes it so (5 Main St: US, GB, FR…), "
        "after it elsewhere (Hauptstr. 5).",
    )
    sep: str = " "
    constant: str | int | float | bool | None = None
    transform: list[Step] = Field(default_factory=list)
    values: dict[str, str] = Field(default_factory=dict)
    default: str | None = None
    unmapped: Literal["fail", "pass", "blank"] = "pass"

    @field_validator("transform", mode="before")
    @classmethod
    def _one_step(cls, v: Any) -> Any:
        return [v] if isinstance(v, (str, dict)) else v

    @field_validator("values", mode="before")
    @classmethod
    def _texts(cls, v: Any) -> Any:
        if v is None:
            return {}
        if isinstance(v, dict):
            return {_scalar_text(k): _scalar_text(x) for k, x in v.items()}
        return v

    @model_validator(mode="after")
    def _one_source(self) -> DerivedSpec:
        if (self.join is None) == (self.constant is None):
            raise ValueError("a derived column has exactly one of join or constant")
        if self.house_number is not None and self.join is None:
            raise ValueError("house_number goes with join (the street's name)")
        return self


class DetectSpec(_Strict):
    """Headers that identify an export (a profile is used automatically when all of ``headers``, or
    all of one list in ``also``, are present)."""

    headers: list[str]
    also: list[list[str]] = Field(default_factory=list, description="Other header sets that identify it.")
    label: str = Field(description="How the export is named in messages, e.g. 'a HubSpot deals export'.")


class Options(_Strict):
    """Run options a file implies, used when the run does not set them: ``locale`` and
    ``phone_region`` go to the cell parsers (:class:`~bulkio.values.ParseOptions`: numbers, currencies
    and dates by locale, phones without a country code)."""

    date_order: Literal["YMD", "DMY", "MDY"] | None = None
    tz: str | None = None
    locale: str | None = None
    phone_region: str | None = None
    match: Literal["name", "domain", "email"] | None = Field(
        default=None,
        description="Like --match: rows without a key update the record they match by name, website "
        "domain or email (a people list read for its companies, which has no company id).",
    )


class MappingFile(_Strict):
    """A whole mapping file (also what a profile is)."""

    version: Literal[1] = 1
    object: str | None = Field(None, description="The object this file maps to (checked when given).")
    source: str | None = Field(None, description="Where the column names and formats come from.")
    key: str | None = Field(None, description="The key field rows match by (default external_id).")
    detect: DetectSpec | None = None
    options: Options = Field(default_factory=Options)
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    derived: list[DerivedSpec] = Field(default_factory=list)

    _path: str | None = PrivateAttr(default=None)
    _lines: dict[tuple[Any, ...], int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        # the old form: {"Header": "$key", ...} at the top level
        if _is_flat(data):
            return {"columns": data}
        return data

    @property
    def path(self) -> str | None:
        return self._path

    def line(self, *loc: Any) -> int | None:
        """The file line of ``loc`` (or of its nearest enclosing node)."""
        key = tuple(loc)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return None

    def error(self, message: str, *loc: Any) -> MappingFileError:
        return MappingFileError(message, path=self._path, line=self.line(*loc))

    def targets(self) -> Targets:
        """header → key (None = ignore): the plain header mapping this file implies (its
        ``fallbacks`` name the headers marked ``fallback``)."""
        out = Targets({h: c.target for h, c in self.columns.items()})
        out.fallbacks = frozenset(h for h, c in self.columns.items() if c.fallback and c.target)
        return out

    def has_work(self) -> bool:
        """True when some column has a value map or transforms, or there are derived columns (or
        fallback columns, which are filled in per row)."""
        return bool(self.derived) or any(
            c.values
            or c.transform
            or c.default
            or c.fallback
            or c.unmapped != "pass"
            or c.skip_rows
            or c.currency_from
            for c in self.columns.values()
        )


class Targets(dict[str, str | None]):
    """header → key, as :meth:`MappingFile.targets` gives it, plus ``fallbacks``: the headers whose
    column feeds its field only where the field's other column is blank (Pipedrive's ``Deal - Stage``
    behind ``Deal - Status``, Salesforce's ``AccountId`` behind ``Account Name``). A plain dict is a
    mapping without fallbacks."""

    fallbacks: frozenset[str] = frozenset()


def _is_flat(data: Any) -> bool:
    """The old top-level ``{"Header": "$key"}`` form (not a misspelt ``colums:`` section)."""
    if not isinstance(data, dict) or not data:
        return False
    fields = list(MappingFile.model_fields)
    if set(data) & set(fields):
        return False
    return not any(
        isinstance(v, dict) and difflib.get_close_matches(str(k), fields, n=1, cutoff=0.8)
        for k, v in data.items()
    )


def _scalar_text(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return v


def _describe(loc: tuple[Any, ...]) -> str:
    """``columns → "Deal Stage" → unmapped`` (pydantic's union/model tags dropped)."""
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        elif p in ("function-after[_exactly_one(), Step]",) or "[" in str(p):
            continue
        else:
            parts.append(f'"{p}"' if " " in str(p) else str(p))
    return " → ".join(parts)


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _allowed_keys(model_loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where an unknown key was found, for did-you-mean."""
    if not model_loc:
        return list(MappingFile.model_fields)
    head = model_loc[0]
    if head == "columns" and len(model_loc) == 2:
        return list(ColumnSpec.model_fields)
    if head in ("columns", "derived") and "transform" in model_loc:
        i = model_loc.index("transform")
        if len(model_loc) == i + 2:
            return list(STEP_NAMES)
        step = model_loc[i + 2] if len(model_loc) > i + 2 else None
        sub: dict[str, type[_Strict]] = {
            "number": NumberStep,
            "currency": NumberStep,
            "date": DateStep,
            "regex": RegexStep,
        }
        sub_model = sub.get(str(step), SplitNameStep)
        return list(sub_model.model_fields)
    if head == "derived" and len(model_loc) == 2:
        return list(DerivedSpec.model_fields)
    if head == "options":
        return list(Options.model_fields)
    if head == "detect":
        return list(DetectSpec.model_fields)
    return []


def _message(err: Any) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function"))))
    where = _describe(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        allowed = _allowed_keys(loc[:-1])
        hint = _did_you_mean(name, allowed)
        expected = f" (expected one of: {', '.join(allowed)})" if allowed and not hint else ""
        return f"unknown key {name!r}{hint}{expected}"
    if kind in ("literal_error",):
        return f"{where}: expected {err['ctx'].get('expected', '')}, got {err.get('input')!r}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _fast_loader() -> Any:
    """PyYAML's libyaml safe loader when it is built in (it is in the wheels), else the pure one;
    both give the same data and marks (tests/test_startup.py compares them on every profile)."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _positions(text: str) -> dict[tuple[Any, ...], int]:
    """path → 1-based line of every key and item (YAML node marks; JSON is read as YAML here)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=_fast_loader())
    except yaml.YAMLError:
        return {}
    out: dict[tuple[Any, ...], int] = {}

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value
                out.setdefault((*path, key), k.start_mark.line + 1)
                walk(v, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                out.setdefault((*path, i), v.start_mark.line + 1)
                walk(v, (*path, i))

    if root is not None:
        walk(root, ())
    return out


def _csv_columns(text: str, suffix: str) -> dict[str, str | None]:
    delim = "\t" if suffix == ".tsv" or ("\t" in text and "," not in text) else ","
    rows = [r for r in csv.reader(text.splitlines(), delimiter=delim) if any(x.strip() for x in r)]
    if rows and [x.strip().casefold() for x in rows[0][:2]] in (
        ["header", "key"],
        ["column", "field"],
        ["header", "field"],
    ):
        rows = rows[1:]
    if any(len(r) < 1 or len(r) > 2 for r in rows):
        raise ValueError("each row must be: header, key")
    return {r[0].strip(): (r[1].strip() or None if len(r) > 1 else None) for r in rows}


def parse_mapping(data: Any, *, path: str | None = None, text: str | None = None) -> MappingFile:
    """Check parsed data (a dict) as a mapping file; ``text`` gives line numbers for errors."""
    lines = _positions(text) if text is not None else {}
    if isinstance(data, list):  # the old list form: [{header, key}, ...]
        try:
            data = {"columns": {d["header"]: d.get("key") for d in data}}
        except (TypeError, KeyError):
            raise MappingFileError("a mapping list must hold {header, key} objects", path=path) from None
    if not isinstance(data, dict):
        raise MappingFileError(
            'expected a mapping file (columns: {"Header": field, ...}) or a flat {"Header": "$key"} object',
            path=path,
            line=1,
        )
    try:
        spec = MappingFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(
            p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function")))
        )
        if _is_flat(data):
            loc = loc[1:]
        line = None
        key = loc
        while key and line is None:
            line = lines.get(key)
            key = key[:-1]
        more = len(exc.errors()) - 1
        raise MappingFileError(
            _message(err) + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""),
            path=path,
            line=line,
        ) from None
    spec._path = path
    if _is_flat(data):
        spec._lines = {("columns", *k): v for k, v in lines.items()}
    else:
        spec._lines = lines
    return spec


def load_mapping(path: str | os.PathLike[str]) -> MappingFile:
    """Read and check a mapping file (.yaml/.yml, .json, or a two-column .csv of header,key).

    >>> spec = load_mapping("hubspot-deals.yaml")     # doctest: +SKIP
    >>> spec.columns["Deal Stage"].values["appointmentscheduled"]   # doctest: +SKIP
    'Lead'
    """
    p = Path(path)
    name = str(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingFileError(f"cannot read the mapping file ({exc})", path=name) from None
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        try:
            data: Any = {"columns": _csv_columns(text, suffix)}
        except (ValueError, csv.Error) as exc:
            raise MappingFileError(f"cannot parse the mapping file ({exc})", path=name) from None
        return parse_mapping(data, path=name)
    if suffix not in (".json", ".yaml", ".yml"):
        raise MappingFileError("mapping files must be .yaml/.yml, .json or .csv", path=name)
    try:
        if suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            try:  # libyaml: 15× faster (profile detection reads every shipped profile)
                data = yaml.load(text, Loader=_fast_loader())
            except yaml.YAMLError:
                data = yaml.safe_load(text)  # the pure-Python parser's message and mark
    except json.JSONDecodeError as exc:
        raise MappingFileError(f"not valid JSON ({exc.msg})", path=name, line=exc.lineno) from None
    except Exception as exc:  # noqa: BLE001 - yaml errors carry a mark
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingFileError(
            f"not valid YAML ({problem})", path=name, line=mark.line + 1 if mark else None
        ) from None
    return parse_mapping(data, path=name, text=text)


def as_mapping(mapping: Any) -> MappingFile | None:
    """A :class:`MappingFile` from what ``import_file(mapping=…)`` accepts: None, a path, a dict
    (``{"Header": "$key"}`` or a whole mapping file) or a MappingFile."""
    if mapping is None or isinstance(mapping, MappingFile):
        return mapping
    if isinstance(mapping, dict):
        return parse_mapping(mapping)
    return load_mapping(mapping)


# --- checks against the object's schema ------------------------------------------------------------


def _walk_steps(spec: MappingFile) -> Iterator[tuple[tuple[Any, ...], str, list[Step], str | None]]:
    for header, col in spec.columns.items():
        if col.target:
            yield ("columns", header), col.target, col.transform, header
    for i, d in enumerate(spec.derived):
        yield ("derived", i), d.field, d.transform, None


def check_mapping(spec: MappingFile, schema: ObjectSchema, *, keys: set[str]) -> None:
    """Refuse, with the file and line, what cannot work against ``schema``: an unknown target
    (did-you-mean), a read-only one, a transform that cannot fit the field, a value map to an option
    the field does not have, two entries for one field. ``keys`` are the importable column keys."""
    obj = schema.object_type
    if spec.object and spec.object.lstrip("$") != obj:
        raise spec.error(f"this mapping is for {spec.object}, not {obj}", "object")
    seen: dict[str, tuple[Any, ...]] = {}
    for loc, target, steps, _header in _walk_steps(spec):
        if target not in keys:
            hint = _did_you_mean(target, sorted(keys))
            ro = target in schema.fields and schema.fields[target].read_only
            what = "is read-only" if ro else f"is not a field or relationship of {obj}"
            if not ro and target == spec.key and not hint:
                # the upsert key of a profile (close_id, hubspot_id…) must exist before the import
                hint = (
                    f": this mapping keys {obj} records by {target}; create a unique text field "
                    f"{target!r} on {obj} first"
                    + (" (bulkio migrate --from close creates it)" if target == "close_id" else "")
                )
            raise spec.error(f"{target!r} {what}{hint}", *loc, "field")
        if target in seen and loc[0] == "derived":
            raise spec.error(f"{target} already comes from {_describe(seen[target])}", *loc)
        seen.setdefault(target, loc)
        fkey = target.split(".")[0]
        fdef = schema.fields.get(fkey)
        vtype = fdef.value_type if fdef is not None and "." not in target else None
        for i, step in enumerate(steps):
            if step.name == "country":
                if not target.endswith(".country"):
                    raise spec.error(
                        f"country makes a country code, but {target} is not an address country",
                        *loc,
                        "transform",
                        i,
                    )
                continue
            allowed = STEP_TARGETS.get(step.name)
            if allowed is None:
                if vtype in (
                    "NUMBER",
                    "CURRENCY",
                    "DATETIME",
                    "CHECKBOX",
                    "ADDRESS",
                    "FULL_NAME",
                ) and step.name in (
                    "lower",
                    "upper",
                    "title",
                ):
                    raise spec.error(
                        f"{step.name} changes text; {target} is a {vtype} field", *loc, "transform", i
                    )
                continue
            if vtype not in allowed:
                kind = vtype or ("a relationship" if target in schema.relationships else "a part of a field")
                raise spec.error(
                    f"{step.name} makes a {'number' if allowed is _NUMERIC else min(allowed).lower()}, "
                    f"but {target} is {kind}"
                    + (f" (a {step.name} step fits {', '.join(sorted(allowed))} fields)" if allowed else ""),
                    *loc,
                    "transform",
                    i,
                )
    # value maps onto select options must name options that exist
    from . import values as V

    def check_values(loc: tuple[Any, ...], target: str, values: dict[str, str], default: str | None) -> None:
        fdef = schema.fields.get(target)
        if fdef is None or fdef.value_type not in ("SINGLE_SELECT", "MULTI_SELECT"):
            return
        items = list(values.items()) + ([("default", default)] if default is not None else [])
        for src, dest in items:
            for part in [p.strip() for p in dest.split(";")] if fdef.value_type == "MULTI_SELECT" else [dest]:
                m = V.match_option(fdef, part)
                if m.option_id is None:
                    labels = [o.label for o in fdef.options]
                    hint = _did_you_mean(part, labels)
                    where = (
                        (*loc, "default")
                        if src == "default" and default is not None
                        else (*loc, "values", src)
                    )
                    raise spec.error(
                        f"{src!r} maps to {part!r}, which is not an option of {fdef.label} ({target}){hint} "
                        f"(expected one of: {', '.join(labels)})",
                        *where,
                    )

    for header, col in spec.columns.items():
        if col.target:
            check_values(("columns", header), col.target, col.values, col.default)
    for i, d in enumerate(spec.derived):
        check_values(("derived", i), d.field, d.values, d.default)


def check_references(
    spec: MappingFile, schema: ObjectSchema, references: Any, *, headers: Iterable[str] | None = None
) -> None:
    """Refuse, before any row is read, a value map that sends values to records that do not exist
    (``Deal owner: {values: {Dan: dan@old-company.com}}`` when no member has that email, or two
    accounts share the name): every row with that value would fail. ``references`` is a
    :class:`~bulkio.resolve.References`; ``headers`` (the file's) limits the check to its columns."""
    from .mapping import explicit_entry
    from .unresolved import nearest

    present = None if headers is None else {explicit_entry(str(h), spec.columns) for h in headers if h}
    wanted: list[tuple[tuple[Any, ...], str, str, str]] = []  # (loc, target, source value, record ref)
    for header, col in spec.columns.items():
        if col.target in schema.relationships and (present is None or header in present):
            items = list(col.values.items()) + ([("default", col.default)] if col.default else [])
            wanted += [(("columns", header), col.target, src, ref) for src, ref in items]
    for i, d in enumerate(spec.derived):
        if d.field in schema.relationships:
            items = list(d.values.items()) + ([("default", d.default)] if d.default else [])
            wanted += [(("derived", i), d.field, src, ref) for src, ref in items]
    by_type: dict[str, set[str]] = {}
    for _loc, target, _src, ref in wanted:
        rel = schema.relationships[target]
        parts = [p.strip() for p in ref.split(";")] if rel.has_many else [ref.strip()]
        by_type.setdefault(rel.object_type, set()).update(p for p in parts if p)
    for object_type, refs in by_type.items():
        references.directory(object_type).prefetch(refs)
    for loc, target, src, ref in wanted:
        rel = schema.relationships[target]
        directory = references.directory(rel.object_type)
        for part in [p.strip() for p in ref.split(";")] if rel.has_many else [ref.strip()]:
            hits = directory.lookup(part) if part else []
            if len(hits) == 1:
                continue
            where = (*loc, "default") if src == "default" else (*loc, "values", src)
            if hits:
                raise spec.error(
                    f"{src!r} maps to {part!r}, which matches {len(hits)} {rel.object_type} records "
                    f"({', '.join(hits[:3])}); map it to one of their ids or emails",
                    *where,
                )
            choices = list(getattr(directory, "names", {}).values()) + list(
                getattr(directory, "by_email", {})
            )
            pool = [c for c in choices if ("@" in c) == ("@" in part)] or choices
            near = [n for n, _ in nearest(part, pool)]
            hint = f"; nearest: {', '.join(near)}" if near else ""
            raise spec.error(
                f"{src!r} maps to {part!r}, but no {rel.object_type} matches it (by id, email or name){hint}",
                *where,
            )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of mapping files (shipped as ``bulkio/mapping.schema.json``)."""
    schema = MappingFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "bulkio mapping file"
    return schema


SCHEMA_PATH = Path(__file__).with_name("mapping.schema.json")

__all__ = [
    "SCHEMA_PATH",
    "ColumnSpec",
    "DerivedSpec",
    "MappingFile",
    "MappingFileError",
    "Step",
    "Targets",
    "as_mapping",
    "check_mapping",
    "check_references",
    "json_schema",
    "load_mapping",
    "parse_mapping",
]
