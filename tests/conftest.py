"""Shared fixtures: moto-backed AWS, a virtual clock, the local Lambda and a response sink.

The Lambda is the emulator's (``tools.emulator``): the template's function settings, the
function's own self-invocations captured on the session, Lambda's retries and timeout,
all on virtual time. ``FakeClock``, ``FakeContext``, ``ResponseSink`` and ``FUNCTION_ARN``
are importable from here.
"""

from __future__ import annotations

import functools
import json
import os
import random
import time
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

import botocore.loaders
import botocore.session
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
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


WAIT_HANDLE = (
    "https://cloudformation-waitcondition-eu-west-1.s3.eu-west-1.amazonaws.com/"
    "arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack/demo/5b1c/Handle"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20270115T080000Z&X-Amz-Signature=s3cret"
)
"""A WaitConditionHandle's Ref as CloudFormation makes it (pre-signed, on its bucket)."""


@dataclass
class SignalSink:
    """Stands for a WaitCondition handle: records each signal and checks its shape."""

    clock: Any
    bodies: list[dict[str, Any]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    """HTTP statuses to answer, in turn (then 200)."""

    def put(self, url: str, body: bytes, timeout: float) -> int:
        assert timeout > 0 and len(body) <= 4096
        signal = json.loads(body)
        assert set(signal) == {"Status", "UniqueId", "Data", "Reason"}, signal
        assert signal["Status"] in ("SUCCESS", "FAILURE") and signal["UniqueId"], signal
        self.bodies.append(signal)
        self.urls.append(url)
        self.times.append(self.clock())
        return self.statuses.pop(0) if self.statuses else 200


def signed_url(signed_at: float) -> str:
    """A SigV4 ResponseURL as CloudFormation signs it, ``signed_at`` epoch seconds."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at))
    return RESPONSE_URL.replace("?", f"?X-Amz-Date={stamp}&X-Amz-Expires=7200&", 1)


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
    requested: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per certificate ARN, the RequestCertificate parameters (moto ignores some of them)."""
    signals: SignalSink = field(default_factory=lambda: SignalSink(clock=lambda: 0.0))
    """What was signalled to WaitCondition handles (12-hour mode)."""

    def lift_san_quota(self) -> None:
        """Let RequestCertificate take ACM's 100 names: moto refuses more than 10 (the
        default quota), so the request goes to its backend directly."""

        def request(params: dict[str, Any]) -> Any:
            body = json.loads(params["body"])
            arn = acm_backends[ACCOUNT][REGION].request_certificate(
                body["DomainName"],
                body.get("IdempotencyToken"),
                body.get("SubjectAlternativeNames"),
                body.get("Tags"),
                body.get("CertificateAuthorityArn"),
                body.get("Options"),
            )
            return _HttpAnswer(200), {
                "CertificateArn": arn,
                "ResponseMetadata": {"HTTPStatusCode": 200},
            }

        self.hooks["acm.RequestCertificate"] = request

    def stack_holds(self, physical_id: str | None = None) -> None:
        """DescribeStackResource as CloudFormation answers it: the resource's id is the last
        SUCCESS response's (or ``physical_id``); no id at all: the resource is gone."""

        def describe(params: dict[str, Any]) -> Any:
            ids = [b["PhysicalResourceId"] for b in self.sink.bodies if b["Status"] == "SUCCESS"]
            held = physical_id if physical_id is not None else (ids[-1] if ids else None)
            if held == "":
                return error_answer("ValidationError", "Resource Certificate does not exist")
            detail = {"LogicalResourceId": "Certificate", "PhysicalResourceId": held}
            answer = {"StackResourceDetail": detail, "ResponseMetadata": {"HTTPStatusCode": 200}}
            return _HttpAnswer(200), answer

        self.hooks["cloudformation.DescribeStackResource"] = describe

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

    def stack_status(self, status: str) -> None:
        """Make DescribeStacks report the stack in ``status`` (e.g. rolling back)."""

        def describe_stacks(params: dict[str, Any]) -> Any:
            stack = {"StackId": STACK_ID, "StackName": "demo", "StackStatus": status}
            answer = {"Stacks": [stack], "ResponseMetadata": {"HTTPStatusCode": 200}}
            return _HttpAnswer(200), answer

        self.hooks["cloudformation.DescribeStacks"] = describe_stacks

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
            _as_acm_describes(described["Certificate"], world.requested.get(cert.arn))
            return described

        return describe

    def hosted_zone(self, name: str = "example.com") -> str:
        zone = self.route53().create_hosted_zone(Name=name, CallerReference=str(uuid.uuid4()))
        return str(zone["HostedZone"]["Id"]).removeprefix("/hostedzone/")

    def records(self, zone_id: str) -> list[dict[str, Any]]:
        sets = self.route53().list_resource_record_sets(HostedZoneId=zone_id)
        return [r for r in sets["ResourceRecordSets"] if r["Type"] == "CNAME"]


def _as_acm_describes(certificate: dict[str, Any], requested: dict[str, Any] | None) -> None:
    """What moto drops from a request, described as ACM does (the key algorithm stays in
    moto's spelling, which moto's own ListCertificates filter reads)."""
    if requested is None:
        return
    certificate["KeyAlgorithm"] = requested.get("KeyAlgorithm", "RSA_2048")
    export = requested.get("Options", {}).get("Export")
    if export:  # moto drops Options.Export
        certificate.setdefault("Options", {})["Export"] = export
    method = requested.get("ValidationMethod", "DNS")
    chosen = {
        o["DomainName"]: o["ValidationDomain"] for o in requested.get("DomainValidationOptions", [])
    }
    for option in certificate.get("DomainValidationOptions", []):
        option["ValidationMethod"] = method
        option["ValidationDomain"] = chosen.get(option["DomainName"], option["DomainName"])
        if method == "EMAIL":
            option.pop("ResourceRecord", None)


def _operation(event_name: str) -> str:
    """``before-call.route-53.X`` -> ``route53.X``: the service name as boto3 spells it."""
    service, _, name = event_name.split(".", 1)[1].partition(".")
    return f"{service.replace('-', '')}.{name}"


_LOADER = botocore.loaders.create_loader()
"""One loader for every test's session: it parses each service model once per run."""


def new_session() -> Any:
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    session = boto3.Session(region_name=REGION, botocore_session=core)
    _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))  # boto3 adds its own
    return session


@functools.cache
def _one_key(public_exponent: int, key_size: int) -> Any:
    return _generate_private_key(public_exponent=public_exponent, key_size=key_size)


@pytest.fixture(autouse=True, scope="session")
def _quick_moto_keys() -> Iterator[None]:
    """moto makes and parses an RSA key for every certificate (about 80 ms): reuse one."""
    patch = pytest.MonkeyPatch()
    patch.setattr(
        rsa,
        "generate_private_key",
        lambda public_exponent, key_size, backend=None: _one_key(public_exponent, key_size),
    )
    patch.setattr(serialization, "load_pem_private_key", functools.lru_cache(maxsize=16)(_load_pem))
    yield
    patch.undo()


_generate_private_key = rsa.generate_private_key
_load_pem = serialization.load_pem_private_key


def build_world(settings_: Settings | None = None, budget_seconds: float = 900.0) -> World:
    session = new_session()
    calls: list[str] = []
    hooks: dict[str, Any] = {}

    after_hooks: dict[str, Any] = {}
    requested: dict[str, dict[str, Any]] = {}

    pending_requests: list[dict[str, Any]] = []

    def before_call(event_name: str, params: dict[str, Any], **_: Any) -> Any:
        """Clients copy the session's hooks when built: one hook dispatches to later ones."""
        operation = _operation(event_name)
        calls.append(operation)
        if operation == "acm.RequestCertificate":
            pending_requests.append(json.loads(params["body"]))
        hook = hooks.get(operation)
        answer = hook(params) if hook else None
        if answer is None and operation == "lambda.Invoke":
            answer = lam.capture(params)
        return answer

    def after_call(event_name: str, parsed: dict[str, Any], **_: Any) -> None:
        if _operation(event_name) == "acm.RequestCertificate" and pending_requests:
            requested[parsed.get("CertificateArn", "")] = pending_requests.pop()
        hook = after_hooks.get(_operation(event_name))
        if hook:
            hook()

    session.events.register("before-call", before_call)
    session.events.register("after-call", after_call)
    clock = FakeClock()
    sink = ResponseSink(clock=clock)
    signals = SignalSink(clock)
    rng = random.Random(7)
    runtime = Runtime(
        clients=Clients(session, clock=clock),
        settings=settings_ or Settings(),
        clock=clock,
        sleep=clock.sleep,
        rng=rng,
        sender=Sender(sleep=clock.sleep, rng=rng, put=sink.put, clock=clock),
        signal_sender=Sender(sleep=clock.sleep, rng=rng, put=signals.put, clock=clock),
    )
    provider = Provider(runtime)
    config = replace(from_template(), timeout_seconds=budget_seconds)
    lam = LambdaService(clock, _environments(provider, runtime), config)
    world = World(
        session, clock, sink, runtime, provider, lam, calls, hooks, after_hooks, requested=requested
    )
    world.signals = signals
    world.stack_holds()
    return world


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
