"""The page's HTTP face: one HTML page, a small script and a JSON API, each route one call into
:mod:`bulkio.ui.workspace`, :mod:`bulkio.ui.jobs` or :mod:`bulkio.ui.recipes` (which call the library).

Why server-side state and a plain-JS page: the grid must page a million-row file from the server
and edit cells in place, which needs a script anyway; keeping every row, edit and check on the
server leaves the script small (no framework, no build step, nothing from npm), served from the
package as it is. The JSON API is the same for the page, the tests and anyone scripting it.
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..errors import BulkioError
from ..state import StatePath
from . import recipes as R
from .jobs import Job
from .security import Guard, new_token
from .workspace import Sheet, Workspace, issue_json, objects_of

#: Largest upload accepted (bytes); the reader's own limits apply to what is inside.
MAX_UPLOAD = 512 * 1024 * 1024
#: Largest page of the grid.
MAX_PAGE = 500
_SAFE_NAME = re.compile(r"[^\w .()-]+")


class UiSession:
    """Everything one ``bulkio ui`` start has open: the CRM client (its key stays here), the open
    files and the runs."""

    def __init__(
        self,
        client: Any,
        *,
        state_dir: StatePath | None = None,
        work_dir: str | Path | None = None,
        max_upload: int = MAX_UPLOAD,
    ) -> None:
        self.client = client
        self.state_dir = state_dir
        self._tmp = None if work_dir else tempfile.TemporaryDirectory(prefix="bulkio-ui-")
        self.work_dir = Path(work_dir) if work_dir else Path(self._tmp.name)  # type: ignore[union-attr]
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.max_upload = max_upload
        self.workspaces: dict[str, Workspace] = {}
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def open(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        object_type: str | None = None,
        sheet: str | None = None,
        uploaded: bool = False,
        folder: Path | None = None,
    ) -> Workspace:
        p = Path(path).expanduser()
        folder = folder or Path(tempfile.mkdtemp(prefix="ws-", dir=self.work_dir))
        ws = Workspace(
            self.client,
            p,
            name=name or str(p),
            folder=folder,
            uploaded=uploaded,
            object_type=object_type or None,
            sheet=sheet or None,
        )
        with self.lock:
            self.workspaces[ws.id] = ws
        return ws

    def job(self, jid: str) -> Job:
        return self.jobs[jid]

    def start_job(self, ws: Workspace, kind: str, sheets: list[Sheet], **kw: Any) -> Job:
        job = Job(ws, kind, sheets, **kw)
        with self.lock:
            self.jobs[job.id] = job
        return job.start()

    def stop(self) -> None:
        """Ask every run and background read to stop (without waiting)."""
        for job in list(self.jobs.values()):
            job.pause()
        for ws in list(self.workspaces.values()):
            for s in ws.sheets:
                s.stop()

    def close(self) -> None:
        for job in list(self.jobs.values()):
            job.pause()
        for job in list(self.jobs.values()):
            job.wait(10)
        for ws in list(self.workspaces.values()):
            ws.close()
        if self._tmp is not None:
            self._tmp.cleanup()


# --- helpers ---------------------------------------------------------------------------------------


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _int(request: Request, name: str, default: int, lo: int = 0, hi: int = 1 << 62) -> int:
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        value = default
    return max(lo, min(hi, value))


def _static(name: str) -> bytes:
    return resources.files("bulkio.ui").joinpath("static", name).read_bytes()


def _fields(sheet: Sheet) -> list[dict[str, Any]]:
    """Every field and relationship a column can go to, and whether a column goes to it."""
    from .. import mapping as M

    schema = sheet.schema
    if schema is None:
        return []
    keys = M.importable_keys(schema, sheet.key_field)
    used = {c.target for c in sheet.columns if c.target}
    out = []
    for key in sorted(keys, key=lambda k: (k.startswith("$") is False, k)):
        col = M.column_for(schema, key, sheet.key_field)
        if col is None:
            continue
        fdef = schema.fields.get(key)
        out.append(
            {
                "key": key,
                "label": col.label,
                "type": fdef.value_type if fdef is not None else "relationship",
                "required": bool(getattr(col, "required", False)),
                "used": key in used,
            }
        )
    return out


def _columns(sheet: Sheet) -> dict[str, Any]:
    checker = sheet.checker
    file_issues = [issue_json(i) for i in (checker.file_issues if checker else [])]
    file_issues += [issue_json(i) for i in sheet.reader_file_issues]
    fields = _fields(sheet)
    return {
        "sheet": sheet.summary(),
        "columns": [
            {
                "index": c.index,
                "letter": c.letter,
                "header": c.header,
                "target": c.target,
                "how": c.how,
                "score": round(c.score),
                "nearest": c.nearest,
                "values": len(sheet.spec.columns[c.header].values) if c.header in sheet.spec.columns else 0,
            }
            for c in sheet.columns
        ],
        "fields": fields,
        "unmapped": [f for f in fields if not f["used"]],
        "file_issues": file_issues,
    }


def _crm(client: Any) -> dict[str, Any]:
    """What the page may know of the CRM: its name, address and whether it is a local sandbox;
    never the key."""
    from ..crm.base import crm_name

    url = str(getattr(client, "base_url", "") or "")
    return {
        "crm": crm_name(client),
        "base_url": url,
        "sandbox": url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")),
    }


# --- the app ---------------------------------------------------------------------------------------


def create_app(
    client: Any,
    *,
    file: str | Path | None = None,
    object_type: str | None = None,
    sheet: str | None = None,
    token: str | None = None,
    state_dir: StatePath | None = None,
    work_dir: str | Path | None = None,
    max_upload: int = MAX_UPLOAD,
) -> tuple[Guard, UiSession]:
    """The ASGI app of ``bulkio ui`` (wrapped in its :class:`~bulkio.ui.security.Guard`) and its
    session. ``client`` is any :class:`bulkio.CrmClient`; ``file`` is opened at once.

    >>> guard, session = create_app(client, file="deals.csv")     # doctest: +SKIP
    >>> guard.port = 8765; uvicorn.run(guard, host="127.0.0.1", port=8765)  # doctest: +SKIP
    """
    session = UiSession(client, state_dir=state_dir, work_dir=work_dir, max_upload=max_upload)
    csrf = new_token()
    first: dict[str, str] = {}
    if file is not None:
        ws = session.open(file, object_type=object_type, sheet=sheet)
        first["workspace"] = ws.id

    def ws_of(request: Request) -> Workspace:
        return session.workspaces[request.path_params["wid"]]

    def sheet_of(request: Request) -> Sheet:
        return ws_of(request).sheet(request.path_params["sid"])

    def index(request: Request) -> Response:
        page = _static("index.html").decode()
        page = page.replace("{{csrf}}", html.escape(csrf)).replace(
            "{{first}}", html.escape(first.get("workspace", ""))
        )
        return Response(page, media_type="text/html; charset=utf-8")

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        types = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
        if name not in types:
            return _error(404, "no such file")
        return Response(_static(name), media_type=types[name])

    def state(request: Request) -> Response:
        return JSONResponse(
            {
                **_crm(session.client),
                "objects": objects_of(session.client),
                "workspaces": [w.summary() for w in session.workspaces.values()],
                "first": first.get("workspace"),
                "recipes_dir": str(R.recipes_dir(session.state_dir)),
                "undo": undo_available(),
                "max_upload": session.max_upload,
            }
        )

    async def open_path(request: Request) -> Response:
        body = await _body(request)
        path = str(body.get("path") or "").strip()
        if not path:
            return _error(400, "give the path of a CSV, XLSX, XLS or ODS file")
        ws = await _in_thread(
            session.open, path, object_type=body.get("object_type") or None, sheet=body.get("sheet") or None
        )
        return JSONResponse(ws.summary())

    async def upload(request: Request) -> Response:
        name = _SAFE_NAME.sub("_", Path(request.query_params.get("name") or "upload").name)[:120] or "upload"
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > session.max_upload:
            return _error(413, f"{name}: larger than the {session.max_upload:,}-byte upload limit")
        folder = Path(tempfile.mkdtemp(prefix="ws-", dir=session.work_dir))
        dest = folder / name
        size = 0
        too_big = False
        async with await anyio.open_file(dest, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > session.max_upload:
                    too_big = True
                    break
                await fh.write(chunk)
        if too_big:
            shutil.rmtree(folder, ignore_errors=True)
            return _error(413, f"{name}: larger than the {session.max_upload:,}-byte upload limit")
        if size == 0:
            shutil.rmtree(folder, ignore_errors=True)
            return _error(400, f"{name}: the file is empty")
        try:
            ws = await _in_thread(
                session.open,
                dest,
                name=name,
                object_type=request.query_params.get("object") or None,
                uploaded=True,
                folder=folder,
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return JSONResponse(ws.summary())

    def workspace(request: Request) -> Response:
        return JSONResponse(ws_of(request).summary())

    def columns(request: Request) -> Response:
        return JSONResponse(_columns(sheet_of(request)))

    async def set_column(request: Request) -> Response:
        s = sheet_of(request)
        body = await _body(request)
        await _in_thread(s.set_target, str(body.get("header", "")), body.get("target") or None)
        return JSONResponse(_columns(s))

    async def set_object(request: Request) -> Response:
        s = sheet_of(request)
        body = await _body(request)
        obj = str(body.get("object_type") or "")
        if obj not in objects_of(session.client):
            return _error(400, f"no object {obj!r}")
        await _in_thread(s.set_object, obj)
        return JSONResponse(_columns(s))

    async def set_options(request: Request) -> Response:
        s = sheet_of(request)
        body = await _body(request)
        s.options = {
            k: (str(body[k]).strip() or None) for k in ("locale", "date_order", "phone_region") if k in body
        }
        await _in_thread(s.recheck)
        return JSONResponse(s.summary())

    def values(request: Request) -> Response:
        s = sheet_of(request)
        return JSONResponse({"sheet": s.summary(), "groups": s.unresolved(), "mapped": s.mapped_values()})

    async def set_value(request: Request) -> Response:
        s = sheet_of(request)
        body = await _body(request)
        await _in_thread(
            s.set_value, str(body.get("header", "")), str(body.get("value", "")), body.get("choice") or None
        )
        return JSONResponse({"sheet": s.summary(), "mapped": s.mapped_values()})

    async def grid(request: Request) -> Response:
        s = sheet_of(request)
        offset = _int(request, "offset", 0)
        limit = _int(request, "limit", 50, 1, MAX_PAGE)
        only = request.query_params.get("only") or None
        code = request.query_params.get("code") or None
        started = time.perf_counter()
        page = await _in_thread(s.page, offset, limit, only=only, code=code)
        page["ms"] = round((time.perf_counter() - started) * 1000, 1)
        page["sheet"] = s.summary()
        page["kinds"] = s.kinds()
        return JSONResponse(page)

    async def edit(request: Request) -> Response:
        s = sheet_of(request)
        body = await _body(request)
        try:
            n, col = int(body["n"]), int(body["col"])
        except (KeyError, TypeError, ValueError):
            return _error(400, "give n (the row) and col (the column)")
        value = body.get("value")
        started = time.perf_counter()
        await _in_thread(s.edit, n, col, None if value is None else str(value))
        ms = round((time.perf_counter() - started) * 1000, 1)
        return JSONResponse({"ms": ms, "row": s.rows_json(s.store.rows_at([n]))[0], "sheet": s.summary()})

    async def replace(request: Request) -> Response:
        s = sheet_of(request)
        body = await _body(request)
        try:
            col = int(body["col"])
        except (KeyError, TypeError, ValueError):
            return _error(400, "give col (the column)")
        find = str(body.get("find") or "")
        if not find:
            return _error(400, "give the text to find")
        changed = await _in_thread(
            s.replace, col, find, str(body.get("replace") or ""), whole=bool(body.get("whole"))
        )
        return JSONResponse({"changed": changed, "sheet": s.summary()})

    async def save(request: Request) -> Response:
        ws = ws_of(request)
        path = await _in_thread(ws.save_copy)
        return JSONResponse(
            {
                "path": None if ws.uploaded else str(path),
                "name": path.name,
                "download": f"/api/ws/{ws.id}/download",
            }
        )

    def download(request: Request) -> Response:
        ws = ws_of(request)
        if not ws.copies:
            return _error(404, "no copy saved yet")
        path = ws.copies[-1]
        return FileResponse(path, filename=path.name)

    async def run(request: Request) -> Response:
        ws = ws_of(request)
        body = await _body(request)
        kind = request.path_params["kind"]
        if kind not in ("dry-run", "import"):
            return _error(404, "no such run")
        wanted = body.get("sheets")
        sheets = [s for s in ws.sheets if not wanted or s.id in wanted]
        job = session.start_job(ws, "dry_run" if kind == "dry-run" else "import", sheets)
        return JSONResponse(job.progress())

    def job_state(request: Request) -> Response:
        return JSONResponse(session.job(request.path_params["jid"]).progress())

    def job_rows(request: Request) -> Response:
        job = session.job(request.path_params["jid"])
        sid = request.query_params.get("sheet") or job.sheets[0].id
        page = job.rows_page(
            sid,
            _int(request, "offset", 0),
            _int(request, "limit", 50, 1, MAX_PAGE),
            outcome=request.query_params.get("outcome") or None,
        )
        return JSONResponse(page)

    def job_action(request: Request) -> Response:
        job = session.job(request.path_params["jid"])
        action = request.path_params["action"]
        if action == "pause":
            job.pause()
            return JSONResponse(job.progress())
        if action == "resume":
            try:
                job.resume()
            except ValueError as exc:
                return _error(409, str(exc))
            return JSONResponse(job.progress())
        if action == "retry":
            if job.status != "done" or job.dry_run:
                return _error(
                    409, f"the run is {job.status}: resume it first (a retry is for rows that failed)"
                )
            rows = {
                sid: sorted(n for n, r in outs.items() if r.outcome in ("failed",))
                for sid, outs in job.outcomes.items()
            }
            rows = {sid: ns for sid, ns in rows.items() if ns}
            if not rows:
                return _error(409, "no failed rows to retry")
            sheets = [s for s in job.sheets if s.id in rows]
            retry = session.start_job(job.ws, "retry", sheets, parent=job, rows=rows)
            return JSONResponse(retry.progress())
        if action == "undo":
            try:
                undo = start_undo(session, job)
            except (ValueError, NotImplementedError) as exc:
                return _error(409, str(exc))
            return JSONResponse(undo.progress())
        return _error(404, "no such action")

    def recipes(request: Request) -> Response:
        headers: list[str] | None = None
        obj = None
        wid, sid = request.query_params.get("ws"), request.query_params.get("sheet")
        if wid and sid and wid in session.workspaces:
            s = session.workspaces[wid].sheet(sid)
            headers, obj = s.headers, s.object_type
        return JSONResponse({"recipes": R.list_recipes(headers, obj, state=session.state_dir)})

    async def save_recipe(request: Request) -> Response:
        body = await _body(request)
        s = session.workspaces[str(body.get("ws"))].sheet(str(body.get("sheet")))
        path = R.save_recipe(str(body.get("name") or ""), s.spec, s.headers, state=session.state_dir)
        return JSONResponse(
            {"path": str(path), "recipes": R.list_recipes(s.headers, s.object_type, state=session.state_dir)}
        )

    async def apply_recipe(request: Request) -> Response:
        body = await _body(request)
        s = session.workspaces[str(body.get("ws"))].sheet(str(body.get("sheet")))
        spec = R.load_recipe(str(body.get("name") or ""), state=session.state_dir)
        await _in_thread(s.use_mapping, spec)
        return JSONResponse(_columns(s))

    routes = [
        Route("/", index),
        Route("/static/{name}", asset),
        Route("/api/state", state),
        Route("/api/open", open_path, methods=["POST"]),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/ws/{wid}", workspace),
        Route("/api/ws/{wid}/save", save, methods=["POST"]),
        Route("/api/ws/{wid}/download", download),
        Route("/api/ws/{wid}/run/{kind}", run, methods=["POST"]),
        Route("/api/ws/{wid}/sheets/{sid}/columns", columns),
        Route("/api/ws/{wid}/sheets/{sid}/columns", set_column, methods=["POST"]),
        Route("/api/ws/{wid}/sheets/{sid}/object", set_object, methods=["POST"]),
        Route("/api/ws/{wid}/sheets/{sid}/options", set_options, methods=["POST"]),
        Route("/api/ws/{wid}/sheets/{sid}/values", values),
        Route("/api/ws/{wid}/sheets/{sid}/values", set_value, methods=["POST"]),
        Route("/api/ws/{wid}/sheets/{sid}/grid", grid),
        Route("/api/ws/{wid}/sheets/{sid}/cell", edit, methods=["POST"]),
        Route("/api/ws/{wid}/sheets/{sid}/replace", replace, methods=["POST"]),
        Route("/api/jobs/{jid}", job_state),
        Route("/api/jobs/{jid}/rows", job_rows),
        Route("/api/jobs/{jid}/{action}", job_action, methods=["POST"]),
        Route("/api/recipes", recipes),
        Route("/api/recipes", save_recipe, methods=["POST"]),
        Route("/api/recipes/apply", apply_recipe, methods=["POST"]),
    ]

    async def bulkio_error(request: Request, exc: Exception) -> Response:
        return _error(400, str(exc))

    async def missing(request: Request, exc: Exception) -> Response:
        return _error(404, f"not found: {exc}")

    async def bad(request: Request, exc: Exception) -> Response:
        return _error(400, str(exc))

    app = Starlette(
        routes=routes,
        exception_handlers={
            BulkioError: bulkio_error,
            KeyError: missing,
            IndexError: bad,
            ValueError: bad,
            OSError: bad,
        },
    )
    guard = Guard(app, token=token or new_token(), csrf=csrf)
    return guard, session


async def _in_thread(fn: Any, *args: Any, **kw: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args, **kw)


# --- undo (issue 11) ---------------------------------------------------------------------------------


def undo_available() -> bool:
    """Whether this bulkio can take a run back (``bulkio undo``)."""
    from .jobs import undo_function

    return undo_function() is not None


def start_undo(session: UiSession, job: Job) -> Job:
    """Take an import back with the library's undo, one undo run per sheet's run."""
    if not undo_available():
        raise NotImplementedError("this bulkio cannot undo a run yet (bulkio undo RUN_ID)")
    if job.dry_run or job.status != "done":
        raise ValueError(f"only a finished import can be undone (this one is {job.status})")
    undo = Job(job.ws, "undo", job.sheets)
    undo.undo_of = job
    with session.lock:
        session.jobs[undo.id] = undo
    return undo.start()
