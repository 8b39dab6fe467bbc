"""An undeliverable response fails the invocation.

crhelper catches every exception of a hop; the provider raises once crhelper has
returned, so that Lambda retries the event (the hop is idempotent) and, once Lambda
gives up, the on-failure destination answers instead of the stack waiting in silence.
"""

from __future__ import annotations

import pytest
from crhelper import CfnResource

from custom_resource.lifecycle import SEND_BUDGET_SECONDS
from custom_resource.response import ResponseNotDeliveredError
from tests.conftest import FakeContext, World, make_event
from tests.flaky_put import flaky_sender


def test_puts_failing_for_a_while_fail_the_hop_and_lambdas_retry_delivers(world: World) -> None:
    world.issue_after(20 * 60)  # two hops; the second one answers
    put = flaky_sender(world, failures=7)
    sent_at: list[float] = []
    world.clock.at(20 * 60, lambda: sent_at.append(world.clock.elapsed))

    invocations = world.lam.run(make_event(DomainName="example.com"))

    [failed] = [i for i in invocations if i.failed]
    assert failed.error is not None and failed.error["errorType"] == "ResponseNotDeliveredError"
    assert "SUCCESS for Create Certificate was not accepted" in failed.error["errorMessage"]
    assert "secret-signature" not in failed.error["errorMessage"]
    assert world.lam.given_up == []
    # All 5 attempts of the failed hop were made: instant failures are not charged the
    # 10 s socket timeout (3 attempts would fit a 30 s budget then), only the hang is.
    assert put.attempts == 5 + 3
    [certificate] = world.certificates()
    [body] = world.sink.bodies  # exactly one status accepted, by the retried hop
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == certificate.arn


def test_the_failed_hop_spends_no_more_than_its_send_budget(world: World) -> None:
    world.issue_after(60)
    put = flaky_sender(world, failures=5)

    with pytest.raises(ResponseNotDeliveredError):
        world.lam.invoke(make_event(DomainName="example.com"))

    assert put.attempts == 5
    assert world.clock() - put.started_at[0] <= SEND_BUDGET_SECONDS


def test_the_error_is_raised_after_crhelpers_own_handling(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished: list[bool] = []
    original = CfnResource.__call__

    def crhelper_call(self: CfnResource, event: object, context: object) -> None:
        original(self, event, context)
        finished.append(True)  # crhelper returned normally: it swallowed nothing we need

    monkeypatch.setattr(CfnResource, "__call__", crhelper_call)
    flaky_sender(world, failures=5)
    event = {**make_event(DomainName="bad..name")}

    with pytest.raises(ResponseNotDeliveredError, match="FAILED for Create"):
        world.provider(event, FakeContext(world.clock, 900))

    assert finished == [True]
    assert world.sink.bodies == []


def test_crhelpers_own_failure_path_that_cannot_deliver_also_raises(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_log_setup(self: CfnResource, event: object, context: object) -> None:
        raise RuntimeError("logging setup broke")

    monkeypatch.setattr(CfnResource, "_log_setup", broken_log_setup)
    flaky_sender(world, failures=5)

    with pytest.raises(ResponseNotDeliveredError, match="FAILED for Create"):
        world.provider(make_event(DomainName="example.com"), FakeContext(world.clock, 900))


def test_a_misconfigured_provider_that_cannot_deliver_raises(world: World) -> None:
    flaky_sender(world, failures=5)
    with pytest.raises(ResponseNotDeliveredError):
        world.provider.refuse(
            make_event(DomainName="example.com"), FakeContext(world.clock, 900), ValueError("x")
        )


def test_a_delivered_response_ends_the_invocation_normally(world: World) -> None:
    world.issue_after(60)
    flaky_sender(world, failures=4)  # the fifth and last attempt gets through

    world.lam.invoke(make_event(DomainName="example.com"))

    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]
