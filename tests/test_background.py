"""12-hour mode: answer early, wait on in hops, signal the handle once.

Run one by hand: ``.venv/bin/pytest tests/test_background.py -k five_hours -s``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from custom_resource.background import hop_cap
from custom_resource.relay_state import RELAY_KEY
from custom_resource.response import ResponseNotDeliveredError, UnsafeResponseURLError
from custom_resource.settings import Settings
from tests.conftest import WAIT_HANDLE, World, error_answer, make_event
from tests.lifecycle_helpers import (
    Crash,
    create,
    delete_event,
    destination_record,
    update_event,
)
from tests.test_responder import answer

HOURS = 3600
NEW_HANDLE = WAIT_HANDLE.replace("/Handle?", "/Handle2?")


def run_chain(world: World, event: dict[str, Any]) -> int:
    """Deliver ``event`` and every hop it hands off to; return the number of invocations."""
    return len(world.lam.run(event, max_invocations=200))


def run_until_answered(world: World, event: dict[str, Any]) -> None:
    """Run hops until CloudFormation has its response; later hops stay queued."""
    world.lam.queue.append(event)
    while not world.sink.bodies:
        world.lam.invoke(world.lam.queue.pop(0))


def test_a_certificate_issued_after_five_hours(world: World) -> None:
    zone = world.hosted_zone()
    world.issue_after(5 * HOURS)
    event = make_event(DomainName="example.com", HostedZoneId=zone, WaitConditionHandle=WAIT_HANDLE)

    hops = run_chain(world, event)

    [response] = world.sink.bodies
    [arn] = [c.arn for c in world.certificates()]
    assert response["Status"] == "SUCCESS" and response["PhysicalResourceId"] == arn
    assert response["Data"]["Arn"] == arn
    [record] = world.records(zone)
    assert response["Data"]["ValidationRecordName"] == record["Name"]
    assert world.sink.times[0] - world.clock.start < 120, "answered once the records are known"
    [signal] = world.signals.bodies
    assert signal == {**signal, "Status": "SUCCESS", "UniqueId": arn, "Data": arn}
    assert world.signals.urls == [WAIT_HANDLE]
    assert 5 * HOURS <= world.signals.times[0] - world.clock.start < 5 * HOURS + 120
    assert hops >= 20


def test_a_certificate_that_never_issues_fails_at_the_wait_timeout(world: World) -> None:
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)

    hops = run_chain(world, event)

    [response] = world.sink.bodies
    assert response["Status"] == "SUCCESS"
    [signal] = world.signals.bodies
    [certificate] = world.certificates()
    assert signal["Status"] == "FAILURE" and signal["UniqueId"] == certificate.arn
    record = response["Data"]["ValidationRecordName"]
    assert "WaitTimeout" in signal["Reason"] and record in signal["Reason"]
    elapsed = world.signals.times[0] - world.clock.start
    assert 12 * HOURS - 200 <= elapsed <= 12 * HOURS
    assert 50 <= hops <= hop_cap(12 * HOURS, 900, Settings())
    slowest_jittered_poll = Settings().poll_max_seconds * 0.75
    assert world.calls_to("DescribeCertificate") <= 12 * HOURS / slowest_jittered_poll + 60, (
        "a background wait polls at the cap: it shares the account's rate for hours"
    )


def test_a_shorter_wait_timeout_is_honoured(world: World) -> None:
    event = make_event(
        DomainName="example.com", WaitConditionHandle=WAIT_HANDLE, WaitTimeout="7200"
    )

    run_chain(world, event)

    [signal] = world.signals.bodies
    assert signal["Status"] == "FAILURE"
    assert 7200 - 200 <= world.signals.times[0] - world.clock.start <= 7200


def test_a_terminal_status_is_signalled_as_failure(world: World) -> None:
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    world.clock.at(3 * HOURS, lambda: world.set_status("FAILED", reason="CAA_ERROR"))

    run_chain(world, event)

    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]
    [signal] = world.signals.bodies
    assert signal["Status"] == "FAILURE" and "CAA_ERROR" in signal["Reason"]


def test_delete_during_the_background_wait_stops_it_without_a_signal(world: World) -> None:
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    run_until_answered(world, event)
    arn = world.sink.last["PhysicalResourceId"]
    waiting = list(world.lam.queue)
    world.lam.queue.clear()

    world.lam.run(delete_event(arn, event["ResourceProperties"]))
    assert world.sink.last["Status"] == "SUCCESS" and world.certificates() == []
    world.lam.queue.extend(waiting)
    world.lam.run(world.lam.queue.pop(0))

    assert world.lam.queue == []
    assert world.signals.bodies == []
    assert len(world.sink.bodies) == 2, "one response per request"


def test_a_replaced_resource_ends_the_wait_with_a_failure_signal(world: World) -> None:
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    run_until_answered(world, event)
    world.stack_holds("arn:aws:acm:eu-west-1:123456789012:certificate/another")

    world.lam.run(world.lam.queue.pop(0))

    [signal] = world.signals.bodies
    assert signal["Status"] == "FAILURE" and "no longer" in signal["Reason"]
    assert len(world.sink.bodies) == 1


def test_a_stack_that_cannot_be_read_does_not_end_the_wait(world: World) -> None:
    world.issue_after(2 * HOURS)
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    world.hooks["cloudformation.DescribeStackResource"] = lambda params: error_answer(
        "AccessDenied", "no"
    )

    run_chain(world, event)

    [signal] = world.signals.bodies
    assert signal["Status"] == "SUCCESS"


def test_the_chain_never_passes_its_hop_cap(world: World) -> None:
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    run_until_answered(world, event)
    [payload] = world.lam.queue
    cap = hop_cap(12 * HOURS, 900, Settings())
    payload[RELAY_KEY]["Hop"] = cap

    world.lam.queue.clear()
    invocations = world.lam.run(payload)

    assert len(invocations) == 1, "the hop at the cap hands off to no other"
    [signal] = world.signals.bodies
    assert signal["Status"] == "FAILURE" and f"cap of {cap} invocations" in signal["Reason"]
    assert len(world.sink.bodies) == 1


def test_a_one_hour_wait_is_capped_too(world: World) -> None:
    event = make_event(DomainName="example.com")
    world.lam.invoke(event)
    [payload] = world.lam.queue
    world.lam.queue.clear()
    payload[RELAY_KEY]["Hop"] = hop_cap(3600, 900, Settings())

    assert len(world.lam.run(payload)) == 1
    [body] = world.sink.bodies
    assert body["Status"] == "FAILED" and "cap of 7 invocations" in body["Reason"]


def test_a_background_hop_delivered_twice_signals_one_unique_id(world: World) -> None:
    world.issue_after(HOURS)
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    run_until_answered(world, event)
    [payload] = world.lam.queue
    world.lam.queue.append(copy.deepcopy(payload))  # Lambda delivered it twice

    run_chain(world, world.lam.queue.pop(0))

    assert {s["UniqueId"] for s in world.signals.bodies} == {world.sink.last["PhysicalResourceId"]}
    assert len(world.sink.bodies) == 1


def test_the_responder_signals_failure_to_the_handle_not_the_response_url(world: World) -> None:
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    run_until_answered(world, event)
    [payload] = world.lam.queue

    answer(world, destination_record(payload, error=RuntimeError("Task timed out")))

    assert len(world.sink.bodies) == 1, "CloudFormation is never answered twice"
    [signal] = world.signals.bodies
    assert signal["Status"] == "FAILURE" and "Lambda gave up" in signal["Reason"]
    assert signal["UniqueId"] == world.sink.last["PhysicalResourceId"]


# Update semantics: a WaitCondition handle serves one wait.


def test_an_update_replacing_with_the_same_handle_fails_naming_it(world: World) -> None:
    arn, props = create(world, DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    requested = world.calls_to("acm.RequestCertificate")

    world.lam.run(update_event(arn, props, DomainName="example.org"))

    assert world.sink.last["Status"] == "FAILED"
    assert "WaitConditionHandle" in world.sink.last["Reason"]
    assert world.calls_to("acm.RequestCertificate") == requested


def test_an_update_replacing_with_a_new_handle_answers_early_and_signals_it(
    world: World,
) -> None:
    arn, props = create(world, DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    world.issue_after(world.clock.elapsed + 3 * HOURS)
    signals = len(world.signals.bodies)

    update = update_event(arn, props, DomainName="example.org", WaitConditionHandle=NEW_HANDLE)
    run_chain(world, update)

    new = world.sink.last["PhysicalResourceId"]
    assert world.sink.last["Status"] == "SUCCESS" and new != arn
    assert world.signals.urls[signals:] == [NEW_HANDLE]
    assert world.signals.bodies[-1] == {
        **world.signals.bodies[-1],
        "Status": "SUCCESS",
        "Data": new,
    }


def test_an_update_in_place_with_a_new_handle_signals_it_at_once(world: World) -> None:
    arn, props = create(world, DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)

    world.lam.run(update_event(arn, props, WaitConditionHandle=NEW_HANDLE))

    assert world.sink.last == {**world.sink.last, "Status": "SUCCESS", "PhysicalResourceId": arn}
    assert world.signals.urls[-1] == NEW_HANDLE
    assert world.signals.bodies[-1]["Status"] == "SUCCESS"


def test_an_update_without_a_handle_waits_as_usual(world: World) -> None:
    arn, props = create(world, DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    signals = len(world.signals.bodies)

    world.issue_after(world.clock.elapsed + 600)
    world.lam.run(update_event(arn, props, DomainName="example.org", WaitConditionHandle=None))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] != arn
    assert len(world.signals.bodies) == signals


def test_the_handle_is_never_logged_in_full(world: World, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    world.issue_after(HOURS)

    run_chain(world, make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE))

    assert world.signals.bodies and "Signalling SUCCESS" in caplog.text
    assert "s3cret" not in caplog.text


def test_a_background_hop_of_another_provider_version_signals_failure(world: World) -> None:
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    run_until_answered(world, event)
    [payload] = world.lam.queue
    world.lam.queue.clear()
    payload[RELAY_KEY]["Version"] = 99

    world.lam.run(payload)

    assert len(world.sink.bodies) == 1, "CloudFormation is never answered twice"
    [signal] = world.signals.bodies
    assert signal["Status"] == "FAILURE" and "another version" in signal["Reason"]


def test_a_bad_handle_fails_before_anything_is_requested(world: World) -> None:
    bad = WAIT_HANDLE.replace("cloudformation-waitcondition", "attacker-bucket")

    world.lam.run(make_event(DomainName="example.com", WaitConditionHandle=bad))

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED" and "WaitConditionHandle" in body["Reason"]
    assert "attacker" not in body["Reason"] and world.calls == []


def test_an_undelivered_signal_fails_the_invocation_then_the_responder_signals(
    world: World,
) -> None:
    world.issue_after(HOURS)
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    run_until_answered(world, event)
    world.signals.statuses = [503] * 5
    last = None
    with pytest.raises(ResponseNotDeliveredError, match=r"signal was not accepted"):
        while world.lam.queue:
            last = world.lam.queue.pop(0)
            world.lam.invoke(last)

    assert last is not None and world.signals.bodies[:5] and len(world.sink.bodies) == 1
    answer(world, destination_record(last, error=RuntimeError("not accepted")))
    assert world.signals.bodies[-1]["Status"] == "FAILURE"
    assert len(world.sink.bodies) == 1


def test_email_validation_answers_at_once_and_signals_when_approved(world: World) -> None:
    world.issue_after(8 * HOURS)
    event = make_event(
        DomainName="example.com", ValidationMethod="EMAIL", WaitConditionHandle=WAIT_HANDLE
    )

    run_chain(world, event)

    [response] = world.sink.bodies
    assert response["Status"] == "SUCCESS" and world.sink.times[0] - world.clock.start < 60
    [signal] = world.signals.bodies
    assert signal["Status"] == "SUCCESS" and signal["Data"] == response["PhysicalResourceId"]


# Reads that fail never end a wait.


@pytest.mark.parametrize(
    "fault",
    [
        lambda params: _raise(EndpointConnectionError(endpoint_url="https://cloudformation")),
        lambda params: error_answer("Throttling", "Rate exceeded"),
        lambda params: error_answer("InternalFailure", "oops", 500),
    ],
    ids=["network", "throttling", "5xx"],
)
def test_a_failed_read_of_the_stack_does_not_end_the_wait(world: World, fault: Any) -> None:
    world.issue_after(2 * HOURS)
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    world.hooks["cloudformation.DescribeStackResource"] = fault

    run_chain(world, event)

    [signal] = world.signals.bodies
    assert signal["Status"] == "SUCCESS"


def _raise(exc: Exception) -> Any:
    raise exc


def test_a_resource_still_in_progress_does_not_end_the_wait(world: World) -> None:
    """CloudFormation may not yet have taken the new id from the answer: not a replacement."""
    world.issue_after(HOURS)
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)

    def in_progress(params: dict[str, Any]) -> Any:
        detail = {"PhysicalResourceId": "", "ResourceStatus": "CREATE_IN_PROGRESS"}
        return error_answer_ok({"StackResourceDetail": detail})

    world.hooks["cloudformation.DescribeStackResource"] = in_progress
    run_chain(world, event)

    [signal] = world.signals.bodies
    assert signal["Status"] == "SUCCESS"


def error_answer_ok(answer: dict[str, Any]) -> Any:
    """What a ``before-call`` hook returns for a successful answer."""
    http, _ = error_answer("", "", 200)
    return http, {**answer, "ResponseMetadata": {"HTTPStatusCode": 200}}


# Once CloudFormation is answered, only the handle hears from the provider.


def test_a_signal_refused_after_an_answer_at_once_is_retried_from_the_answered_state(
    world: World,
) -> None:
    arn, props = create(world, DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    world.signals.statuses = [503] * 5  # every attempt of the first signalling invocation
    update = update_event(arn, props, WaitConditionHandle=NEW_HANDLE)

    invocations = world.lam.run(update)

    answers = [b for b in world.sink.bodies if b["RequestId"] == update["RequestId"]]
    assert [a["Status"] for a in answers] == ["SUCCESS"], "CloudFormation heard once"
    assert world.signals.urls[-1] == NEW_HANDLE
    assert world.signals.bodies[-1] == {**world.signals.bodies[-1], "Status": "SUCCESS"}
    retried = [i for i in invocations if i.attempt > 1]
    assert retried and all(i.hop > 1 for i in retried), "Lambda retries the answered hop"


def test_a_signal_refused_after_the_early_answer_reaches_the_handle_not_cloudformation(
    world: World,
) -> None:
    world.lam.destination = lambda record: answer(world, record)
    world.issue_after(300)  # in the hop that answered early
    world.signals.statuses = [503] * 15  # every attempt of every delivery
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)

    run_chain(world, event)

    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"], "CloudFormation heard once"
    [record] = world.lam.given_up
    assert record["requestPayload"][RELAY_KEY]["Memo"]["Answered"] is True
    assert world.signals.urls[-1] == WAIT_HANDLE
    assert world.signals.bodies[-1]["Status"] == "FAILURE"
    assert "Lambda gave up" in world.signals.bodies[-1]["Reason"]


def test_a_refused_hand_off_after_the_answer_signals_and_never_fails_the_answering_invocation(
    world: World,
) -> None:
    world.hooks["lambda.Invoke"] = lambda params: error_answer(
        "AccessDeniedException", "not allowed", 403
    )
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)

    invocations = world.lam.run(event)

    assert [i.outcome for i in invocations] == ["returned"], "no retry of the answered event"
    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]
    [signal] = world.signals.bodies
    assert signal["Status"] == "FAILURE" and "re-invoke" in signal["Reason"]


def test_a_first_hop_that_died_after_its_early_answer_is_retried_into_a_signal(
    world: World,
) -> None:
    """The answering hop dies at its hand-off (the process, not a refusal it could catch):
    Lambda retries the original event, which does not know it was answered. The stack
    does: the retry, finding the certificate FAILED, signals the handle instead of giving
    CloudFormation a second answer nobody hears."""
    died: list[bool] = []

    def die_once(params: dict[str, Any]) -> Any:
        if not died:
            died.append(True)
            raise Crash("the process ends at the hand-off")
        return None

    world.hooks["lambda.Invoke"] = die_once
    world.stack_holds()
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    world.clock.at(30, lambda: world.set_status("FAILED", reason="CAA_ERROR"))

    invocations = world.lam.run(event)

    assert [i.outcome for i in invocations][:1] != ["returned"], "the first one died"
    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]
    [signal] = world.signals.bodies
    assert signal["Status"] == "FAILURE" and "CAA_ERROR" in signal["Reason"]


def test_a_handle_the_provider_does_not_signal_fails_the_hop_loudly(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    run_until_answered(world, event)
    [payload] = world.lam.queue
    world.lam.queue.clear()
    bad = WAIT_HANDLE.replace("amazonaws.com", "amazonaws.example")
    payload["ResourceProperties"]["WaitConditionHandle"] = bad

    with caplog.at_level(logging.INFO), pytest.raises(UnsafeResponseURLError):
        world.lam.invoke(payload)

    assert any(
        r.levelno == logging.ERROR and "Refusing to signal" in r.getMessage()
        for r in caplog.records
    )
    assert world.signals.bodies == [] and len(world.sink.bodies) == 1
    with caplog.at_level(logging.INFO), pytest.raises(UnsafeResponseURLError):
        answer(world, destination_record(payload, error=RuntimeError("refused")))
    assert world.signals.bodies == [] and len(world.sink.bodies) == 1


def test_the_responder_of_an_answered_hop_left_to_signal_names_its_certificate(
    world: World,
) -> None:
    arn, props = create(world, DomainName="example.com", WaitConditionHandle=WAIT_HANDLE)
    world.lam.destination = lambda record: answer(world, record)
    world.signals.statuses = [503] * 15  # every attempt of every delivery
    update = update_event(arn, props, WaitConditionHandle=NEW_HANDLE)

    world.lam.run(update)

    answers = [b for b in world.sink.bodies if b["RequestId"] == update["RequestId"]]
    assert [a["Status"] for a in answers] == ["SUCCESS"]
    assert world.signals.urls[-1] == NEW_HANDLE
    assert world.signals.bodies[-1] == {
        **world.signals.bodies[-1],
        "Status": "FAILURE",
        "UniqueId": arn,
        "Data": arn,
    }
