"""Shared fixtures: moto-backed AWS, a virtual clock, the local Lambda and a response sink.

The Lambda is the emulator's (``tools.emulator``): the template's function settings, the
function's own self-invocations captured on the session, Lambda's retries and timeout,
all on virtual time. ``FakeClock``, ``FakeContext``, ``ResponseSink`` and ``FUNCTION_ARN``
are importable from here.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import pytest

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="eu-west-1",
    AWS_REGION="eu-west-1",
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

from moto import mock_aws, settings
from moto.acm.models import CertBundle, acm_backends

from custom_resource.aws import Clients
from custom_resource.handler import Provider
from custom_resource.lifecycle import Runtime
from custom_resource.response import Sender
from custom_resource.settings import Settings
from tools.emulator import FUNCTION_ARN, LambdaService, ResponseSink, from_template
from tools.emulator import LambdaContext as FakeContext
from tools.emulator import VirtualClock as FakeClock

__all__ = ["FUNCTION_ARN", "FakeClock", "FakeContext", "ResponseSink"]

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/demo/5b1c6f60-11ef-9f1a-0a1b2c3d4e5f"
RESPONSE_URL = (
    "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/"
    "arn%3Aaws%3Acloudformation/response?X-Amz-Signature=secret-signature"
)


def make_event(request_type: str = "Create", **properties: Any) -> dict[str, Any]:
    """A CloudFormation request as Lambda delivers it; property values as strings."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": FUNCTION_ARN,
        "ResponseURL": RESPONSE_URL,
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "Certificate",
        "ResourceType": "Custom::WaitForCertificate",
        "ResourceProperties": {"ServiceToken": FUNCTION_ARN, **properties},
    }
    return event


class _HttpAnswer:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def error_answer(code: str, message: str, status: int = 400) -> tuple[Any, dict[str, Any]]:
    """What a ``before-call`` hook returns to make botocore raise ``code``."""
    parsed: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return _HttpAnswer(status), parsed


@dataclass
class World:
    """One test's AWS (moto), clock, Lambda runner and CloudFormation response sink."""

    session: Any
    clock: FakeClock
    sink: ResponseSink
    runtime: Runtime
    provider: Provider
    lam: LambdaService
    calls: list[str]
    hooks: dict[str, Any]
    """Per operation (e.g. ``acm.DeleteCertificate``): params -> None, or an answer to fake."""
    after_hooks: dict[str, Any]
    """Per operation: called once AWS has carried the call out."""
    issue_at: dict[str, float] = field(default_factory=dict)

    def calls_to(self, operation: str) -> int:
        return sum(1 for call in self.calls if call.endswith(operation))

    def in_use(self, arn: str, users: list[str]) -> None:
        """Make ACM refuse DeleteCertificate (as AWS does) while ``users`` hold ``arn``."""
        region = arn.split(":")[3]
        acm_backends[ACCOUNT][region]._certificates[arn].in_use_by = users

        def refuse(params: dict[str, Any]) -> Any:
            cert = acm_backends[ACCOUNT][region]._certificates.get(arn)
            if cert is not None and cert.in_use_by and arn in str(params.get("body")):
                return error_answer("ResourceInUseException", f"{arn} is in use")
            return None

        self.hooks["acm.DeleteCertificate"] = refuse

    def release_after(self, seconds: float, arn: str) -> None:
        region = arn.split(":")[3]
        self.clock.at(seconds, lambda: setattr(self.cert(arn, region), "in_use_by", []))

    def cert(self, arn: str, region: str = REGION) -> Any:
        return acm_backends[ACCOUNT][region]._certificates[arn]

    def acm(self, region: str = REGION) -> Any:
        return self.session.client("acm", region_name=region)

    def route53(self) -> Any:
        return self.session.client("route53")

    def certificates(self, region: str = REGION) -> list[Any]:
        return list(acm_backends[ACCOUNT][region]._certificates.values())

    def set_status(self, status: str, region: str = REGION, reason: str | None = None) -> None:
        for cert in self.certificates(region):
            cert.status = status
            if reason:
                cert.failure_reason = reason

    def issue_after(self, seconds: float, region: str = REGION) -> None:
        """Certificates requested (in ``region``) before ``seconds`` of fake time turn ISSUED
        when described at or after it; later requests stay pending until told otherwise."""
        self.issue_at[region] = seconds

    def describe_hook(self) -> Any:
        """moto's describe on the fake clock, passing on a FailureReason set by a test."""
        world = self

        def describe(cert: Any) -> dict[str, Any]:
            if not hasattr(cert, "requested_at"):
                cert.requested_at = world.clock.elapsed
            issue_at = world.issue_at.get(cert.arn.split(":")[3])
            if (
                issue_at is not None
                and cert.status == "PENDING_VALIDATION"
                and cert.requested_at <= issue_at <= world.clock.elapsed
            ):
                cert.status = "ISSUED"
            described: dict[str, Any] = _moto_describe(cert)
            if getattr(cert, "failure_reason", None):
                described["Certificate"]["FailureReason"] = cert.failure_reason
            return described

        return describe

    def hosted_zone(self, name: str = "example.com") -> str:
        zone = self.route53().create_hosted_zone(Name=name, CallerReference=str(uuid.uuid4()))
        return str(zone["HostedZone"]["Id"]).removeprefix("/hostedzone/")

    def records(self, zone_id: str) -> list[dict[str, Any]]:
        sets = self.route53().list_resource_record_sets(HostedZoneId=zone_id)
        return [r for r in sets["ResourceRecordSets"] if r["Type"] == "CNAME"]


def _operation(event_name: str) -> str:
    """``before-call.route-53.X`` -> ``route53.X``: the service name as boto3 spells it."""
    service, _, name = event_name.split(".", 1)[1].partition(".")
    return f"{service.replace('-', '')}.{name}"


def build_world(settings_: Settings | None = None, budget_seconds: float = 900.0) -> World:
    session = boto3.Session(region_name=REGION)
    calls: list[str] = []
    hooks: dict[str, Any] = {}

    after_hooks: dict[str, Any] = {}

    def before_call(event_name: str, params: dict[str, Any], **_: Any) -> Any:
        """Clients copy the session's hooks when built: one hook dispatches to later ones."""
        operation = _operation(event_name)
        calls.append(operation)
        hook = hooks.get(operation)
        answer = hook(params) if hook else None
        if answer is None and operation == "lambda.Invoke":
            answer = lam.capture(params)
        return answer

    def after_call(event_name: str, **_: Any) -> None:
        hook = after_hooks.get(_operation(event_name))
        if hook:
            hook()

    session.events.register("before-call", before_call)
    session.events.register("after-call", after_call)
    clock = FakeClock()
    sink = ResponseSink(clock=clock)
    rng = random.Random(7)
    runtime = Runtime(
        clients=Clients(session),
        settings=settings_ or Settings(),
        clock=clock,
        sleep=clock.sleep,
        rng=rng,
        sender=Sender(sleep=clock.sleep, rng=rng, put=sink.put),
    )
    provider = Provider(runtime)
    config = replace(from_template(), timeout_seconds=budget_seconds)
    lam = LambdaService(clock, _environments(provider, runtime), config)
    return World(session, clock, sink, runtime, provider, lam, calls, hooks, after_hooks)


def _environments(provider: Provider, runtime: Runtime) -> Callable[[], Provider]:
    """The first execution environment is ``provider``; invocations that overlap it (a
    duplicate delivery, a retry) get their own, sharing the runtime a test adjusts."""
    started: list[Provider] = []

    def start() -> Provider:
        started.append(provider if not started else Provider(runtime))
        return started[-1]

    return start


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """moto with certificates that stay PENDING_VALIDATION until a test says otherwise."""
    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 10**9)
    with mock_aws():
        world = build_world()
        monkeypatch.setattr(CertBundle, "describe", world.describe_hook())
        yield world
        world.clock.shutdown()
    assert not world.sink.violations, f"responses broke the protocol: {world.sink.violations}"
    assert not world.lam.violations, f"invocations Lambda would refuse: {world.lam.violations}"


_moto_describe = CertBundle.describe
