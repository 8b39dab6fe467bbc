"""The last-resort responder: Lambda gave up on an event, the stack hears FAILED.

Records are Lambda's on-failure invocation records, built around events the provider
really handled (the emulator's own record, ``tools/emulator/destination.py``); the
responder shares the world's response sink, which checks CloudFormation's protocol on
every PUT.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from custom_resource import responder as responder_module
from custom_resource.certificates.certificate import is_certificate_arn
from custom_resource.lifecycle import certificate_named_by, physical_id_for
from custom_resource.progress import Failed
from custom_resource.request import RELAY_KEY, parse_request
from custom_resource.responder import Responder
from custom_resource.response import ResponseNotDeliveredError, UnsafeResponseURLError
from tests.conftest import RESPONSE_URL, FakeContext, World, make_event
from tests.flaky_put import flaky_sender
from tests.lifecycle_helpers import (
    DELIVERIES,
    Crash,
    create,
    delete_event,
    destination_record,
    update_event,
)

LOG_GROUP = "/aws/lambda/wait-for-certificate-Function-AbC123"


def answer(world: World, record: Any) -> None:
    Responder(world.runtime, log_group=LOG_GROUP)(record, FakeContext(world.clock, 60))


def hop_payload(world: World, event: dict[str, Any]) -> dict[str, Any]:
    """The payload of the hop after ``event``'s first one: it carries the relay state."""
    world.lam.invoke(event)
    [payload] = world.lam.queue
    assert RELAY_KEY in payload
    return payload


def test_a_create_whose_relay_names_a_certificate_fails_with_its_arn(world: World) -> None:
    event = make_event(DomainName="example.com")
    payload = hop_payload(world, event)
    [certificate] = world.certificates()

    answer(world, destination_record(payload, error=RuntimeError("Task timed out")))

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == certificate.arn
    assert body["RequestId"] == event["RequestId"]
    reason = body["Reason"]
    assert "RetriesExhausted" in reason and "after 3 attempt(s)" in reason
    assert "RuntimeError: Task timed out" in reason
    assert LOG_GROUP in reason


def test_its_rollback_delete_removes_the_certificate(world: World) -> None:
    event = make_event(DomainName="example.com")
    answer(world, destination_record(hop_payload(world, event)))
    arn = world.sink.last["PhysicalResourceId"]

    world.lam.queue.clear()  # Lambda gave up on that chain
    world.lam.run(delete_event(arn, event["ResourceProperties"]))

    assert world.certificates() == []
    assert world.sink.last["Status"] == "SUCCESS"


def test_a_create_without_relay_state_gets_the_create_failed_marker(world: World) -> None:
    event = make_event(DomainName="example.com")

    answer(world, destination_record(event, condition="EventAgeExceeded", attempts=0))

    [body] = world.sink.bodies
    request = parse_request(event)
    assert body["PhysicalResourceId"] == physical_id_for(request, Failed("x"))
    assert not is_certificate_arn(body["PhysicalResourceId"])
    assert "EventAgeExceeded" in body["Reason"] and "maximum event age" in body["Reason"]
    assert world.calls == [], "the responder calls no AWS API"


def test_an_unknown_condition_is_quoted_as_is(world: World) -> None:
    answer(world, destination_record(make_event(DomainName="example.com"), condition="Other"))
    assert "(Other, after 3 attempt(s))" in world.sink.last["Reason"]


def test_an_update_answers_its_old_id_and_deletes_the_replacement_it_requested(
    world: World,
) -> None:
    old_arn, props = create(world, DomainName="example.com")
    world.issue_after(10**9)
    update = update_event(old_arn, props, DomainName="example.org")
    payload = hop_payload(world, update)
    replacement = next(c.arn for c in world.certificates() if c.arn != old_arn)
    sent = len(world.sink.bodies)

    answer(world, destination_record(payload))

    [body] = world.sink.bodies[sent:]
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == old_arn
    assert f"the replacement certificate {replacement} was deleted" in body["Reason"]
    assert [c.arn for c in world.certificates()] == [old_arn]


def test_a_responder_that_crashes_while_deleting_a_replacement_leaves_no_record(
    world: World,
) -> None:
    """The replacement's records go first: a crash right after DeleteCertificate, and the
    responder's retry (which finds no replacement by its tags any more) still leaves none."""
    zone = world.hosted_zone("example.org")
    old_arn, props = create(world, DomainName="example.org", HostedZoneId=zone)
    props = {**props, "RemoveValidationRecords": "true"}
    world.issue_after(10**9)
    update = update_event(old_arn, props, DomainName="www.example.org")
    record = destination_record(hop_payload(world, update))
    assert len(world.records(zone)) == 2, "the old certificate's and the replacement's"
    world.after_hooks["acm.DeleteCertificate"] = crash_once()

    with pytest.raises(Crash):
        answer(world, record)
    answer(world, record)

    assert [c.arn for c in world.certificates()] == [old_arn]
    assert len(world.records(zone)) == 1, "only the record the old certificate needs"
    assert world.sink.last["PhysicalResourceId"] == old_arn


def crash_once() -> Any:
    crashed: list[bool] = []

    def after() -> None:
        if not crashed:
            crashed.append(True)
            raise Crash("after acm.DeleteCertificate")

    return after


def test_a_responder_leaves_the_replacement_another_delivery_answered_with(
    world: World,
) -> None:
    """Lambda delivered the Update twice: one chain answered SUCCESS with the replacement,
    the stack holds it; Lambda gave up on the other, whose responder must not delete it."""
    old_arn, props = create(world, DomainName="example.com")
    update = update_event(old_arn, props, DomainName="example.org")
    world.issue_after(world.clock.elapsed + 30)
    world.lam.run(update)
    replacement = world.sink.last["PhysicalResourceId"]
    assert world.sink.last["Status"] == "SUCCESS" and replacement != old_arn
    world.stack_holds()

    answer(world, destination_record(update))

    assert replacement in [c.arn for c in world.certificates()]
    assert "was deleted" not in world.sink.last["Reason"]


def test_a_delete_answers_its_own_id(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    sent = len(world.sink.bodies)

    answer(world, destination_record(delete_event(arn, props)))

    [body] = world.sink.bodies[sent:]
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", arn)


def test_a_second_record_for_the_same_request_repeats_the_same_answer(world: World) -> None:
    record = destination_record(hop_payload(world, make_event(DomainName="example.com")))

    answer(world, record)
    answer(world, record)

    first, second = world.sink.bodies
    assert first == second


def test_unreadable_relay_state_still_gets_an_answer(world: World) -> None:
    event = {**make_event(DomainName="example.com"), RELAY_KEY: {"Hop": "two"}}

    answer(world, destination_record(event))

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED" and "relay state" in body["Reason"]


def test_urls_in_the_last_error_are_masked(world: World) -> None:
    error = ResponseNotDeliveredError(f"not accepted by {RESPONSE_URL}")
    answer(world, destination_record(make_event(DomainName="example.com"), error=error))
    assert "secret-signature" not in world.sink.last["Reason"]
    assert RESPONSE_URL.split("?")[0] + "?***" in world.sink.last["Reason"]


@pytest.mark.parametrize(
    "record",
    [
        None,
        "garbage",
        [],
        {},
        {"requestPayload": make_event(DomainName="example.com")},
        {"requestContext": "x", "requestPayload": make_event(DomainName="example.com")},
        destination_record(make_event(DomainName="example.com"), condition=""),
        destination_record(make_event(DomainName="example.com"), condition="Success"),
        destination_record({"Records": [{"eventSource": "aws:s3"}]}),
        destination_record({**make_event(DomainName="example.com"), "RequestType": "Destroy"}),
        make_event(DomainName="example.com"),
    ],
    ids=[
        "none",
        "string",
        "list",
        "empty",
        "no-context",
        "bad-context",
        "no-condition",
        "success",
        "not-cloudformation",
        "bad-request-type",
        "bare-request",
    ],
)
def test_a_record_without_a_failed_cloudformation_request_gets_no_answer(
    world: World, record: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        answer(world, record)
    assert world.sink.bodies == []
    assert "holds no CloudFormation request" in caplog.text


def test_an_unsafe_response_url_gets_no_answer_and_fails_the_responder(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    event = {**make_event(DomainName="example.com"), "ResponseURL": "https://evil.example/x?s=1"}
    with caplog.at_level(logging.INFO), pytest.raises(UnsafeResponseURLError):
        answer(world, destination_record(event))
    assert world.sink.bodies == []
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("Refusing to answer" in e and "https://evil.example/x?***" in e for e in errors)
    assert "s=1" not in caplog.text


def test_a_response_url_that_fails_fails_the_responder_too(world: World) -> None:
    put = flaky_sender(world, failures=5)
    with pytest.raises(ResponseNotDeliveredError):
        answer(world, destination_record(make_event(DomainName="example.com")))
    assert put.attempts == 5 and world.sink.bodies == []


def test_when_every_delivery_fails_the_responder_answers_and_the_rollback_cleans_up(
    world: World,
) -> None:
    """The whole path: hop 2's answer is undeliverable 3 times, then the destination."""
    world.issue_after(20 * 60)
    put = flaky_sender(world, failures=3 * 5)
    event = make_event(DomainName="example.com")
    world.lam.destination = lambda record: answer(world, record)

    invocations = world.lam.run(event)

    assert len([i for i in invocations if i.failed]) == DELIVERIES
    [record] = world.lam.given_up
    assert record["requestPayload"][RELAY_KEY]["Hop"] == 2
    [certificate] = world.certificates()
    [body] = world.sink.bodies
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", certificate.arn)
    assert "ResponseNotDeliveredError" in body["Reason"]
    assert put.attempts == 3 * 5 + 1

    world.lam.run(delete_event(certificate.arn, event["ResourceProperties"]))
    assert world.certificates() == []


def test_certificate_named_by_reads_only_create_and_update_relay_state(world: World) -> None:
    payload = hop_payload(world, make_event(DomainName="example.com"))
    [certificate] = world.certificates()
    assert certificate_named_by(parse_request(payload)) == certificate.arn
    as_delete = {**payload, "RequestType": "Delete", "PhysicalResourceId": certificate.arn}
    assert certificate_named_by(parse_request(as_delete)) is None
    assert certificate_named_by(parse_request(make_event(DomainName="example.com"))) is None
    not_an_arn = {**payload, RELAY_KEY: {**payload[RELAY_KEY], "Memo": {"CertificateArn": "x"}}}
    assert certificate_named_by(parse_request(not_an_arn)) is None


def test_the_lambda_handler_names_the_log_group_from_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(responder_module, "_responder", None)
    monkeypatch.setenv(responder_module.LOG_GROUP_VARIABLE, LOG_GROUP)
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", root.level)

    responder_module.handler({"not": "a record"}, None)

    assert responder_module._responder is not None
    assert responder_module._responder.log_group == LOG_GROUP


def test_a_wait_of_an_older_provider_version_still_names_its_certificate(world: World) -> None:
    event = make_event(DomainName="example.com")
    payload = hop_payload(world, event)
    [certificate] = world.certificates()
    state = payload[RELAY_KEY]
    payload[RELAY_KEY] = {  # the unversioned format of version 1
        "Hop": state["Hop"],
        "StartedAt": state["RequestedAt"],
        "Deadline": state["Deadline"],
        "Interval": state["Interval"],
        "Memo": state["Memo"],
    }

    answer(world, destination_record(payload))

    body = world.sink.last
    assert body["PhysicalResourceId"] == certificate.arn
    assert "could not be read" in body["Reason"]
