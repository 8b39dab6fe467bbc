"""Hardening: bad events, crashes, refused hand-offs, throttling, duplicates."""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest

from custom_resource.request import mask_url
from custom_resource.response import Sender
from tests.conftest import RESPONSE_URL, World, error_answer, make_event
from tests.lifecycle_helpers import (
    Crash,
    crash_once,
    create,
    delete_event,
    deliver_until_done,
    update_event,
)


def arm_crash(world: World, point: str, waiting_for: str) -> None:
    """Crash the invocation once at ``point`` of its work (Lambda then retries the event)."""
    if point == "after the certificate request":
        crash_once(world, "acm.RequestCertificate", after=True)
    elif point == "after writing records":
        crash_once(world, "route53.ChangeResourceRecordSets", after=True)
    elif point == "mid-wait":
        world.clock.at(world.clock.elapsed + 10 * 60, lambda: crash_once(world, waiting_for))
    elif point == "at the re-invoke":
        crash_once(world, "lambda.Invoke")
    else:
        crash_before_the_response(world)


def crash_before_the_response(world: World) -> None:
    crashed: list[bool] = []

    def put_crashing_once(url: str, body: bytes, timeout: float) -> int:
        if not crashed:
            crashed.append(True)
            raise Crash("before the response")
        return world.sink.put(url, body, timeout)

    world.runtime.sender = Sender(
        sleep=world.clock.sleep, rng=world.runtime.rng, put=put_crashing_once
    )


CREATE_POINTS = [
    "after the certificate request",
    "after writing records",
    "mid-wait",
    "at the re-invoke",
    "before the response",
]


@pytest.mark.parametrize("point", CREATE_POINTS)
def test_create_crash_then_retry_gives_one_certificate_and_one_response(
    world: World, point: str
) -> None:
    zone = world.hosted_zone()
    world.issue_after(30 * 60)
    arm_crash(world, point, "acm.DescribeCertificate")

    crashes = deliver_until_done(world, make_event(DomainName="example.com", HostedZoneId=zone))

    assert crashes == 1
    assert len(world.certificates()) == 1
    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]
    assert len(world.records(zone)) == 1


@pytest.mark.parametrize("point", CREATE_POINTS)
def test_update_replacement_crash_then_retry_gives_one_new_certificate(
    world: World, point: str
) -> None:
    zone = world.hosted_zone("example.org")
    arn, props = create(world, DomainName="example.com")
    world.issue_after(world.clock.elapsed + 30 * 60)
    arm_crash(world, point, "acm.DescribeCertificate")
    sent = len(world.sink.bodies)

    update = update_event(arn, props, DomainName="example.org", HostedZoneId=zone)
    assert deliver_until_done(world, update) == 1

    [body] = world.sink.bodies[sent:]
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] != arn
    assert {c.arn for c in world.certificates()} == {arn, body["PhysicalResourceId"]}


@pytest.mark.parametrize("point", ["mid-wait", "at the re-invoke", "before the response"])
def test_delete_crash_then_retry_gives_one_response(world: World, point: str) -> None:
    arn, props = create(world, DomainName="example.com")
    world.in_use(arn, ["arn:aws:cloudfront::123456789012:distribution/E1"])
    world.release_after(world.clock.elapsed + 20 * 60, arn)
    arm_crash(world, point, "acm.DeleteCertificate")
    sent = len(world.sink.bodies)

    assert deliver_until_done(world, delete_event(arn, props)) == 1

    assert [b["Status"] for b in world.sink.bodies[sent:]] == ["SUCCESS"]
    assert world.certificates() == []


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("AccessDeniedException", 403),
        ("RecursiveInvocationException", 400),
        ("TooManyRequestsException", 429),
    ],
)
def test_refused_hand_off_sends_failed_with_the_arn(world: World, code: str, status: int) -> None:
    world.hooks["lambda.Invoke"] = lambda params: error_answer(code, "refused", status)
    world.lam.run(make_event(DomainName="example.com"))

    [cert] = world.certificates()
    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == cert.arn
    assert code in body["Reason"] and "re-invoke" in body["Reason"]


@pytest.mark.parametrize(
    ("code", "status"), [("ThrottlingException", 400), ("InternalFailure", 500)]
)
def test_throttling_and_5xx_back_off_and_continue(world: World, code: str, status: int) -> None:
    world.issue_after(10 * 60)
    errors: list[float] = []

    def flaky(params: dict[str, Any]) -> Any:
        if 60 <= world.clock.elapsed < 300:
            errors.append(world.clock.elapsed)
            return error_answer(code, "slow down", status)
        return None

    world.hooks["acm.DescribeCertificate"] = flaky
    world.lam.run(make_event(DomainName="example.com"))

    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]
    assert len(errors) >= 3
    gaps = [b - a for a, b in itertools.pairwise(errors)]
    assert gaps[-1] > gaps[0], "the interval grows while AWS pushes back"


def test_route53_throttling_is_retried(world: World) -> None:
    zone = world.hosted_zone()
    world.issue_after(10 * 60)
    refusals: list[int] = []

    def throttled_twice(params: dict[str, Any]) -> Any:
        if len(refusals) < 2:
            refusals.append(1)
            return error_answer("Throttling", "Rate exceeded", 400)
        return None

    world.hooks["route53.ChangeResourceRecordSets"] = throttled_twice
    world.lam.run(make_event(DomainName="example.com", HostedZoneId=zone))

    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]
    assert len(world.records(zone)) == 1 and len(refusals) == 2


def test_duplicate_delivery_of_every_hop_gives_one_certificate_and_identical_answers(
    world: World,
) -> None:
    world.issue_after(50 * 60)
    world.lam.queue.append(make_event(DomainName="example.com"))
    delivered = 0
    while world.lam.queue:
        event = world.lam.queue.pop(0)
        for _ in range(2):
            world.lam.invoke(event)
            delivered += 1
        assert delivered < 200

    assert len(world.certificates()) == 1
    assert len(world.sink.bodies) >= 2
    assert all(body == world.sink.bodies[0] for body in world.sink.bodies)
    assert world.sink.bodies[0]["Status"] == "SUCCESS"


@pytest.mark.parametrize(
    "event",
    [
        None,
        "garbage",
        [],
        {},
        {"RequestType": "Create"},
        {**make_event(), "RequestType": "Destroy"},
        {**make_event(), "StackId": 42},
        {**make_event(), "ResponseURL": "not a url"},
        {**make_event(), "ResourceProperties": "x"},
        {**make_event("Update"), "PhysicalResourceId": "arn", "OldResourceProperties": None},
        {**make_event("Delete")},
        {**make_event(), "WaitForCertificate": {"Hop": "two"}},
    ],
)
def test_an_event_that_is_not_a_request_is_rejected_without_any_put(
    world: World, event: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        world.provider(event, None)
    assert world.sink.bodies == []
    assert world.calls == []
    assert "not a CloudFormation request" in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?s=1",
        "https://attacker.example.com/collect?s=1",
        "http://127.0.0.1:9/x?s=1",
    ],
)
def test_unsafe_response_url_is_refused_loudly_without_a_put(
    world: World, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    event = {**make_event(DomainName="example.com"), "ResponseURL": url}
    with caplog.at_level(logging.INFO):
        invocations = world.lam.run(event)
    assert world.sink.bodies == []
    assert world.certificates() == []
    assert [i.outcome for i in invocations] == ["error"] * 3, "the invocation fails, visibly"
    assert {(i.error or {}).get("errorType") for i in invocations} == {"UnsafeResponseURLError"}
    assert len(world.lam.given_up) == 1, "Lambda hands it to the responder in the end"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("Refusing to answer" in e and mask_url(url) in e for e in errors)
    assert "s=1" not in caplog.text


def test_the_full_response_url_never_appears_in_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.issue_after(20 * 60)
    with caplog.at_level(logging.DEBUG):
        world.lam.run(make_event(DomainName="example.com"))
    assert "secret-signature" not in caplog.text
    assert RESPONSE_URL.split("?")[0] in caplog.text
