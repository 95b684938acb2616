"""The official SDKs on the sandboxes' error paths: each must raise its own documented exception
type for our error bodies (``lightfield``: one class per status; ``closeio``: ``ValidationError``
for 400, ``APIError`` otherwise), never crash on the body's shape. ``test_sdk_compat.py`` and
``test_close_sandbox_sdk.py`` cover 400/404/422 and waiting out a 429; these add 401, 403, 409,
413 and 429 (LF §9, CL §7)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bulkio.crm.close.sandbox import CloseSandboxServer
from bulkio.crm.close.sandbox import Org as CloseOrg
from bulkio.sandbox import SandboxServer

lightfield = pytest.importorskip("lightfield")
closeio_api = pytest.importorskip("closeio_api")


def sdk(sandbox: SandboxServer, key: str) -> Any:
    return lightfield.Lightfield(api_key=key, base_url=sandbox.url, max_retries=0)


@pytest.fixture
def lf(sandbox: SandboxServer, org: Any) -> Iterator[Any]:
    client = sdk(sandbox, org.api_key)
    yield client
    client.close()


def test_lightfield_401_is_authentication_error(sandbox: SandboxServer) -> None:
    with sdk(sandbox, "sk_lf_0_not_a_key") as bad, pytest.raises(lightfield.AuthenticationError) as err:
        bad.account.list()
    assert err.value.status_code == 401 and err.value.body["error"]["type"] == "unauthorized"


def test_lightfield_403_is_permission_denied(sandbox: SandboxServer, org: Any) -> None:
    with sdk(sandbox, sandbox.mint_key(org.org_id, ["accounts:read"])) as read_only:
        assert read_only.account.list(limit=1).data
        with pytest.raises(lightfield.PermissionDeniedError) as err:
            read_only.account.create(fields={"$name": "No"})
    assert err.value.status_code == 403 and err.value.body["error"]["type"] == "forbidden"


def test_lightfield_409_in_flight_is_conflict(sandbox: SandboxServer, org: Any, lf: Any) -> None:
    """A second request while the first with the same Idempotency-Key runs (LF §8)."""
    sandbox.set_faults(org.org_id, latency_ms=1500)
    first = threading.Thread(
        target=httpx.post,
        args=(sandbox.url + "/v1/accounts",),
        kwargs={
            "json": {"fields": {"$name": "Slow"}},
            "headers": {
                "Authorization": f"Bearer {org.api_key}",
                "Lightfield-Version": "2026-03-01",
                "Idempotency-Key": "sdk-in-flight",
            },
            "timeout": 10,
        },
    )
    first.start()
    try:
        in_flight = sandbox.sandbox.runtime(org.org_id).in_flight
        while not in_flight and first.is_alive():
            time.sleep(0.01)
        with pytest.raises(lightfield.ConflictError) as err:
            lf.account.create(fields={"$name": "Slow"}, extra_headers={"Idempotency-Key": "sdk-in-flight"})
    finally:
        first.join()
        sandbox.set_faults(org.org_id, latency_ms=0)
    assert err.value.status_code == 409 and err.value.body["error"]["code"] == "idempotency_conflict"


def test_lightfield_429_is_rate_limit_error(sandbox: SandboxServer, org: Any, lf: Any) -> None:
    sandbox.set_rate_limit(org.org_id, per_second=0.1, burst=1)
    lf.account.list(limit=1)
    with pytest.raises(lightfield.RateLimitError) as err:
        lf.account.list(limit=1)
    assert err.value.status_code == 429 and err.value.response.headers["Retry-After"].isdigit()


def test_lightfield_413_is_an_api_status_error(lf: Any) -> None:
    with pytest.raises(lightfield.APIStatusError) as err:
        lf.account.create(fields={"$name": "a" * (11 * 1024 * 1024)})
    assert err.value.status_code == 413 and err.value.body["error"]["type"] == "payload_too_large"


# --- closeio ---------------------------------------------------------------------------------------------
def close_client(server: CloseSandboxServer, key: str, *, max_retries: int = 1) -> Any:
    client = closeio_api.Client(api_key=key, max_retries=max_retries)
    client.base_url = server.api_url + "/"
    return client


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda c: close_client(c[0], "api_not_a_key").get("me"), 401),
        (lambda c: c[1].get("lead/lead_missing"), 404),
        (lambda c: c[1].put("lead", {}), 405),
        (lambda c: c[1].post("lead", {"name": "a" * (11 * 1024 * 1024)}), 413),
    ],
    ids=["401", "404", "405", "413"],
)
def test_closeio_raises_api_error(
    close_sandbox: CloseSandboxServer, close_org: CloseOrg, call: Any, status: int
) -> None:
    with pytest.raises(closeio_api.APIError) as err:
        call((close_sandbox, close_client(close_sandbox, close_org.api_key)))
    assert not isinstance(err.value, closeio_api.ValidationError)
    assert err.value.response.status_code == status and isinstance(err.value.response.json()["error"], str)


def test_closeio_429_after_its_retries_is_api_error(
    close_sandbox: CloseSandboxServer, close_org: CloseOrg
) -> None:
    """With its retries spent, the client raises the 429 (it sleeps ``reset`` seconds first)."""
    close_sandbox.set_rate_limit(close_org.org_id, per_second=1, window=1)
    close_sandbox.set_options(close_org.org_id, ratelimit_reset="integer")  # its regex reads digits only
    client = close_client(close_sandbox, close_org.api_key, max_retries=1)
    client.get("me")
    with pytest.raises(closeio_api.APIError) as err:
        client.get("me")
    body = err.value.response.json()
    assert err.value.response.status_code == 429 and "rate_reset" in body.get("error", body)


def test_closeio_validation_error_for_hostile_json(
    close_sandbox: CloseSandboxServer, close_org: CloseOrg
) -> None:
    """A body that is no text (a lone surrogate, which the client's ``json.dumps`` escapes and
    sends) is a 400 ``{"error"}``; the client raises its ``ValidationError`` and reads it without
    ``errors``/``field-errors`` keys (it crashed the request with a text/plain 500 before)."""
    client = close_client(close_sandbox, close_org.api_key)
    with pytest.raises(closeio_api.ValidationError) as err:
        client.post("lead", {"name": "x\ud800"})
    assert err.value.response.status_code == 400 and "surrogate" in err.value.response.json()["error"]
    assert err.value.errors == [] and err.value.field_errors == {}
