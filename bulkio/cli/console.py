"""CLI-only rendering: shared options, progress bars from library events, output formats, and
turning exceptions into one clear line plus an exit code. No library module imports this.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from tqdm import tqdm

from ..errors import ApiError, BulkioError, ConfigError, redact
from ..events import Event, Message, PhaseFinished, PhaseStarted, Progress, RateLimited

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_ROWS_FAILED, EXIT_NOT_STARTED, EXIT_STOPPED = 0, 1, 2, 3

#: What Ctrl-C prints for a command whose outputs are written atomically (export, template) or
#: that writes nothing (definitions). ``bulkio import`` passes its own (see :func:`guarded`).
INTERRUPTED = "Interrupted; nothing was written."
#: ``--from`` choices: auto, every source with profiles (``bulkio.profiles.ALL_SOURCES``, not
#: imported here: ``bulkio --help`` stays fast; a test keeps the two equal), none.
PROFILE_CHOICES = (
    "auto",
    "hubspot",
    "salesforce",
    "close",
    "pipedrive",
    "zoho",
    "dynamics",
    "apollo",
    "zoominfo",
    "google",
    "outlook",
    "linkedin",
    "none",
)


#: Where :func:`connection_options` keeps ``--crm`` for :func:`connect` (the click context's meta).
CRM_META = "bulkio.crm"


def _remember_crm(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    ctx.meta[CRM_META] = value
    return value


def state_dir_option(fn: F) -> F:
    """--state-dir (or BULKIO_STATE_DIR): the folder of the ledger and the embedded sandbox."""
    return click.option(
        "--state-dir",
        envvar="BULKIO_STATE_DIR",
        show_envvar=True,
        type=click.Path(file_okay=False),
        default=None,
        help="Folder for run state (resume ledger, embedded sandbox) [default: the per-user data "
        "folder; see `bulkio state path`].",
    )(fn)


def connection_options(fn: F) -> F:
    """--crm / --api-key / --base-url / --sandbox-db / --state-dir, shared by every command that
    talks to a CRM. ``--crm`` is kept in the click context, where :func:`connect` reads it."""
    fn = state_dir_option(fn)
    fn = click.option(
        "--sandbox-db",
        type=click.Path(dir_okay=False),
        default=None,
        help="SQLite file of the embedded sandbox (used when no API key is set). "
        "[default: sandbox.sqlite3 in the state folder; with --crm close close-sandbox.sqlite3]",
    )(fn)
    fn = click.option(
        "--base-url",
        default=None,
        help="API base URL [default: LIGHTFIELD_BASE_URL, else https://api.lightfield.app when a key "
        "is set; with --crm close: CLOSE_BASE_URL, else https://api.close.com/api/v1].",
    )(fn)
    fn = click.option(
        "--api-key",
        default=None,
        help="API key [default: LIGHTFIELD_API_KEY; with --crm close: CLOSE_API_KEY]. Never printed or "
        "stored. Without one, bulkio uses the CRM's embedded sandbox.",
    )(fn)
    fn = click.option(
        "--crm",
        type=click.Choice(["lightfield", "close"], case_sensitive=False),
        default=None,
        envvar="BULKIO_CRM",
        show_envvar=True,
        expose_value=False,
        callback=_remember_crm,
        help="The CRM to talk to [default: lightfield].",
    )(fn)
    return fn


@contextmanager
def connect(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    sandbox_db: str | None = None,
    state_dir: str | None = None,
    **options: Any,
) -> Iterator[Any]:
    """The backend of the command's ``--crm`` (:func:`bulkio.crm.connect`): the real API with a key,
    else that CRM's embedded sandbox. ``options`` go to the client (``retry=``…)."""
    from ..crm import connect as connect_crm

    ctx = click.get_current_context(silent=True)
    crm = ctx.meta.get(CRM_META) if ctx is not None else None
    with connect_crm(
        crm, api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, state_dir=state_dir, **options
    ) as backend:
        yield backend


def common_options(fn: F) -> F:
    """--quiet / --debug / --format."""
    fn = click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="How to print the summary.",
    )(fn)
    fn = click.option("--debug", is_flag=True, help="Show the full traceback on errors.")(fn)
    fn = click.option("-q", "--quiet", is_flag=True, help="No progress bars.")(fn)
    return fn


class ProgressBars:
    """An ``on_event`` handler drawing one tqdm bar per phase on stderr, and printing the library's
    messages there (those also with ``--format json``, whose stdout they would spoil; not with -q)."""

    #: A 429 wait at least this long is also printed as a line (bars are off in logs and pipes).
    LONG_WAIT = 5.0
    #: ... at most once per this many seconds.
    WAIT_LINE_EVERY = 30.0

    def __init__(self, *, enabled: bool = True, messages: bool = True) -> None:
        self.enabled, self.messages = enabled, messages
        self.bars: dict[str, tqdm] = {}
        self.waiting: str | None = None  # what the bars show while the API rate-limits the run
        self._last_wait_line = -1e9

    def __call__(self, event: Event) -> None:
        if isinstance(event, Message):
            if self.messages:
                tqdm.write(event.text, file=sys.stderr)
            return
        if isinstance(event, RateLimited):
            self._rate_limited(event)
            return
        if not self.enabled:
            return
        if isinstance(event, PhaseStarted):
            # disable=None: no bars when stderr is not a terminal (CI logs, pipes)
            self.bars[event.name] = tqdm(
                total=event.total,
                desc=event.name,
                unit="row",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
                disable=None,
            )
        elif isinstance(event, Progress):
            bar = self.bars.get(event.name)
            if bar is not None:
                if self.waiting is not None:
                    self.waiting = None
                    bar.set_postfix_str("", refresh=False)
                bar.update(event.count)
        elif isinstance(event, PhaseFinished):
            bar = self.bars.pop(event.name, None)
            if bar is not None:
                bar.close()
        # Retrying is not printed one by one: the run summary counts retries.

    def _rate_limited(self, event: RateLimited) -> None:
        """Show a 429 wait on the bars (and, when long, as a line): the run is waiting, not stuck."""
        self.waiting = f"rate limited (429): waiting {event.wait_seconds:.1f} s"
        if self.enabled:
            for bar in self.bars.values():
                bar.set_postfix_str(self.waiting)
        now = time.monotonic()
        if (
            self.messages
            and event.wait_seconds >= self.LONG_WAIT
            and now - self._last_wait_line >= self.WAIT_LINE_EVERY
        ):
            self._last_wait_line = now
            stalled = (
                f"; nothing has succeeded for {event.stalled_seconds:.0f} s"
                if event.stalled_seconds >= 1
                else ""
            )
            tqdm.write(
                f"The API is rate limiting this run (429): waiting {event.wait_seconds:.0f} s{stalled} "
                "(another client on the same key?). bulkio gives up after --max-wait without progress.",
                file=sys.stderr,
            )

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


@contextmanager
def guarded(*, debug: bool = False, interrupted: str = INTERRUPTED) -> Iterator[None]:
    """Turn a :class:`BulkioError` or an OS error (a results file that cannot be written, a full
    disk) into ``Error: …`` (plus its notes) on stderr and exit code 2; Ctrl-C into ``interrupted``
    (plus the notes the library attached, e.g. which results sheet shows what an import wrote) and
    exit code 3."""
    try:
        yield
    except BrokenPipeError:
        # stdout's reader went away (`bulkio export … -o - | head`): stop quietly, like any Unix tool
        _silence_stdout()
        sys.exit(EXIT_STOPPED)
    except (BulkioError, OSError) as exc:
        if debug:
            _echo_traceback(exc)
        click.echo(f"Error: {_safe(str(exc))}", err=True)
        for note in getattr(exc, "__notes__", ()):  # context the library attached (what was written)
            click.echo(_safe(note), err=True)
        sys.exit(EXIT_NOT_STARTED)
    except KeyboardInterrupt as exc:
        click.echo(interrupted, err=True)
        for note in getattr(exc, "__notes__", ()):
            click.echo(_safe(note), err=True)
        sys.exit(EXIT_STOPPED)
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise  # click's own exits and usage errors
    except Exception as exc:  # noqa: BLE001 - a bug: one redacted line (or a redacted traceback)
        if debug:
            _echo_traceback(exc)
        else:
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {_safe(str(exc))} (re-run with --debug for "
                "the traceback)",
                err=True,
            )
        sys.exit(EXIT_NOT_STARTED)


def _secrets() -> list[str]:
    """The API key as the user gave it (environment or --api-key), raw and stripped."""
    ctx = click.get_current_context(silent=True)
    raw = [os.environ.get("LIGHTFIELD_API_KEY") or ""]
    if ctx is not None:
        raw.append(str(ctx.params.get("api_key") or ""))
    return [v for r in raw for v in (r, r.strip()) if v.strip()]


def _safe(text: str) -> str:
    """Text about an error with the key (and anything shaped like one) taken out."""
    return redact(text, _secrets())


def _echo_traceback(exc: BaseException) -> None:
    """``--debug``: the traceback, redacted like every other line (exception texts from the HTTP
    stack can quote the Authorization header)."""
    click.echo(_safe("".join(traceback.format_exception(exc))).rstrip(), err=True)


def _silence_stdout() -> None:
    """Point the stdout file descriptor at /dev/null, so the interpreter's final flush of a closed
    pipe prints no second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (e.g. a test runner's buffer)
        pass


def unknown_object_message(client: Any, object_type: str) -> str:
    """``Unknown object type 'acount'. Did you mean 'account'? Run …`` (plural and case slips
    such as ``Accounts`` are suggested too)."""
    try:
        known = [str(t["objectType"]) for t in client.all_object_types()]
    except BulkioError:
        known = []
    folded = object_type.strip().casefold()
    if folded in ("member", "members"):
        return (
            "Members are read-only through the API: export them (bulkio export member -o "
            "members.csv) and manage them in Lightfield."
        )
    singular = {folded, folded.removesuffix("s"), folded.removesuffix("ies") + "y"}
    close = [t for t in known if t.casefold() in singular] or difflib.get_close_matches(folded, known, n=2)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"Unknown object type {object_type!r}.{hint} Run `bulkio definitions --list` to see the types."


@contextmanager
def object_type_checked(client: Any, object_type: str) -> Iterator[None]:
    """Turn the API's 404 for OBJECT's definitions into :func:`unknown_object_message`."""
    try:
        yield
    except ApiError as exc:
        from ..definitions import definitions_path

        if exc.status == 404 and exc.path == definitions_path(object_type):
            raise ConfigError(unknown_object_message(client, object_type)) from None
        raise


def echo_json(data: Any, *, err: bool = False) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False), err=err)


def echo_table(rows: list[tuple[str, Any]], *, err: bool = False) -> None:
    width = max((len(k) for k, _ in rows), default=0)
    for k, v in rows:
        click.echo(f"{k.ljust(width)}  {v}", err=err)


def with_guard(fn: F) -> F:
    """Decorator form of :func:`guarded` reading the command's ``debug`` option."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with guarded(debug=bool(kwargs.get("debug"))):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
