"""``bulkio sandbox``: run the local Lightfield- or Close-compatible server, or mint a key for it."""

from __future__ import annotations

from pathlib import Path

import click

from ..state import sandbox_db_path
from .console import state_dir_option


@click.group("sandbox", short_help="Run the local sandbox API, or mint a key for it.")
def command() -> None:
    """Run the local Lightfield-compatible sandbox server (data in sandbox.sqlite3 in the state
    folder, the same database the other commands use without an API key)."""


CRMS = ("lightfield", "close")
#: the Close sandbox keeps its own file next to the Lightfield one
CLOSE_SANDBOX_DB_NAME = "close-sandbox.sqlite3"


def _db(path: Path | None, state_dir: str | None, crm: str = "lightfield") -> Path:
    default = sandbox_db_path(state_dir)
    db = path or (default.with_name(CLOSE_SANDBOX_DB_NAME) if crm == "close" else default)
    db.parent.mkdir(parents=True, exist_ok=True)
    return db


crm_option = click.option(
    "--crm",
    type=click.Choice(CRMS),
    default="lightfield",
    show_default=True,
    help=f"Which API the sandbox speaks (close: its data lives in {CLOSE_SANDBOX_DB_NAME} in the state folder).",
)


@command.command("serve")
@click.option(
    "--port", type=int, default=8787, show_default=True, help="Port to listen on (0 = any free port)."
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default)."
)
@click.option(
    "--db",
    "--sandbox-db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file holding all orgs [default: sandbox.sqlite3 in the state folder].",
)
@state_dir_option
@click.option(
    "--seed",
    default="demo",
    show_default=True,
    help="Seed for a new database: 'demo' or the path of a seed JSON file.",
)
@click.option("--rate", type=float, default=None, help="Requests per second per category (default 25).")
@click.option("--latency-ms", type=float, default=None, help="Delay added to every request.")
@click.option("--jitter-ms", type=float, default=None, help="Random extra delay, up to this much.")
@click.option("--error-rate", type=float, default=None, help="Fraction of requests answered 500/503.")
@click.option(
    "--drop-rate",
    type=float,
    default=None,
    help="Fraction of writes whose response is dropped after they commit.",
)
@click.option(
    "--reset-rate",
    type=float,
    default=None,
    help="Fraction of requests whose connection is closed before they run.",
)
@click.option(
    "--index-lag-ms",
    type=float,
    default=None,
    help="Lists hide records younger than this [default: 2000 strict, 0 lenient].",
)
@click.option(
    "--profile",
    type=click.Choice(["strict", "lenient"]),
    default=None,
    help="strict: the least forgiving reading wherever the API docs are silent (list lag, option "
    "ids only, case-sensitive matching…); lenient: the forgiving one. [default: strict, or "
    "BULKIO_SANDBOX_PROFILE]",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host other machines can reach (every interface, a LAN address).",
)
@crm_option
def serve(
    port: int,
    host: str,
    db_path: Path | None,
    seed: str,
    rate: float | None,
    latency_ms: float | None,
    jitter_ms: float | None,
    error_rate: float | None,
    drop_rate: float | None,
    reset_rate: float | None,
    index_lag_ms: float | None,
    profile: str | None,
    allow_remote: bool,
    crm: str,
    state_dir: str | None,
) -> None:
    """Serve the sandbox in the foreground until Ctrl-C.

    Prints the URL and a full-access key of the default org, valid while this server runs
    (`bulkio sandbox mint-key` makes lasting ones). With --crm close it serves the Close API under
    /api/v1/ (seeds: demo, big, empty, or a seed JSON file; --rate is requests per second per key
    and endpoint group, default 20).
    """
    if crm == "close":
        if profile is not None:
            raise click.UsageError("--profile is for the Lightfield sandbox; drop it with --crm close.")
        from ..sandbox.server import check_host

        try:  # the same rule for the Close sandbox: loopback unless --allow-remote
            bind, remote = check_host(host, allow_remote=allow_remote)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        if remote:
            click.echo(
                f"WARNING: the Close sandbox listens on {bind} port {port}: other machines can read "
                "and change its data with the key below.",
                err=True,
            )
        _serve_close(
            port,
            bind,
            _db(db_path, state_dir, "close"),
            seed,
            rate,
            latency_ms,
            jitter_ms,
            error_rate,
            drop_rate,
            reset_rate,
            index_lag_ms,
        )
        return
    from ..sandbox import SandboxServer

    try:
        server = SandboxServer(
            _db(db_path, state_dir),
            seed=seed,
            host=host,
            port=port,
            rate_limit=rate,
            profile=profile,
            allow_remote=allow_remote,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    faults = {
        k: v
        for k, v in {
            "latency_ms": latency_ms,
            "jitter_ms": jitter_ms,
            "error_rate": error_rate,
            "drop_rate": drop_rate,
            "reset_rate": reset_rate,
            "index_lag_ms": index_lag_ms,
        }.items()
        if v is not None
    }
    if faults:
        server.set_faults(None, **faults)
    server.start()
    if server.remote:
        click.echo(
            f"WARNING: the sandbox listens on {server.host} port {server.port}: other machines can "
            "read and change its data with the key below.",
            err=True,
        )
    click.echo(f"Lightfield sandbox listening on {server.url} ({server.profile.name} profile)")
    click.echo(f"LIGHTFIELD_BASE_URL={server.url}")
    click.echo(f"LIGHTFIELD_API_KEY={server.api_key}")
    click.echo("Press Ctrl-C to stop.", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.close()
        click.echo("Stopped.", err=True)


def _serve_close(
    port: int,
    host: str,
    db_path: Path,
    seed: str,
    rate: float | None,
    latency_ms: float | None,
    jitter_ms: float | None,
    error_rate: float | None,
    drop_rate: float | None,
    reset_rate: float | None,
    index_lag_ms: float | None,
) -> None:
    from ..crm.close.sandbox import CloseSandboxServer

    server = CloseSandboxServer(db_path, seed=seed, host=host, port=port, rate_limit=rate)
    faults = {
        k: v
        for k, v in {
            "latency_ms": latency_ms,
            "jitter_ms": jitter_ms,
            "error_rate": error_rate,
            "drop_rate": drop_rate,
            "reset_rate": reset_rate,
            "index_lag_ms": index_lag_ms,
        }.items()
        if v is not None
    }
    if faults:
        server.set_faults(None, **faults)
    server.start()
    click.echo(f"Close sandbox listening on {server.url}")
    click.echo(f"CLOSE_BASE_URL={server.api_url}")
    click.echo(f"CLOSE_API_KEY={server.api_key}")
    click.echo("Press Ctrl-C to stop.", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.close()
        click.echo("Stopped.", err=True)


@command.command("mint-key")
@click.option(
    "--db",
    "--sandbox-db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file holding all orgs [default: sandbox.sqlite3 in the state folder].",
)
@state_dir_option
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help="A scope such as accounts:read (repeatable); none = full access.",
)
@click.option("--org", "org_id", default=None, help="Org id (default: the default org).")
@crm_option
def mint_key(
    db_path: Path | None, scopes: tuple[str, ...], org_id: str | None, crm: str, state_dir: str | None
) -> None:
    """Print a new API key for the sandbox's default org, limited to the given scopes.

    The key works at once, also for a `bulkio sandbox serve` already running on the same --db.
    Close keys have no scopes: with --crm close the key belongs to the org's first user.
    """
    if crm == "close":
        if scopes:
            raise click.UsageError("Close API keys have no scopes; drop --scope.")
        from ..crm.close.sandbox import CloseSandbox

        close_sandbox = CloseSandbox(_db(db_path, state_dir, "close"))
        try:
            click.echo(close_sandbox.mint_key(org_id))
        except KeyError as exc:
            raise click.UsageError(str(exc.args[0])) from None
        finally:
            close_sandbox.close()
        return
    from ..sandbox import Sandbox

    sandbox = Sandbox(_db(db_path, state_dir))
    try:
        click.echo(sandbox.mint_key(org_id, list(scopes)))
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from None
    except ValueError as exc:  # an unknown scope
        raise click.UsageError(str(exc)) from None
    finally:
        sandbox.close()
