"""The relay's schedule: growing jittered polls, hand-off margin, hop budget, settings."""

from __future__ import annotations

import pytest

from custom_resource.relay_state import RELAY_KEY, RELAY_VERSION
from custom_resource.settings import Settings
from tests.conftest import FakeContext, World, make_event


def sleeps_of(world: World) -> list[float]:
    slept: list[float] = []
    original = world.clock.sleep

    def recording(seconds: float) -> None:
        slept.append(seconds)
        original(seconds)

    world.runtime.sleep = recording
    return slept


def test_poll_interval_grows_from_seconds_to_the_cap_with_jitter(world: World) -> None:
    slept = sleeps_of(world)
    world.issue_after(20 * 60)
    world.lam.run(make_event(DomainName="example.com"))

    settings = Settings()
    assert 0 <= slept[0] <= settings.start_jitter_seconds, "a new request starts spread out"
    polls = slept[1:]
    assert settings.poll_min_seconds * 0.75 <= polls[0] <= settings.poll_min_seconds
    assert polls[1] > polls[0] and polls[2] > polls[1]
    assert max(slept) <= settings.poll_max_seconds
    capped = polls[10:]
    assert len(set(capped)) > 1, "jittered, not a fixed beat"
    assert min(capped) >= settings.poll_max_seconds * 0.75


def test_each_hop_hands_off_with_the_margin_left(world: World) -> None:
    world.issue_after(50 * 60)
    invocations = world.lam.run(make_event(DomainName="example.com"))

    margin = Settings().handoff_margin_seconds
    for hop in invocations[:-1]:
        used = hop.ended_at - hop.started_at
        assert 900 - margin - Settings().poll_max_seconds <= used <= 900 - margin


def test_a_one_hour_wait_takes_at_most_five_invocations(world: World) -> None:
    invocations = world.lam.run(make_event(DomainName="example.com"))
    assert world.sink.last["Status"] == "FAILED"
    assert len(invocations) <= 5


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_environment(
        {
            "WFC_POLL_MIN_SECONDS": "2",
            "WFC_POLL_MAX_SECONDS": "20",
            "WFC_POLL_GROWTH": "2",
            "WFC_HANDOFF_MARGIN_SECONDS": "30",
            "WFC_DEADLINE_MARGIN_SECONDS": "90",
            "WFC_ALLOW_LOOPBACK_RESPONSE_URL": "true",
        }
    )
    assert settings == Settings(
        poll_min_seconds=2,
        poll_max_seconds=20,
        poll_growth=2,
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
        ({"WFC_POLL_GROWTH": "0.5"}, "WFC_POLL_GROWTH must be >= 1"),
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
    monkeypatch.setenv("WFC_POLL_GROWTH", "0")
    monkeypatch.setattr(entry, "_provider", None)
    monkeypatch.setattr(entry, "Runtime", lambda settings=None: fallback if settings else Runtime())

    entry.handler(make_event(DomainName="example.com"), FakeContext(world.clock, 900))

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert "misconfigured: WFC_POLL_GROWTH must be >= 1" in body["Reason"]
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
