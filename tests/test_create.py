"""Create: request once, write records, wait across hops, answer once."""

from __future__ import annotations

from custom_resource.request import idempotency_token
from tests.conftest import REGION, STACK_ID, World, make_event


def test_issued_within_first_invocation_sends_one_success(world: World) -> None:
    world.issue_after(40)
    invocations = world.lam.run(make_event(DomainName="www.example.com"))

    assert len(invocations) == 1 and not invocations[0].handed_off
    [cert] = world.certificates()
    assert len(world.sink.bodies) == 1
    body = world.sink.last
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == cert.arn
    assert body["Data"]["Arn"] == cert.arn
    assert body["Data"]["DomainName"] == "www.example.com"
    assert world.clock.elapsed < 90


def test_issued_after_three_hops_sends_one_success_and_carries_state(world: World) -> None:
    world.issue_after(50 * 60)
    event = make_event(DomainName="example.com", SubjectAlternativeNames=["*.example.com"])
    invocations = world.lam.run(event)

    assert len(invocations) >= 4, "a 50-minute wait spans at least 3 re-invocations"
    assert [i.hop for i in invocations] == list(range(1, len(invocations) + 1))
    assert all(i.handed_off for i in invocations[:-1]) and not invocations[-1].handed_off
    assert len(world.certificates()) == 1
    assert len(world.sink.bodies) == 1
    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == world.certificates()[0].arn
    assert world.sink.times[0] - world.clock.start >= 50 * 60


def test_relay_payload_is_the_original_event_plus_namespaced_state(world: World) -> None:
    world.issue_after(20 * 60)
    event = make_event(DomainName="example.com")
    world.lam.queue.append(event)
    world.lam.invoke(world.lam.queue.pop(0))

    [payload] = world.lam.queue
    state = payload.pop("WaitForCertificate")
    assert payload == event
    assert state["Hop"] == 2
    assert state["Memo"]["CertificateArn"] == world.certificates()[0].arn
    assert state["RequestedAt"] == world.clock.start, "no signing time in the URL: the first hop"
    assert state["Version"] == 2
    assert state["Deadline"] == world.clock.start + 3600 - 180
    assert world.sink.bodies == []


def test_later_hops_never_request_a_second_certificate(world: World) -> None:
    world.issue_after(55 * 60)
    world.lam.run(make_event(DomainName="example.com"))
    assert len(world.certificates()) == 1
    assert world.sink.last["Status"] == "SUCCESS"


def test_same_event_delivered_twice_yields_one_certificate(world: World) -> None:
    world.issue_after(30)
    event = make_event(DomainName="example.com")
    world.lam.run(event)
    world.lam.run(event)

    [cert] = world.certificates()
    assert [b["PhysicalResourceId"] for b in world.sink.bodies] == [cert.arn, cert.arn]
    assert world.sink.bodies[0] == world.sink.bodies[1]


def test_idempotency_token_is_32_word_characters_and_request_specific() -> None:
    token = idempotency_token(STACK_ID, "Certificate", "request-1")
    assert len(token) == 32 and token.isalnum()
    assert token == idempotency_token(STACK_ID, "Certificate", "request-1")
    assert token != idempotency_token(STACK_ID, "Certificate", "request-2")
    assert token != idempotency_token(STACK_ID, "Other", "request-1")


def test_region_property_puts_the_certificate_there(world: World) -> None:
    world.issue_after(30, region="us-east-1")
    world.lam.run(make_event(DomainName="cdn.example.com", Region="us-east-1"))

    [cert] = world.certificates("us-east-1")
    assert world.certificates(REGION) == []
    assert ":us-east-1:" in cert.arn
    assert world.sink.last["PhysicalResourceId"] == cert.arn
