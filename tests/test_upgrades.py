"""Upgrading the provider while it waits: a wait finishes on the version that started it.

CloudFormation invokes the alias (the ServiceToken); each hop re-invokes the exact
version it runs on. The emulator's Lambda keeps versions and aliases as Lambda does, so
a deploy in the middle of a wait (new code, a new version, the alias moved) shows where
each invocation ran.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from custom_resource.handler import Provider
from custom_resource.relay import own_version_arn
from tests.conftest import FUNCTION_ARN, World, make_event

ALIAS = "live"
DEPLOY_AT = 20 * 60
"""The upgrade lands 20 minutes into the first wait, between its hops."""


def test_a_wait_keeps_its_version_across_an_upgrade_and_new_requests_take_the_new_one(
    world: World,
) -> None:
    lam = world.lam
    first = lam.publish()
    lam.set_alias(ALIAS, first)
    world.issue_after(50 * 60)  # both certificates are ISSUED 50 minutes in
    before = make_event(DomainName="example.com")
    after = make_event(DomainName="www.example.com")

    def deploy() -> None:
        """What a stack update does: new code, a new version, the alias moved to it."""
        lam.update_code(lambda: Provider(world.runtime))
        lam.set_alias(ALIAS, lam.publish())
        lam.submit(after, ALIAS)

    world.clock.at(DEPLOY_AT, deploy)
    lam.submit(before, ALIAS)
    lam.drain()

    old = [i for i in lam.invocations if i.request_id == before["RequestId"]]
    new = [i for i in lam.invocations if i.request_id == after["RequestId"]]
    assert {i.version for i in old} == {first}, "every hop of the first wait ran on its version"
    assert [i.hop for i in old] == list(range(1, len(old) + 1))
    assert any(i.started_at - world.clock.start > DEPLOY_AT for i in old), "it outlived the deploy"
    second = str(int(first) + 1)
    assert new and {i.version for i in new} == {second}, "a new request runs the new version"
    answers = {body["RequestId"]: body["Status"] for body in world.sink.bodies}
    assert answers == {before["RequestId"]: "SUCCESS", after["RequestId"]: "SUCCESS"}
    assert not lam.given_up


@pytest.mark.parametrize(
    ("invoked", "version", "next_hop"),
    [
        (f"{FUNCTION_ARN}:{ALIAS}", "7", f"{FUNCTION_ARN}:7"),
        (f"{FUNCTION_ARN}:7", "7", f"{FUNCTION_ARN}:7"),
        (FUNCTION_ARN, "$LATEST", FUNCTION_ARN),
        (f"{FUNCTION_ARN}:$LATEST", "$LATEST", FUNCTION_ARN),
    ],
)
def test_the_next_hop_invokes_the_version_this_one_runs_on(
    invoked: str, version: str, next_hop: str
) -> None:
    context = SimpleNamespace(invoked_function_arn=invoked, function_version=version)
    assert own_version_arn(context) == next_hop
