"""The relay's schedule: AIMD on jittered polls, hand-off margin, hop budget, settings."""

from __future__ import annotations

import random
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import pytest

from custom_resource.aws import Clients
from custom_resource.pacing import CrowdGauge, next_interval
from custom_resource.progress import HandedOff, Pending
from custom_resource.relay_state import RELAY_KEY, RELAY_VERSION
from custom_resource.request import parse_request
from custom_resource.settings import Settings
from tests.conftest import FakeContext, World, error_answer, make_event, signed_url
from tools.bench.account import throttled_response


def sleeps_of(world: World) -> list[float]:
    slept: list[float] = []
    original = world.clock.sleep

    def recording(seconds: float) -> None:
        slept.append(seconds)
        original(seconds)

    world.runtime.sleep = recording
    return slept


def polls_of_a_20_minute_wait(world: World, refused: str | None = None) -> list[float]:
    """The start jitter, then every pause of one certificate's 20-minute wait; its counts
    of the account's crowd are refused with error ``refused`` when given."""
    if refused is not None:
        world.hooks["acm.ListCertificates"] = lambda params: error_answer(refused, refused)
    slept = sleeps_of(world)
    world.issue_after(20 * 60)
    world.lam.run(make_event(DomainName="example.com"))
    assert world.sink.last["Status"] == "SUCCESS"
    return slept


def test_a_lone_waiter_counts_its_crowd_after_the_request_and_polls_at_the_floor(
    world: World,
) -> None:
    counted: list[float] = []
    world.hooks["acm.ListCertificates"] = lambda params: counted.append(world.clock())
    slept = polls_of_a_20_minute_wait(world)

    settings = Settings()
    assert 0 <= slept[0] <= settings.start_jitter_seconds, "a new request starts spread out"
    polls = slept[1:]
    assert len(set(polls[-20:])) > 1, "jittered, not a fixed beat"
    assert settings.poll_min_seconds * 0.75 <= min(polls) <= max(polls) <= settings.poll_min_seconds
    assert 1 <= len(counted) <= 20 * 60 / (0.5 * settings.crowd_refresh_seconds) + 1


def test_a_throttled_count_keeps_the_wait_going_paced_for_the_crowd_it_implies(
    world: World,
) -> None:
    """Each throttled count means ListCertificates served others meanwhile: after twenty
    minutes of them, the waiter paces as one of hundreds (and still answers)."""
    polls = polls_of_a_20_minute_wait(world, "ThrottlingException")[1:]

    settings = Settings()
    assert min(polls) >= 0.75 * (settings.poll_max_seconds - 1), "never paced as alone"
    assert max(polls) > settings.poll_max_seconds, "a crowd implied, polls further apart"


def test_a_count_refused_for_another_reason_is_logged_and_says_nothing_of_the_crowd(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    polls = polls_of_a_20_minute_wait(world, "AccessDeniedException")[1:]

    assert max(polls) <= Settings().poll_max_seconds, "no crowd assumed, no back-off"
    assert "Cannot count the account's pending certificates" in caplog.text


def test_a_request_throttled_by_its_own_quota_does_not_back_the_polls_off(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RequestCertificate has its own quota; botocore retried it; the polls are not
    congested by it."""
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda s: None))
    answers = iter([throttled_response])

    def throttle_once(request: Any, **_: Any) -> Any:
        answer = next(answers, None)
        return None if answer is None else answer(request.url)

    world.session.events.register_first("before-send.acm.RequestCertificate", throttle_once)
    slept = sleeps_of(world)
    world.issue_after(5 * 60)
    world.lam.run(make_event(DomainName="example.com"))

    assert world.runtime.clients.throttled_attempts == 1
    assert slept[1] <= Settings().poll_min_seconds, "the first poll comes at the floor"
    assert world.sink.last["Status"] == "SUCCESS"


@pytest.mark.parametrize(
    ("interval", "congested", "expected"),
    [(5.0, True, 20.0), (10.0, True, 30.0), (30.0, False, 29.95), (4.02, False, 4.0)],
)
def test_throttling_multiplies_the_interval_and_clean_polls_shorten_it(
    interval: float, congested: bool, expected: float
) -> None:
    settings = Settings()
    floor = settings.poll_min_seconds
    assert next_interval(interval, congested, settings, floor) == pytest.approx(expected)


class ThrottledTask:
    """Pending for ever; the steps in ``throttled_at`` meet a throttled (retried) attempt."""

    physical_id = None

    def __init__(self, throttled_at: set[int]) -> None:
        self.throttled_at, self.steps, self.throttled = throttled_at, 0, 0

    def step(self, memo: dict[str, Any]) -> Pending:
        self.steps += 1
        self.throttled += self.steps in self.throttled_at
        return Pending("waiting", memo)


def test_a_throttled_attempt_backs_the_next_poll_off_though_botocore_retried_it(
    world: World,
) -> None:
    task, slept = ThrottledTask({5}), sleeps_of(world)
    alone = CrowdGauge(Settings(), pending=1)  # counted: paced at the floor
    relay = replace(world.runtime.relay(), throttled=lambda: task.throttled, gauge=alone)
    request = parse_request(make_event(DomainName="example.com"))

    outcome = relay.run(request, task, FakeContext(world.clock, 900), 3600)

    assert isinstance(outcome, HandedOff)
    assert slept[4] >= 3 * slept[3], "the throttled 5th step: about four times longer"
    assert slept[5] < slept[4], "then shorter again with each clean poll"


def test_clients_count_the_throttled_attempts_botocore_retries(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda s: None))
    answers = iter([throttled_response, throttled_response])

    def throttle_twice(request: Any, **_: Any) -> Any:
        answer = next(answers, None)
        return None if answer is None else answer(request.url)

    world.session.events.register_first("before-send.acm.ListCertificates", throttle_twice)
    clients = Clients(world.session, "eu-west-1", clock=world.clock)

    clients.acm().list_certificates()

    assert clients.throttled_attempts == 2


def test_each_hop_hands_off_with_the_margin_left(world: World) -> None:
    world.issue_after(50 * 60)
    invocations = world.lam.run(make_event(DomainName="example.com"))

    margin = Settings().handoff_margin_seconds
    for hop in invocations[:-1]:
        used = hop.ended_at - hop.started_at
        assert 900 - margin - Settings().poll_max_seconds <= used <= 900 - margin


def test_a_continued_hop_first_takes_the_pause_its_predecessor_handed_off(
    world: World,
) -> None:
    polled: list[float] = []
    world.hooks["acm.DescribeCertificate"] = lambda params: polled.append(world.clock())
    world.issue_after(20 * 60)
    first, second = world.lam.run(make_event(DomainName="example.com"))

    assert first.handed_off and second.started_at == first.ended_at
    soon = second.started_at + 0.75 * Settings().poll_min_seconds
    at_hand_off = [t for t in polled if second.started_at - 1 <= t < soon]
    assert len(at_hand_off) == 1, "the first hop's last poll, not one more from the second"


def test_a_one_hour_wait_takes_at_most_five_invocations(world: World) -> None:
    invocations = world.lam.run(make_event(DomainName="example.com"))
    assert world.sink.last["Status"] == "FAILED"
    assert len(invocations) <= 5


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_environment(
        {
            "WFC_POLL_MIN_SECONDS": "2",
            "WFC_POLL_MAX_SECONDS": "20",
            "WFC_POLL_START_SECONDS": "4",
            "WFC_POLL_BACKOFF": "3",
            "WFC_POLL_RECOVERY_SECONDS": "0.5",
            "WFC_HANDOFF_MARGIN_SECONDS": "30",
            "WFC_DEADLINE_MARGIN_SECONDS": "90",
            "WFC_ALLOW_LOOPBACK_RESPONSE_URL": "true",
        }
    )
    assert settings == Settings(
        poll_min_seconds=2,
        poll_max_seconds=20,
        poll_start_seconds=4,
        poll_backoff=3,
        poll_recovery_seconds=0.5,
        handoff_margin_seconds=30,
        deadline_margin_seconds=90,
        allow_loopback_response_url=True,
    )
    assert Settings.from_environment({}) == Settings()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WFC_POLL_MIN_SECONDS": "fast"}, "WFC_POLL_MIN_SECONDS must be a number"),
        ({"WFC_POLL_MIN_SECONDS": "60"}, "WFC_POLL_MIN_SECONDS must be > 0"),
        ({"WFC_POLL_BACKOFF": "1"}, "WFC_POLL_BACKOFF must be > 1"),
        ({"WFC_POLL_RECOVERY_SECONDS": "0"}, "WFC_POLL_RECOVERY_SECONDS must be > 0"),
        ({"WFC_POLL_START_SECONDS": "40"}, "WFC_POLL_START_SECONDS must be between"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_environment(env)


def test_misconfigured_function_answers_failed_naming_the_variable(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custom_resource import handler as entry
    from custom_resource.lifecycle import Runtime

    fallback = Runtime(clients=world.runtime.clients, sender=world.runtime.sender)
    monkeypatch.setenv("WFC_POLL_BACKOFF", "0")
    monkeypatch.setattr(entry, "_provider", None)
    monkeypatch.setattr(entry, "Runtime", lambda settings=None: fallback if settings else Runtime())

    entry.handler(make_event(DomainName="example.com"), FakeContext(world.clock, 900))

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert "misconfigured: WFC_POLL_BACKOFF must be > 1" in body["Reason"]
    assert world.certificates() == []


ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0b5a1e4c-1111-2222-3333-444455556666"
VERSION_1 = {"Hop": 2, "StartedAt": 1.0, "Deadline": 4.0, "Interval": 10, "Memo": {}}


@pytest.mark.parametrize(
    ("state", "says"),
    [
        (VERSION_1, "an older version"),
        ({**VERSION_1, "Version": 99, "RequestedAt": 1.0}, "another version"),
    ],
    ids=["version 1", "unknown version"],
)
def test_a_relay_state_of_another_version_answers_failed_naming_the_certificate(
    world: World, state: dict[str, object], says: str
) -> None:
    event = make_event(DomainName="example.com")
    event[RELAY_KEY] = {**state, "Memo": {"CertificateArn": ARN, "RecordsWritten": True}}

    world.lam.run(event)

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert says in body["Reason"] and "upgraded" in body["Reason"]
    assert body["PhysicalResourceId"] == ARN, "the rollback Delete removes what the wait had"
    assert world.calls == [], "an unreadable wait is never continued"


def test_the_relay_state_carries_its_version(world: World) -> None:
    world.issue_after(40 * 60)
    world.lam.queue.append(make_event(DomainName="example.com"))
    world.lam.invoke(world.lam.queue.pop(0))

    [payload] = world.lam.queue
    assert payload[RELAY_KEY]["Version"] == RELAY_VERSION


class _LongestJitter(random.Random):
    """Every random draw is its upper bound: the start jitter at its longest."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.mark.parametrize(
    ("sent_before", "longest_jitter"),
    [(3590, False), (3545, False), (3530, True)],
    ids=["in the last seconds", "in the last minute", "pushed past by the start jitter"],
)
def test_a_first_hop_too_late_to_answer_in_time_fails_at_once_requesting_nothing(
    world: World, sent_before: float, longest_jitter: bool
) -> None:
    if longest_jitter:
        world.runtime.rng = _LongestJitter()
    signed = world.clock() - sent_before
    event = make_event(DomainName="example.com")
    event["ResponseURL"] = signed_url(signed)

    world.lam.run(event)

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED" and "too late to be answered" in body["Reason"]
    assert "ServiceTimeout of 3600 s" in body["Reason"]
    assert world.calls_to("RequestCertificate") == 0 and world.certificates() == []
    assert world.sink.times[0] - signed < 3600, "answered while CloudFormation still waits"


def test_a_first_hop_after_the_deadline_with_time_to_answer_names_what_it_found(
    world: World,
) -> None:
    """A Lambda retry of a first hop that had requested the certificate gives the answer
    its first delivery gave, naming the certificate (the idempotent request finds it)."""
    world.runtime.rng = _LongestJitter()
    signed = world.clock() - 3450  # past the deadline (3420 s), 150 s before the timeout
    event = make_event(DomainName="example.com")
    event["ResponseURL"] = signed_url(signed)

    world.lam.run(event)

    [body] = world.sink.bodies
    [certificate] = world.certificates()
    assert body["Status"] == "FAILED" and body["PhysicalResourceId"] == certificate.arn
    assert world.sink.times[0] - signed < 3600
