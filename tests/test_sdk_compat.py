"""The official ``lightfield`` SDK, with strict response validation, against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bulkio.sandbox import SandboxServer

lightfield = pytest.importorskip("lightfield")


@pytest.fixture
def lf(sandbox: SandboxServer, org: Any) -> Iterator[Any]:
    sandbox.set_faults(org.org_id, index_lag_ms=0)  # the SDK's shapes, not list lag
    client = lightfield.Lightfield(
        api_key=org.api_key, base_url=sandbox.url, max_retries=0, _strict_response_validation=True
    )
    yield client
    client.close()


def test_sdk_round_trip(lf: Any, sandbox: SandboxServer, org: Any) -> None:
    assert lf.auth.validate().active is True
    acc = lf.account.create(
        fields={"$name": "SDK Co", "tier": "opt_tier_enterprise", "external_id": "SDK-1"},
        relationships={"$owner": "mem_ben"},
    )
    assert acc.id.startswith("acc_") and acc.fields["tier"].value == "opt_tier_enterprise"
    opp = lf.opportunity.create(
        fields={"$name": "SDK deal", "$stage": "Proposal", "amount": 1200}, relationships={"$account": acc.id}
    )
    assert opp.fields["$stage"].value == "opt_stage_proposal"
    got = lf.opportunity.retrieve(opp.id)
    assert got.id == opp.id and got.relationships["$account"].values == [acc.id]
    assert lf.account.retrieve(acc.id).relationships["$opportunity"].values == [opp.id]
    page = lf.opportunity.list(limit=5)
    assert page.total_count == 41 and page.data[0].id == opp.id and len(page.data) == 5
    filtered = lf.account.list(extra_query={"external_id[equal]": "SDK-1"})
    assert [a.id for a in filtered.data] == [acc.id]
    upd = lf.opportunity.update(
        opp.id, fields={"$stage": "Closed Won"}, relationships={"$owner": {"replace": "mem_cleo"}}
    )
    assert upd.fields["$opportunityStatus"].value == "WON"
    assert upd.relationships["$owner"].values == ["mem_cleo"]
    defs = lf.opportunity.definitions()
    assert defs.field_definitions["$stage"].type_configuration.options[0].id == "opt_stage_lead"
    assert lf.task.definitions().object_type == "task"
    assert any(m.id == "mem_ava" for m in lf.member.list().data)
    assert lf.member.retrieve("mem_ava").fields.email.value == "ava@demo.lightfield.test"


def test_sdk_reads_every_object(lf: Any) -> None:
    for resource in (lf.account, lf.contact, lf.opportunity, lf.task, lf.note):
        page = resource.list(limit=25)
        assert page.data and page.object == "list"
        assert resource.retrieve(page.data[-1].id).id == page.data[-1].id
    assert lf.object.list_definitions().data[0].object_type == "partner"
    partners = lf.object.list("partner")
    assert partners.total_count == 5
    assert lf.object.retrieve(partners.data[0].id, entity_slug="partner").id == partners.data[0].id


def test_sdk_idempotent_create(lf: Any, sandbox: SandboxServer, org: Any) -> None:
    before = sandbox.count(org.org_id, "account")
    headers = {"Idempotency-Key": "sdk-row-7"}
    first = lf.account.create(fields={"$name": "Once"}, extra_headers=headers)
    second = lf.account.create(fields={"$name": "Once"}, extra_headers=headers)
    assert first.id == second.id
    assert sandbox.count(org.org_id, "account") == before + 1


def test_sdk_errors(lf: Any) -> None:
    with pytest.raises(lightfield.BadRequestError) as bad:
        lf.account.create(fields={"$name": "X", "bogus": 1})
    assert bad.value.status_code == 400 and bad.value.body["error"]["code"] == "unknown_field"
    with pytest.raises(lightfield.NotFoundError):
        lf.account.retrieve("acc_missing")
    with pytest.raises(lightfield.UnprocessableEntityError):
        lf.opportunity.create(fields={"$name": "D", "$stage": "Nope"}, relationships={"$account": "acc_x"})
