"""CloseBackend: Close as a :class:`~bulkio.crm.base.Backend` the neutral stages can read and write.

Every record goes through :mod:`bulkio.crm.close.encode` on the way in and out, so the stages see
the same shape as for Lightfield. What is particular to Close lives here:

* **lookups by key**: Close lists cannot filter by a custom field; a ``key[equal]=value`` filter
  becomes an Advanced Filtering search (``/data/search/``), whose hits are read by id. Searches have a
  bucket ten times smaller than lists (:attr:`lookup_cost`), so the planner scans the lists instead
  as soon as that is cheaper — nearly always;
* **no idempotency keys**: a create whose answer was lost (a dropped connection, a 500/502/504) may
  have been applied. Before it is sent again, the backend looks for it by the upsert key
  (:meth:`find_created`): a contact or an opportunity in its lead (``GET /lead/{id}/``, which never
  lags), else with a search, after waiting until the search index has had ``search_lag`` seconds
  to show it. A record found is *adopted* (the row says created, with its id): never a duplicate.
  On resume the pipeline asks the same for every create the ledger has no answer for;
* **lists** page with ``_skip``/``_limit`` (opportunities concurrently: their first page says how
  many there are); Close caps ``_skip`` (10,000 in the sandbox), and a longer list stops with a
  clear error rather than silently short.
"""

from __future__ import annotations

import builtins
import difflib
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar, Self

from ...errors import ApiError, ConfigError
from ..base import ClientStats, Filters
from .client import CloseClient, UnconfirmedWrite
from .encode import (
    LABELS,
    OBJECT_TYPES,
    PATHS,
    WRITABLE_TYPES,
    CloseConfig,
    ObjectMap,
    body_to_close,
    field_of,
    member_record,
    object_maps,
    record_to_neutral,
)

#: Records per list page, per object (the sandbox's maxima, which are Airbyte's sizes: API-FACTS §3).
PAGE_SIZES = {"lead": 200, "contact": 100, "opportunity": 250, "member": 100}
#: The largest ``_skip`` Close lists take (unpublished per resource; the sandbox's default).
MAX_SKIP = 10_000
#: Neutral filter operators → Close list parameter suffixes (opportunity lists).
_OPS = {
    "equal": "",
    "greaterThan": "__gt",
    "greaterThanOrEqual": "__gte",
    "lessThan": "__lt",
    "lessThanOrEqual": "__lte",
}
#: Neutral keys Close's opportunity list can filter by, and the list parameter.
_OPP_PARAMS = {
    "$status": "status_id",
    "$statusType": "status_type",
    "$user": "user_id",
    "$lead": "lead_id",
    "$valuePeriod": "value_period",
    "$pipeline": "pipeline_id",
    "$dateWon": "date_won",
    "$dateCreated": "date_created",
    "$dateUpdated": "date_updated",
}
_NEUTRAL = re.compile(r"^(\$?[A-Za-z0-9_]+)\[([A-Za-z]+)\]$")


def _pairs(filters: Filters | None) -> list[tuple[str, str]]:
    if not filters:
        return []
    items = filters.items() if isinstance(filters, Mapping) else filters
    return [(str(k), str(v)) for k, v in items]


class CloseBackend:
    """The Close API (or the Close sandbox) behind the neutral :class:`~bulkio.crm.base.Backend`.

    >>> with CloseBackend(api_key="api_…", base_url=sandbox.api_url) as close:   # doctest: +SKIP
    ...     close.schema("opportunity").fields["$value"].value_type
    'CURRENCY'
    """

    crm = "close"
    #: Close has no idempotency keys: lost creates are found, not re-sent blindly.
    idempotent = False
    page_sizes: ClassVar[dict[str, int]] = PAGE_SIZES
    #: One key lookup (a search: 2/s) costs about ten list pages (20/s).
    lookup_cost = 10.0
    pipeline_objects: tuple[str, ...] = ("opportunity", "lead", "contact", "member")
    sheet_names: ClassVar[dict[str, str]] = {
        "opportunity": "Opportunities",
        "lead": "Leads",
        "contact": "Contacts",
        "member": "Users",
    }

    def __init__(
        self,
        client: CloseClient | None = None,
        *,
        search_lag: float = 5.0,
        concurrency: int = 8,
        **client_options: Any,
    ) -> None:
        self.client = client if client is not None else CloseClient(**client_options)
        self.base_url = self.client.base_url
        self.key_fingerprint = self.client.key_fingerprint
        #: what the ledger keeps runs and known records under (never the key itself)
        self.target = f"{self.base_url}#{self.key_fingerprint}"
        #: How long Close's search index may take to show a new record, in seconds: a lost lead
        #: create is looked for again once this has passed (contacts and opportunities are found in
        #: their lead, which never lags).
        self.search_lag = search_lag
        self.concurrency = concurrency
        self._lock = threading.RLock()
        self._config: CloseConfig | None = None
        self._maps: dict[str, ObjectMap] | None = None
        self._key_fields: dict[str, str] = dict.fromkeys(WRITABLE_TYPES, "external_id")
        self._parts: dict[str, dict[str, Any]] = {}  # id → lists to keep on update (addresses, types)
        #: creates whose answer was lost and whose record was found (adopted) instead of re-sent
        self.adopted = 0

    def __repr__(self) -> str:
        return f"CloseBackend(base_url={self.base_url!r}, key=sha256:{self.key_fingerprint}…)"

    @property
    def stats(self) -> ClientStats:
        return self.client.stats

    # --- configuration -------------------------------------------------------------------------
    @property
    def config(self) -> CloseConfig:
        """The org's users, statuses, pipelines, custom fields and currency (fetched once)."""
        with self._lock:
            if self._config is None:
                self._config = self._load_config()
                self._maps = object_maps(self._config)
            return self._config

    def _load_config(self) -> CloseConfig:
        c = self.client
        me = c.get("me/")
        org_id = me.get("organization_id") if isinstance(me, dict) else None
        currency = None
        if org_id:
            try:
                currency = (c.get(f"organization/{org_id}/") or {}).get("currency")
            except ApiError as exc:
                if exc.status not in (403, 404):
                    raise
        custom = {t: list(c.pages(f"custom_field/{t}/", limit=1000)) for t in WRITABLE_TYPES}
        return CloseConfig.from_api(
            currency=currency,
            users=list(c.pages("user/", limit=100)),
            lead_statuses=list(c.pages("status/lead/", limit=1000)),
            pipelines=list(c.pages("pipeline/", limit=1000)),
            custom_fields=custom,
            shared_fields=list(c.pages("custom_field/shared/", limit=1000)),
        )

    def refresh(self) -> None:
        """Forget the fetched configuration (after custom fields or statuses changed)."""
        with self._lock:
            self._config = self._maps = None

    def _map(self, object_type: str) -> ObjectMap:
        self.config  # noqa: B018 - loads the maps
        assert self._maps is not None
        omap = self._maps.get(object_type)
        if omap is None:
            known = [t for t in OBJECT_TYPES]
            close = difflib.get_close_matches(object_type.strip().lower(), known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            alias = {"account": "lead", "accounts": "lead", "user": "member", "users": "member"}
            if object_type.strip().lower() in alias:
                hint = f" Close calls it '{alias[object_type.strip().lower()]}'."
            raise ConfigError(
                f"Close has no object type {object_type!r}.{hint} Close objects: lead, contact, "
                "opportunity (and member: Close's users, read-only)."
            )
        return omap

    # --- the Backend protocol: reads -------------------------------------------------------------
    def schema(self, object_type: str) -> Any:
        return self._map(object_type).schema

    def object_types(self) -> builtins.list[dict[str, str]]:
        return []  # Close's custom objects are not served

    def all_object_types(self) -> builtins.list[dict[str, Any]]:
        return [{"objectType": t, "label": LABELS[t], "system": True} for t in WRITABLE_TYPES]

    def _neutral(self, omap: ObjectMap, raw: dict[str, Any]) -> dict[str, Any]:
        if omap.object_type == "member":
            return member_record(raw)
        self._remember(omap.object_type, raw)
        return record_to_neutral(omap, raw)

    def _remember(self, object_type: str, raw: Mapping[str, Any]) -> None:
        """Keep what an update must not lose and the neutral record does not hold: a lead's other
        addresses (or a label other than business), the types of a contact's emails/phones/urls."""
        rid = raw.get("id")
        if not rid:
            return
        keep: dict[str, Any] = {}
        if object_type == "lead":
            addresses = raw.get("addresses") or []
            if len(addresses) > 1 or any((a or {}).get("label") not in (None, "business") for a in addresses):
                keep["addresses"] = addresses
        elif object_type == "contact":
            for attr, default in (("emails", "office"), ("phones", "office"), ("urls", "url")):
                items = raw.get(attr) or []
                if any((i or {}).get("type") not in (None, default) for i in items):
                    keep[attr] = items
        with self._lock:
            if keep:
                self._parts[str(rid)] = keep
            else:
                self._parts.pop(str(rid), None)

    def retrieve(self, object_type: str, record_id: str) -> dict[str, Any]:
        omap = self._map(object_type)
        raw = self.client.get(f"{PATHS[object_type]}{record_id}/")
        return self._neutral(omap, raw)

    def members(self) -> builtins.list[dict[str, Any]]:
        return [member_record(u) for u in self.client.pages("user/", limit=PAGE_SIZES["member"])]

    def _split_filters(
        self, object_type: str, filters: Filters | None
    ) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
        """(native list parameters, key lookups ``(key, op, value)``) of neutral or Close filters."""
        params: dict[str, str] = {}
        lookups: list[tuple[str, str, str]] = []
        omap = self._map(object_type)
        for name, value in _pairs(filters):
            m = _NEUTRAL.match(name)
            if m is None:
                params[name] = value  # Close's own parameter (status_type=won, date_won__gte=…)
                continue
            key, op = m.group(1), m.group(2)
            if object_type == "opportunity" and key in _OPP_PARAMS and op in _OPS:
                params[_OPP_PARAMS[key] + _OPS[op]] = value
            elif object_type == "contact" and key == "$lead" and op == "equal":
                params["lead_id"] = value
            elif op in ("equal", "contains") and (
                key in omap.schema.fields or key in omap.schema.relationships
            ):
                lookups.append((key, op, value))
            else:
                raise ApiError(
                    f"Close lists cannot filter {object_type} records by {name}.",
                    status=400,
                    type="bad_request",
                    param=name,
                )
        return params, lookups

    def _search_query(self, object_type: str, key: str, value: str) -> dict[str, Any]:
        omap = self._map(object_type)
        spec = omap.specs[key]
        node: dict[str, Any]
        if spec.close.startswith("custom."):
            node = {
                "type": "field_condition",
                "field": {"type": "custom_field", "custom_field_id": spec.close[len("custom.") :]},
                "condition": {"type": "term", "values": [value]},
            }
        elif key == "$email" and object_type == "contact":
            node = {
                "type": "has_related",
                "this_object_type": "contact",
                "related_object_type": "contact_email",
                "related_query": {
                    "type": "field_condition",
                    "field": {"type": "regular_field", "object_type": "contact_email", "field_name": "email"},
                    "condition": {"type": "term", "values": [value]},
                },
            }
        elif key == "$name":
            name = "display_name" if object_type == "lead" else "name"
            node = {
                "type": "field_condition",
                "field": {"type": "regular_field", "object_type": object_type, "field_name": name},
                "condition": {"type": "text", "mode": "phrase", "value": value},
            }
        else:
            raise ApiError(
                f"Close cannot look {object_type} records up by {key}.",
                status=400,
                type="bad_request",
                param=key,
            )
        return {"type": "and", "queries": [{"type": "object_type", "object_type": object_type}, node]}

    def _lookup(self, object_type: str, lookups: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        ids: list[str] | None = None
        for key, _op, value in lookups:
            hits = [str(h["id"]) for h in self.client.search(self._search_query(object_type, key, value))]
            ids = hits if ids is None else [i for i in ids if i in hits]
        out = []
        for rid in ids or []:
            try:
                out.append(self.retrieve(object_type, rid))
            except ApiError as exc:
                if exc.status != 404:
                    raise
        return out

    def list_page(
        self, object_type: str, *, offset: int, limit: int = 100, filters: Filters | None = None
    ) -> dict[str, Any]:
        """One page ``{"data", "totalCount"}``; ``totalCount`` from the opportunity list itself,
        else from a search count (leads, contacts), else ``None``."""
        omap = self._map(object_type)
        params, lookups = self._split_filters(object_type, filters)
        if lookups:
            found = self._lookup(object_type, lookups)
            return {"data": found[offset : offset + limit], "totalCount": len(found)}
        size = max(1, min(limit, PAGE_SIZES[object_type]))
        if offset > MAX_SKIP:
            raise self._too_long(object_type)
        body = self.client.get(PATHS[object_type], {**params, "_skip": offset, "_limit": size})
        data = [self._neutral(omap, r) for r in body.get("data") or []]
        total = body.get("total_results")
        if total is None and object_type in ("lead", "contact") and not params:
            total = self._count(object_type)
        elif total is None and not body.get("has_more"):
            total = offset + len(data)
        return {"data": data, "totalCount": total, "has_more": bool(body.get("has_more"))}

    def _count(self, object_type: str) -> int | None:
        query = {"type": "object_type", "object_type": object_type}
        try:
            answer = self.client.post("data/search/", {"query": query, "_limit": 1, "include_counts": True})
        except ApiError as exc:
            if exc.status == 400:
                return None
            raise
        count = answer.get("count") if isinstance(answer, dict) else None
        return int(count["total"]) if isinstance(count, dict) and "total" in count else None

    def _too_long(self, object_type: str) -> ConfigError:
        return ConfigError(
            f"Close lists stop at {MAX_SKIP:,} records and this org has more {object_type} records: "
            "bulkio cannot read them all yet (split the work with filters)."
        )

    def list(
        self,
        object_type: str,
        *,
        filters: Filters | None = None,
        page_size: int = 100,
        max_records: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        for count, record in enumerate(self._iterate(object_type, filters, page_size), start=1):
            yield record
            if max_records is not None and count >= max_records:
                return

    def _iterate(self, object_type: str, filters: Filters | None, page_size: int) -> Iterator[dict[str, Any]]:
        omap = self._map(object_type)
        if object_type == "member":
            yield from self.members()
            return
        params, lookups = self._split_filters(object_type, filters)
        if lookups:
            yield from self._lookup(object_type, lookups)
            return
        size = max(1, min(page_size, PAGE_SIZES[object_type]))
        seen: set[Any] = set()
        skip = 0
        while True:
            if skip > MAX_SKIP:
                raise self._too_long(object_type)
            body = self.client.get(PATHS[object_type], {**params, "_skip": skip, "_limit": size})
            data = body.get("data") or []
            for raw in data:
                if raw.get("id") in seen:
                    continue
                seen.add(raw.get("id"))
                yield self._neutral(omap, raw)
            if not body.get("has_more") or not data:
                return
            skip += len(data)

    def list_all(
        self, object_type: str, *, filters: Filters | None = None, concurrency: int = 8
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, each id once. Opportunity pages are read concurrently (the first
        says how many there are); lead and contact lists say only ``has_more``, so they are read
        one page after another (200 and 100 records a page)."""
        if object_type != "opportunity":
            yield from self._iterate(object_type, filters, PAGE_SIZES.get(object_type, 100))
            return
        omap = self._map(object_type)
        params, lookups = self._split_filters(object_type, filters)
        if lookups:
            yield from self._lookup(object_type, lookups)
            return
        size = PAGE_SIZES["opportunity"]
        path = PATHS["opportunity"]
        first = self.client.get(path, {**params, "_skip": 0, "_limit": size})
        seen: set[Any] = set()

        def fresh(data: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for raw in data:
                if raw.get("id") not in seen:
                    seen.add(raw.get("id"))
                    yield self._neutral(omap, raw)

        yield from fresh(first.get("data") or [])
        if not first.get("has_more"):
            return
        total = int(first.get("total_results") or 0)
        if total > MAX_SKIP + size:
            raise self._too_long(object_type)
        offsets = list(range(size, total, size))
        more = True
        if offsets:
            pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="bulkio-close-list")
            pending: list[Future[Any]] = []
            try:
                queue = iter(offsets)
                window = max(1, concurrency) * 2
                for off in queue:
                    pending.append(
                        pool.submit(self.client.get, path, {**params, "_skip": off, "_limit": size})
                    )
                    if len(pending) >= window:
                        break
                while pending:
                    page = pending.pop(0).result()
                    for off in queue:
                        pending.append(
                            pool.submit(self.client.get, path, {**params, "_skip": off, "_limit": size})
                        )
                        break
                    yield from fresh(page.get("data") or [])
                    more = bool(page.get("has_more"))
            finally:
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=False, cancel_futures=True)
        skip = (offsets[-1] + size) if offsets else size
        while more:  # records added while reading: continue past the expected end
            if skip > MAX_SKIP:
                raise self._too_long(object_type)
            page = self.client.get(path, {**params, "_skip": skip, "_limit": size})
            data = page.get("data") or []
            yield from fresh(data)
            more = bool(page.get("has_more")) and bool(data)
            skip += size

    def opportunity_totals(self, filters: Filters | None = None) -> dict[str, Any]:
        """Close's own aggregates for the opportunities matching ``filters`` (one list request):
        ``total_results``, ``count_by_value_period``, ``total_value_*``, ``expected_value_*``."""
        params, lookups = self._split_filters("opportunity", filters)
        if lookups:
            raise ApiError("Aggregates cannot follow a key lookup.", status=400, type="bad_request")
        body = self.client.get(PATHS["opportunity"], {**params, "_limit": 1})
        return {k: v for k, v in body.items() if k not in ("data", "has_more")}

    # --- writes --------------------------------------------------------------------------------
    def _encode(
        self, omap: ObjectMap, body: Mapping[str, Any], current: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        try:
            return body_to_close(omap, body, current)
        except KeyError as exc:
            key = str(exc.args[0]) if exc.args else "?"
            raise ApiError(
                f"{key} cannot be written to a Close {omap.object_type}.",
                status=400,
                type="bad_request",
                code="unknown_field",
                param=f"fields.{key}",
            ) from None

    def _located(self, omap: ObjectMap, exc: ApiError) -> ApiError:
        """Close's field error, pointing at the neutral key (so the issue names the column)."""
        if exc.status != 400 or not exc.param or exc.param.startswith(("fields.", "relationships.")):
            return exc
        key = field_of(omap, exc.param)
        if key is None:
            return exc
        part = "relationships" if key in omap.schema.relationships else "fields"
        return type(exc)(
            exc.message,
            status=exc.status,
            type=exc.type,
            code=exc.code,
            param=f"{part}.{key}",
            method=exc.method,
            path=exc.path,
            body=exc.body,
        )

    def create(
        self, object_type: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Create one record. Close ignores ``idempotency_key`` (it has none): a create whose answer
        was lost is looked for (:meth:`find_created`) before it is sent again."""
        omap = self._map(object_type)
        if object_type not in WRITABLE_TYPES:
            raise ConfigError("Close users (members) are read-only through the API.")
        close_body = self._encode(omap, body, None)
        policy = self.client.retry
        attempt = 0
        while True:
            attempt += 1
            sent = time.monotonic()
            try:
                raw = self.client.post(PATHS[object_type], close_body)
            except UnconfirmedWrite:
                found = self.find_created(object_type, body, sent_at=sent)
                if found is not None:
                    with self._lock:
                        self.adopted += 1
                    return found
                if self._key_of(object_type, body) is None or attempt >= policy.max_attempts:
                    raise  # without a key there is nothing to look for: a retry could duplicate
                time.sleep(policy.backoff(attempt))
                continue
            except ApiError as exc:
                raise self._located(omap, exc) from None
            return self._neutral(omap, raw)

    def update(
        self, object_type: str, record_id: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """PUT the changed keys (Close's PUT is a partial update, safe to retry)."""
        omap = self._map(object_type)
        if object_type not in WRITABLE_TYPES:
            raise ConfigError("Close users (members) are read-only through the API.")
        with self._lock:
            current = self._parts.get(record_id)
        close_body = self._encode(omap, body, current)
        try:
            raw = self.client.put(f"{PATHS[object_type]}{record_id}/", close_body)
        except ApiError as exc:
            raise self._located(omap, exc) from None
        return self._neutral(omap, raw)

    def delete(self, object_type: str, record_id: str) -> None:
        """Delete one record (a lead takes its contacts and opportunities with it)."""
        self._map(object_type)
        self.client.delete(f"{PATHS[object_type]}{record_id}/")

    # --- lost creates --------------------------------------------------------------------------
    def use_key(self, object_type: str, key_field: str) -> None:
        """The field that holds the upsert key of ``object_type`` (default ``external_id``)."""
        with self._lock:
            self._key_fields[object_type] = key_field

    def _key_of(self, object_type: str, body: Mapping[str, Any]) -> str | None:
        key_field = self._key_fields.get(object_type)
        value = (body.get("fields") or {}).get(key_field) if key_field else None
        if isinstance(value, list):
            value = value[0] if value else None
        return None if value in (None, "") else str(value)

    def find_created(
        self, object_type: str, body: dict[str, Any], *, sent_at: float | None = None
    ) -> dict[str, Any] | None:
        """The record a create with ``body`` made, if it was applied; ``None`` if it was not.

        Contacts and opportunities are looked for in their lead (a read by id: current at once);
        leads, and records without a lead, with a search by the key, again once ``search_lag``
        seconds have passed since ``sent_at`` (or now, on resume) if the first search finds nothing.
        A body without a key value cannot be found (``None``)."""
        key = self._key_of(object_type, body)
        if key is None:
            return None
        omap = self._map(object_type)
        key_field = self._key_fields[object_type]
        spec = omap.specs.get(key_field)
        if spec is None:
            return None
        lead = (body.get("relationships") or {}).get("$lead")
        if isinstance(lead, dict):
            lead = lead.get("replace")
        if isinstance(lead, list):
            lead = lead[0] if lead else None
        if object_type in ("contact", "opportunity") and lead:
            try:
                raw_lead = self.client.get(f"lead/{lead}/")
            except ApiError as exc:
                if exc.status == 404:
                    return None
                raise
            kids = raw_lead.get("contacts" if object_type == "contact" else "opportunities") or []
            for kid in kids:
                if str(kid.get(spec.close) or "") == key:
                    return self._neutral(omap, kid)
            return None
        found = self._lookup(object_type, [(key_field, "equal", key)])
        if not found:
            started = sent_at if sent_at is not None else time.monotonic()
            wait = started + self.search_lag - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            found = self._lookup(object_type, [(key_field, "equal", key)])
        exact = [r for r in found if str(((r.get("fields") or {}).get(key_field) or {}).get("value")) == key]
        return exact[0] if exact else None

    # --- the pipeline export -------------------------------------------------------------------
    def summarize_pipeline(
        self, opportunities: builtins.list[dict[str, Any]], filters: Filters | None
    ) -> Any:
        """The Close pipeline Summary (:mod:`bulkio.crm.close.summary`) of the exported opportunities,
        checked against Close's own aggregates for the same filter."""
        from .summary import summarize

        return summarize(self, opportunities, filters)

    # --- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["MAX_SKIP", "PAGE_SIZES", "CloseBackend"]
