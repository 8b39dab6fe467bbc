"""The local Lambda (tools/emulator): virtual time, async delivery, retries, timeout, destination.

Everything runs on the virtual clock: no test here waits for real or reads a real clock.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from tests.conftest import World, make_event
from tools.emulator import (
    DeadlineExceeded,
    FunctionConfig,
    FunctionTimeout,
    Invocation,
    LambdaContext,
    LambdaService,
    Pacer,
    Stalled,
    VirtualClock,
    from_template,
)

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:f"


class Crash(BaseException):
    """Stands for the process dying: nothing in the function can catch it."""


class Script:
    """A function that sleeps as its event says and fails the first ``failures`` times."""

    def __init__(self, clock: VirtualClock, failures: int = 0, sleep: float = 0.0) -> None:
        self.clock = clock
        self.failures = failures
        self.sleep = sleep
        self.environments = 0

    def new_environment(self) -> Any:
        self.environments += 1

        def handler(event: dict[str, Any], context: LambdaContext) -> Any:
            self.clock.sleep(event.get("sleep", self.sleep))
            if self.failures:
                self.failures -= 1
                raise ValueError("boom")
            return {"left": context.get_remaining_time_in_millis()}

        return handler


def trail(invocations: list[Invocation]) -> list[tuple[int, int, str]]:
    """(hop, attempt, outcome) of each invocation, in order."""
    return [(i.hop, i.attempt, i.outcome) for i in invocations]


def service(script: Script, config: FunctionConfig | None = None, **kwargs: Any) -> LambdaService:
    return LambdaService(
        script.clock, script.new_environment, config or FunctionConfig(ARN), **kwargs
    )


# The clock.


def test_participants_and_timers_interleave_in_virtual_time() -> None:
    clock = VirtualClock(start=0.0)
    seen: list[tuple[str, float]] = []

    def sleeper(name: str, naps: list[float]) -> None:
        for nap in naps:
            clock.sleep(nap)
            seen.append((name, clock()))

    clock.spawn(lambda: sleeper("a", [5, 5]))
    clock.spawn(lambda: sleeper("b", [3, 4]), delay=1)
    clock.at(6, lambda: seen.append(("timer", clock())))
    clock.run()
    assert seen == [("b", 4), ("a", 5), ("timer", 6), ("b", 8), ("a", 10)]


def test_an_error_of_any_participant_reaches_the_waiting_caller() -> None:
    clock = VirtualClock()

    def broken() -> None:
        clock.sleep(1)
        raise ValueError("boom")

    clock.spawn(lambda: clock.sleep(100))
    clock.spawn(broken)
    with pytest.raises(ValueError, match="boom"):
        clock.run()
    assert clock.shutdown()


def test_wait_until_a_condition_a_timeout_or_a_stall() -> None:
    clock = VirtualClock(start=0.0)
    flag: list[bool] = []
    clock.at(30, lambda: flag.append(True))

    assert not clock.wait_until(lambda: bool(flag), timeout=10)
    assert clock() == 10
    assert clock.wait_until(lambda: bool(flag), timeout=60)
    assert clock() == 30
    with pytest.raises(Stalled, match="the answer"):
        clock.wait_until(lambda: False, what="the answer")


def test_a_sleep_past_the_deadline_ends_at_the_deadline() -> None:
    clock = VirtualClock(start=0.0)
    with clock.deadline(50), pytest.raises(DeadlineExceeded):
        clock.sleep(20)
        clock.sleep(40)
    assert clock() == 50
    clock.sleep(40)  # the deadline was the block's only
    assert clock() == 90


def test_the_pacer_keeps_virtual_time_behind_real_time_times_the_speed() -> None:
    real = [0.0]
    ticks: list[float] = []

    def real_sleep(seconds: float) -> None:
        real[0] += seconds

    pacer = Pacer(100, ticks.append, 0.1, lambda: real[0], real_sleep)
    pacer.wait_until(0)
    pacer.wait_until(50)
    assert real[0] == pytest.approx(0.5)
    assert ticks[-1] == pytest.approx(50) and len(ticks) == 5
    real[0] += 10  # the run fell behind (a slow step): no rush to catch up
    pacer.wait_until(60)
    pacer.wait_until(160)
    assert real[0] == pytest.approx(11.5)
    with pytest.raises(ValueError):
        Pacer(0)


def test_an_infinite_speed_never_waits() -> None:
    def no_sleep(seconds: float) -> None:
        raise AssertionError("slept")

    Pacer(float("inf"), real_sleep=no_sleep).wait_until(3600)


# Lambda.


def test_the_template_sets_timeout_memory_and_async_retries() -> None:
    config = from_template()
    assert (config.timeout_seconds, config.memory_mb) == (900, 128)
    assert (config.maximum_retry_attempts, config.maximum_event_age_seconds) == (2, 3600)
    assert config.retry_delays == (60, 120) and config.source == "template/provider.yaml"


def test_a_failing_event_is_retried_twice_then_goes_to_the_destination() -> None:
    script = Script(VirtualClock(start=0.0), failures=10, sleep=5)
    records: list[dict[str, Any]] = []
    lam = service(script, destination=records.append)
    event = {"RequestType": "Create", "value": 1}

    invocations = lam.run(event)

    assert [(i.started_at, i.attempt, i.outcome) for i in invocations] == [
        (0, 1, "error"),
        (65, 2, "error"),
        (190, 3, "error"),
    ]
    [record] = records
    assert record == lam.given_up[0]
    assert record["version"] == "1.0"
    assert record["timestamp"] == "1970-01-01T00:03:15.000Z"
    assert record["requestContext"] == {
        "requestId": invocations[-1].aws_request_id,
        "functionArn": f"{ARN}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == event
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "boom"
    json.dumps(record)


def test_a_retry_that_succeeds_reaches_no_destination() -> None:
    script = Script(VirtualClock(start=0.0), failures=1)
    records: list[dict[str, Any]] = []
    invocations = service(script, destination=records.append).run({})
    assert [i.outcome for i in invocations] == ["error", "returned"]
    assert records == []


def test_the_timeout_is_enforced_and_retried() -> None:
    script = Script(VirtualClock(start=0.0), sleep=1000)
    lam = service(script)
    invocations = lam.run({})

    assert [(i.started_at, i.ended_at, i.outcome) for i in invocations] == [
        (0, 900, "timeout"),
        (960, 1860, "timeout"),
        (1980, 2880, "timeout"),
    ]
    [record] = lam.given_up
    message = record["responsePayload"]["errorMessage"]
    assert message.endswith("Task timed out after 900.00 seconds")
    with pytest.raises(FunctionTimeout):
        lam.invoke({})


def test_an_event_too_old_to_retry_is_dropped_as_event_age_exceeded() -> None:
    script = Script(VirtualClock(start=0.0), failures=10)
    config = FunctionConfig(ARN, maximum_event_age_seconds=90)
    records: list[dict[str, Any]] = []
    invocations = service(script, config, destination=records.append).run({"n": 1})

    assert [i.started_at for i in invocations] == [0, 60]
    [record] = records
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == {"n": 1}


def test_warm_environments_are_reused_and_overlapping_invocations_get_their_own() -> None:
    script = Script(VirtualClock(start=0.0))
    lam = service(script)
    lam.run({"sleep": 10})
    lam.run({"sleep": 10})
    assert script.environments == 1
    assert [i.cold for i in lam.invocations] == [True, False]

    lam.queue += [{"sleep": 10}, {"sleep": 10}]
    lam.drain()
    assert script.environments == 2 and lam.peak_busy == 2
    assert [i.started_at for i in lam.invocations[2:]] == [20, 20]


def test_at_least_once_delivery_runs_a_duplicate_a_second_later() -> None:
    script = Script(VirtualClock(start=0.0), sleep=10)
    notes: list[str] = []
    lam = service(
        script,
        duplicates=lambda event: event.get("twice", False),
        observer=lambda k, i, w: notes.append(k),
    )
    invocations = lam.run({"twice": True})

    assert [i.started_at for i in invocations] == [0, 1]
    assert [i.environment for i in invocations] == [1, 2]
    assert notes.count("duplicate") == 1
    assert len(lam.run({})) == 1


def test_a_synchronous_invocation_raises_what_the_function_raised() -> None:
    script = Script(VirtualClock(start=0.0), failures=1)
    lam = service(script)
    with pytest.raises(ValueError, match="boom"):
        lam.invoke({})
    assert lam.invoke({}).result == {"left": 900_000}
    assert lam.given_up == []


def test_an_endless_chain_is_stopped_by_max_invocations(world: World) -> None:
    world.issue_after(10**6)
    with pytest.raises(AssertionError, match="more invocations than allowed"):
        world.lam.run(make_event(DomainName="example.com"), max_invocations=2)


# Lambda running the provider.


def test_a_hop_that_crashed_is_retried_by_lambda_and_answers_once(world: World) -> None:
    world.issue_after(20 * 60)
    crashed: list[float] = []

    def crash_once_in_hop_two(params: dict[str, Any]) -> None:
        if world.clock.elapsed > 900 and not crashed:
            crashed.append(world.clock.elapsed)
            raise Crash

    world.hooks["acm.DescribeCertificate"] = crash_once_in_hop_two
    invocations = world.lam.run(make_event(DomainName="example.com"))

    assert trail(invocations) == [(1, 1, "returned"), (2, 1, "error"), (2, 2, "returned")]
    assert invocations[2].started_at - invocations[1].ended_at == 60
    assert len(world.certificates()) == 1
    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]


def test_a_hung_call_is_stopped_at_the_timeout_and_the_hop_retried(world: World) -> None:
    world.issue_after(30 * 60)
    hung: list[bool] = []

    def hang_once(params: dict[str, Any]) -> None:
        if not hung:
            hung.append(True)
            world.clock.sleep(3600)

    world.hooks["acm.DescribeCertificate"] = hang_once
    invocations = world.lam.run(make_event(DomainName="example.com"))

    assert trail(invocations) == [(1, 1, "timeout"), (1, 2, "returned"), (2, 1, "returned")]
    assert invocations[0].duration == 900 and invocations[1].started_at - world.clock.start == 960
    assert len(world.certificates()) == 1
    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]


def test_a_hop_that_always_crashes_reaches_the_destination_with_its_relay_state(
    world: World,
) -> None:
    world.issue_after(10**6)
    records: list[dict[str, Any]] = []
    world.lam.destination = records.append

    def crash_in_hop_two(params: dict[str, Any]) -> None:
        if world.clock.elapsed > 900:
            raise Crash

    world.hooks["acm.DescribeCertificate"] = crash_in_hop_two
    event = make_event(DomainName="example.com")
    invocations = world.lam.run(event)

    assert [(i.hop, i.attempt) for i in invocations] == [(1, 1), (2, 1), (2, 2), (2, 3)]
    assert world.sink.bodies == [], "the destination's handler answers, not the function"
    [record] = records
    payload = record["requestPayload"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert payload["RequestId"] == event["RequestId"]
    assert payload["ResponseURL"] == event["ResponseURL"]
    assert payload["WaitForCertificate"]["Hop"] == 2
    assert payload["WaitForCertificate"]["Memo"]["CertificateArn"] == world.certificates()[0].arn
    assert record["responsePayload"]["errorType"] == "Crash"


def test_every_hop_delivered_twice_still_gives_one_certificate(world: World) -> None:
    world.issue_after(30 * 60)
    world.lam.duplicates = lambda event: True
    invocations = world.lam.run(make_event(DomainName="example.com"), max_invocations=100)

    assert max(i.hop for i in invocations) == 3
    assert len(world.certificates()) == 1
    assert {b["Status"] for b in world.sink.bodies} == {"SUCCESS"}
    assert all(body == world.sink.bodies[0] for body in world.sink.bodies)


def test_a_synchronous_self_invocation_is_refused(world: World) -> None:
    client = world.session.client("lambda")
    with pytest.raises(AssertionError, match="asynchronous"):
        client.invoke(FunctionName=world.lam.config.arn, Payload=b"{}")
    assert world.lam.violations
    world.lam.violations.clear()


def test_the_world_runs_the_template_function_with_the_given_budget() -> None:
    from tests.conftest import build_world

    assert build_world(budget_seconds=120).lam.config == replace(
        from_template(), timeout_seconds=120
    )


# Versions and aliases.


def test_versions_freeze_the_code_and_aliases_pick_a_version() -> None:
    clock = VirtualClock(start=0.0)
    ran: list[tuple[str, str, str]] = []

    def code(name: str) -> Any:
        def start() -> Any:
            def handler(event: dict[str, Any], context: LambdaContext) -> None:
                ran.append((name, context.function_version, context.invoked_function_arn))

            return handler

        return start

    lam = LambdaService(clock, code("a"), FunctionConfig(ARN))
    first = lam.publish()
    lam.set_alias("live", first)
    lam.update_code(code("b"))
    lam.invoke({}, "live")
    lam.invoke({})
    second = lam.publish()
    lam.set_alias("live", second)
    lam.invoke({}, "live")
    lam.invoke({}, first)
    assert ran == [
        ("a", "1", f"{ARN}:live"),
        ("b", "$LATEST", ARN),
        ("b", "2", f"{ARN}:live"),
        ("a", "1", f"{ARN}:1"),
    ]
    assert [i.version for i in lam.invocations] == ["1", "$LATEST", "2", "1"]
    with pytest.raises(AssertionError, match="no version or alias beta"):
        lam.invoke({}, "beta")
    with pytest.raises(KeyError):
        lam.set_alias("live", "9")


def test_a_self_invocation_names_its_version_and_unknown_ones_are_refused(world: World) -> None:
    world.lam.set_alias("live", world.lam.publish())
    client = world.session.client("lambda")
    client.invoke(FunctionName=f"{world.lam.config.arn}:1", InvocationType="Event", Payload=b"{}")
    client.invoke(
        FunctionName=world.lam.config.arn, Qualifier="live", InvocationType="Event", Payload=b"{}"
    )
    assert [getattr(e, "qualifier", None) for e in world.lam.queue] == ["1", "live"]
    with pytest.raises(AssertionError, match="no version or alias 2"):
        client.invoke(
            FunctionName=f"{world.lam.config.arn}:2", InvocationType="Event", Payload=b"{}"
        )
    world.lam.violations.clear()
