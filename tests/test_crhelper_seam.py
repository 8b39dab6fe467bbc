"""The seam between crhelper and our code: fails if a crhelper upgrade moves it."""

from __future__ import annotations

import inspect
import os
import threading
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import crhelper.utils
import pytest
from crhelper import CfnResource

from custom_resource.handler import Provider
from custom_resource.lifecycle import Runtime
from tests.conftest import World, make_event

ROOT = Path(__file__).resolve().parents[1]


def test_crhelper_is_the_pinned_version() -> None:
    pinned = (ROOT / "requirements.txt").read_text()
    assert f"crhelper=={version('crhelper')}" in pinned


@pytest.mark.parametrize("name", ["_set_timeout", "_cfn_response", "_send", "_wrap_function"])
def test_the_methods_we_override_or_rely_on_still_exist(name: str) -> None:
    assert callable(vars(CfnResource)[name])


def test_signatures_we_override_are_unchanged() -> None:
    def parameters(name: str) -> list[str]:
        return list(inspect.signature(vars(CfnResource)[name]).parameters)

    assert parameters("_cfn_response") == ["self", "event"]
    assert parameters("_set_timeout") == ["self"]
    assert parameters("_send")[:3] == ["self", "status", "reason"]


def test_crhelper_builds_no_clients_for_the_polling_we_do_not_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[str] = []
    monkeypatch.setattr("boto3.client", lambda name, **_: built.append(name))
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)

    seam = Provider(Runtime())._seam

    assert built == []
    assert "AWS_SAM_LOCAL" not in os.environ, "the switch is put back"
    assert not seam._sam_local


@pytest.fixture
def crhelper_sends(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every body crhelper's own sender would PUT.

    crhelper binds its sender as a default argument of ``CfnResource._send``
    (``send_response=_send_response``), so patching the module attribute changes nothing:
    the default itself is replaced, and a probe checks that crhelper's ``_send`` now
    reaches the replacement.
    """
    sent: list[dict[str, Any]] = []

    def sender(url: str, body: dict[str, Any], ssl_verify: object = None) -> None:
        sent.append(body)

    send = vars(CfnResource)["_send"]
    defaults = send.__defaults__
    assert defaults is not None and defaults[-1] is vars(crhelper.utils)["_send_response"]
    monkeypatch.setattr(send, "__defaults__", (*defaults[:-1], sender))
    probe = SimpleNamespace(
        Status="SUCCESS",
        Reason="",
        PhysicalResourceId="probe",
        StackId="stack",
        RequestId="request",
        LogicalResourceId="Probe",
        Data={},
        NoEcho=False,
        _response_url="https://example.com/probe",
        _ssl_verify=None,
    )
    send(probe, "FAILED", "probe")
    assert [body["Reason"] for body in sent] == ["probe"], "the patch does not bite"
    sent.clear()
    return sent


def test_dispatch_runs_our_hop_without_watchdog_or_crhelper_sender(
    world: World, monkeypatch: pytest.MonkeyPatch, crhelper_sends: list[dict[str, Any]]
) -> None:
    started: list[threading.Timer] = []
    monkeypatch.setattr(threading.Timer, "start", lambda self: started.append(self))
    world.issue_after(30)

    world.lam.run(make_event(DomainName="example.com"))

    assert started == [], "crhelper's watchdog timer was started"
    assert crhelper_sends == [], "crhelper's own sender ran"
    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]


def test_crhelper_failure_path_answers_through_our_sender(
    world: World, monkeypatch: pytest.MonkeyPatch, crhelper_sends: list[dict[str, Any]]
) -> None:
    def broken_log_setup(self: CfnResource, event: object, context: object) -> None:
        raise RuntimeError("logging setup broke")

    monkeypatch.setattr(CfnResource, "_log_setup", broken_log_setup)
    world.lam.run(make_event(DomainName="example.com"))

    assert crhelper_sends == [], "crhelper's own sender ran"
    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert "logging setup broke" in body["Reason"]
    assert body["PhysicalResourceId"]
    assert world.certificates() == []


def test_logs_are_json_with_stack_logical_id_and_request_id(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import logging

    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        world.issue_after(30)
        event = make_event(DomainName="example.com")
        world.lam.run(event)
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert lines, "nothing was logged"
    assert all(line["RequestId"] == event["RequestId"] for line in lines)
    assert all(line["LogicalResourceId"] == "Certificate" for line in lines)
    assert all(line["StackId"] == event["StackId"] for line in lines)
    assert not any("secret-signature" in json.dumps(line) for line in lines)
