"""Logging a deployer can tune: WFC_LOG_LEVEL (the template's LogLevel) sets the level; at
INFO a wait logs one line per hop and per change of what it waits for, every poll at DEBUG;
the first line of every invocation names the release and the function version."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from custom_resource.handler import Provider
from custom_resource.lifecycle import Runtime
from custom_resource.responder import Responder
from custom_resource.settings import LOG_LEVELS, Settings
from custom_resource.version import provider_version
from tests.conftest import FakeClock, FakeContext, World, make_event

RELAY = "custom_resource.relay"


@pytest.fixture
def root_level() -> Iterator[None]:
    """crhelper sets the root logger's level: put it back afterwards."""
    names = ("", "boto3", "botocore", "urllib3", "crhelper")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("raw", ["debug", " WARNING ", "Error", "INFO"])
def test_the_level_comes_from_the_environment(raw: str) -> None:
    assert Settings.from_environment({"WFC_LOG_LEVEL": raw}).log_level == raw.strip().upper()
    assert Settings.from_environment({}).log_level == "INFO"


def test_an_unknown_level_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="WFC_LOG_LEVEL must be one of DEBUG, INFO"):
        Settings.from_environment({"WFC_LOG_LEVEL": "VERBOSE"})


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_the_provider_logs_at_the_level_it_is_given(level: str, root_level: None) -> None:
    Provider(Runtime(settings=Settings(log_level=level)))
    assert logging.getLogger().level == getattr(logging, level)
    # DEBUG is the provider's own detail: the SDK's wire logs (headers, bodies) stay out,
    # and so does crhelper's log of each whole event (its ResponseURL is a credential).
    for quiet in ("botocore", "urllib3", "crhelper.resource_helper"):
        assert logging.getLogger(quiet).getEffectiveLevel() >= logging.WARNING, quiet


def test_a_long_wait_logs_a_line_per_hop_and_per_change_and_every_poll_at_debug(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=RELAY)
    world.issue_after(40 * 60)
    invocations = world.lam.run(make_event(DomainName="example.com"))
    assert world.sink.last["Status"] == "SUCCESS"

    polls = [r for r in caplog.records if r.name == RELAY and "waiting" in r.getMessage()]
    info = [r for r in polls if r.levelno == logging.INFO]
    details = {r.args[-1] for r in polls if isinstance(r.args, tuple)}
    assert len(polls) > 200, "a 40-minute wait polls every 5 to 10 s"
    assert len(info) <= len(invocations) + len(details), "INFO only per hop and per change"
    hops_seen = {r.args[0] for r in info if isinstance(r.args, tuple)}
    assert hops_seen == {i.hop for i in invocations}, "each hop says at INFO that it waits"


def test_the_first_line_of_an_invocation_names_the_release_and_the_function_version(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    world.issue_after(0)
    world.lam.run(make_event(DomainName="example.com"))
    [first, *_] = [r.getMessage() for r in caplog.records if r.name.startswith("custom_resource")]
    assert f"on WaitForCertificate {provider_version()} (function version $LATEST)" in first


def test_the_responder_names_its_release_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    context = FakeContext(FakeClock(), 60.0)
    Responder(Runtime(settings=Settings()))({"not": "a record"}, context)
    [line] = [r.getMessage() for r in caplog.records if r.name == "custom_resource.responder"]
    assert line.startswith(f"WaitForCertificate responder {provider_version()} (function version")
