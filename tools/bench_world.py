"""A simulated account for the benchmark: moto's ACM behind a rate limiter, a Lambda
service that runs invocations concurrently, and certificates issued at set times.

Everything runs on ``VirtualTime``; the provider (``custom_resource.handler.Provider``)
runs unmodified, one ``Provider`` per Lambda execution environment as in AWS.

What is simulated, and how:
- ACM answers through moto. Every HTTP attempt passes a front door that counts it per
  simulated second and answers ``ThrottlingException`` once the second's quota of the
  operation is used up (a bucket of N tokens refilled at every whole second).
- botocore's own retries (standard mode, as ``custom_resource.aws.CLIENT_CONFIG`` sets)
  stay on; their backoff sleeps are moved to virtual time.
- Lambda: an asynchronous self-invocation is captured on the boto3 session and delivered
  at once to a free execution environment, or to a new one (a cold start).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Literal, get_args
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore.endpoint
import botocore.loaders
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws
from moto import settings as moto_settings
from moto.acm.models import acm_backends
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

import custom_resource.aws
from custom_resource.aws import Clients
from custom_resource.handler import Provider
from custom_resource.lifecycle import Runtime
from custom_resource.request import RELAY_KEY
from custom_resource.response import Sender
from custom_resource.settings import Settings
from tools.bench_clock import VirtualTime
from tools.local_lambda import FUNCTION_ARN, FakeContext, ResponseSink

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/bench/5b1c6f60-11ef-9f1a-0a1b2c3d4e5f"
RESPONSE_URL = (
    "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/"
    "arn%3Aaws%3Acloudformation/bench-{name}?X-Amz-Signature=secret-signature"
)

ACM_LIMITS: Mapping[str, int] = {
    "DescribeCertificate": 10,
    "RequestCertificate": 5,
    "DeleteCertificate": 10,
}
"""ACM's request rates per second, per account and region (FACTS.md)."""

_FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True)
class ResourceSpec:
    """One custom resource of the run: its Create event and when ACM issues it."""

    name: str
    domain: str
    issue_after: float
    """Seconds after the Create is delivered; if the certificate is requested later
    (throttling), it is issued as soon as it exists."""

    def event(self) -> dict[str, Any]:
        return {
            "RequestType": "Create",
            "ServiceToken": FUNCTION_ARN,
            "ResponseURL": RESPONSE_URL.format(name=self.name),
            "StackId": STACK_ID,
            "RequestId": f"bench-{self.name}-{self.domain}",
            "LogicalResourceId": self.name,
            "ResourceType": "Custom::WaitForCertificate",
            "ResourceProperties": {"ServiceToken": FUNCTION_ARN, "DomainName": self.domain},
        }


@dataclass(frozen=True)
class InvocationRecord:
    resource: str
    hop: int
    started: float
    ended: float
    environment: int

    @property
    def duration(self) -> float:
        return self.ended - self.started

    @property
    def billed_ms(self) -> int:
        """Lambda bills each invocation's duration rounded up to the millisecond."""
        return max(1, math.ceil(round(self.duration * 1000, 6)))


Kind = Literal["called", "attempted", "accepted"]


@dataclass
class CallLog:
    """Per operation and simulated second: the API calls the provider made (``called``),
    the HTTP attempts the service saw, botocore's retries included (``attempted``), and
    those it did not throttle (``accepted``)."""

    counts: dict[Kind, defaultdict[str, Counter[int]]] = field(
        default_factory=lambda: {k: defaultdict(Counter) for k in get_args(Kind)}
    )

    def add(self, kind: Kind, operation: str, second: int) -> None:
        self.counts[kind][operation][second] += 1

    def total(self, operation: str, kind: Kind = "attempted") -> int:
        return sum(self.counts[kind][operation].values())

    def peak(self, operation: str, kind: Kind = "attempted") -> int:
        return max(self.counts[kind][operation].values(), default=0)

    def seconds_over(self, operation: str, limit: int, kind: Kind = "attempted") -> int:
        return sum(1 for n in self.counts[kind][operation].values() if n > limit)

    def throttled(self, operation: str) -> int:
        return self.total(operation) - self.total(operation, "accepted")


class AcmFrontDoor:
    """Counts every HTTP attempt and throttles it like ACM before moto answers it."""

    def __init__(self, clock: VirtualTime, session: Any, limits: Mapping[str, int]) -> None:
        self.clock = clock
        self.limits = dict(limits)
        self.calls = CallLog()
        self._used: Counter[tuple[str, str, int]] = Counter()
        events = session.events
        events.unregister("before-send", botocore_stubber)
        events.register("before-send", self._handle)
        events.register("before-call.acm", self._count_call)

    def _count_call(self, model: Any, **_: Any) -> None:
        self.calls.add("called", model.name, math.floor(self.clock.elapsed))

    def _handle(self, event_name: str, request: Any, **kwargs: Any) -> Any:
        _, service, operation = event_name.split(".", 2)
        second = math.floor(self.clock.elapsed)
        self.calls.add("attempted", operation, second)
        limit = self.limits.get(operation) if service == "acm" else None
        if limit is not None:
            region = (urlsplit(request.url).hostname or "").split(".")[1]
            key = (region, operation, second)
            if self._used[key] >= limit:
                return _throttled(request.url)
            self._used[key] += 1
        self.calls.add("accepted", operation, second)
        return botocore_stubber(event_name=event_name, request=request, **kwargs)


def _throttled(url: str) -> AWSResponse:
    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "throttled"}
    return AWSResponse(url, 400, headers, MockRawResponse(body))


class Issuer:
    """Turns each resource's certificate ISSUED at its time (on moto's backend)."""

    def __init__(self, clock: VirtualTime, session: Any, specs: Sequence[ResourceSpec]) -> None:
        self.clock = clock
        self.issued_at: dict[str, float] = {}
        self._due: set[str] = set()
        for spec in specs:
            clock.at(spec.issue_after, functools.partial(self._make_due, spec.domain))
        session.events.register("after-call.acm.RequestCertificate", self._issue_due)

    def _make_due(self, domain: str) -> None:
        self._due.add(domain)
        self._issue_due()

    def _issue_due(self, **_: Any) -> None:
        if not self._due:
            return
        for cert in acm_backends[ACCOUNT][REGION]._certificates.values():
            if cert.common_name in self._due and cert.status == "PENDING_VALIDATION":
                cert.status = "ISSUED"
                self._due.discard(cert.common_name)
                self.issued_at[cert.common_name] = self.clock.elapsed


class _Accepted:
    status_code = 202


@dataclass
class _Environment:
    number: int
    provider: Provider


class SimLambda:
    """Lambda's asynchronous invocations, run concurrently in virtual time."""

    def __init__(
        self,
        clock: VirtualTime,
        session: Any,
        new_provider: Callable[[], Provider],
        budget_seconds: float,
        delivery_delay: float = 0.0,
    ) -> None:
        self.clock = clock
        self.new_provider = new_provider
        self.budget_seconds = budget_seconds
        self.delivery_delay = delivery_delay
        self.invocations: list[InvocationRecord] = []
        self.environments = 0
        self.busy = 0
        self.peak_busy = 0
        self._free: list[_Environment] = []
        session.events.register("before-call.lambda.Invoke", self._capture)

    def deliver(self, event: dict[str, Any], delay: float = 0.0) -> None:
        name = f"{event.get('LogicalResourceId')}-hop{event.get(RELAY_KEY, {}).get('Hop', 1)}"
        self.clock.spawn(lambda: self._invoke(event), delay, name)

    def _capture(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        headers = params.get("headers", {})
        if headers.get("X-Amz-Invocation-Type") != "Event":
            raise AssertionError(f"self-invocation must be asynchronous: {headers}")
        if FUNCTION_ARN not in params.get("url_path", "").replace("%3A", ":"):
            raise AssertionError(f"invoked another function: {params.get('url_path')}")
        self.deliver(json.loads(params["body"]), self.delivery_delay)
        return _Accepted(), {"StatusCode": 202, "ResponseMetadata": {"HTTPStatusCode": 202}}

    def _invoke(self, event: dict[str, Any]) -> None:
        if self._free:
            environment = self._free.pop()
        else:
            self.environments += 1
            environment = _Environment(self.environments, self.new_provider())
        self.busy += 1
        self.peak_busy = max(self.peak_busy, self.busy)
        context = FakeContext(self.clock, self.budget_seconds, FUNCTION_ARN)
        started = self.clock.elapsed
        try:
            environment.provider(json.loads(json.dumps(event)), context)
        finally:
            self.busy -= 1
            self._free.append(environment)
        hop = int(event.get(RELAY_KEY, {}).get("Hop", 1))
        record = InvocationRecord(
            event["LogicalResourceId"], hop, started, self.clock.elapsed, environment.number
        )
        self.invocations.append(record)


@dataclass
class ResourceOutcome:
    spec: ResourceSpec
    issued_at: float | None
    responses: list[tuple[float, str]]
    """(simulated seconds since delivery, Status) of every response sent."""
    invocations: list[InvocationRecord]

    @property
    def succeeded(self) -> bool:
        return [status for _, status in self.responses] == ["SUCCESS"]

    @property
    def detection_latency(self) -> float | None:
        if self.issued_at is None or not self.responses:
            return None
        return self.responses[0][0] - self.issued_at


@dataclass
class SimResult:
    resources: list[ResourceOutcome]
    invocations: list[InvocationRecord]
    calls: CallLog
    environments: int
    peak_concurrency: int
    simulated_seconds: float
    real_seconds: float


def simulate(
    specs: Sequence[ResourceSpec],
    *,
    settings: Settings,
    budget_seconds: float,
    seed: int,
    limits: Mapping[str, int] = ACM_LIMITS,
    sdk_total_attempts: int | None = None,
    verbose: bool = False,
) -> SimResult:
    """Deliver every resource's Create at the same instant and run until all answered."""
    began = time.perf_counter()
    clock = VirtualTime()
    seeds = random.Random(seed)
    with (
        _simulated_process(clock, seed, sdk_total_attempts, verbose),
        mock_aws(),
        mock.patch.object(boto3, "DEFAULT_SESSION", _session()),  # crhelper's clients
    ):
        session = _session()
        front_door = AcmFrontDoor(clock, session, limits)
        issuer = Issuer(clock, session, specs)
        sink = ResponseSink(clock=clock)

        def new_provider() -> Provider:
            rng = random.Random(seeds.getrandbits(64))
            runtime = Runtime(
                clients=Clients(session, REGION),
                settings=settings,
                clock=clock,
                sleep=clock.sleep,
                rng=rng,
                sender=Sender(sleep=clock.sleep, rng=rng, put=sink.put),
            )
            return Provider(runtime)

        lam = SimLambda(clock, session, new_provider, budget_seconds)
        for spec in specs:
            lam.deliver(spec.event())
        clock.run()

    answers: defaultdict[str, list[tuple[float, str]]] = defaultdict(list)
    for body, at in zip(sink.bodies, sink.times, strict=True):
        answers[body["LogicalResourceId"]].append((at - clock.start, body["Status"]))
    hops: defaultdict[str, list[InvocationRecord]] = defaultdict(list)
    for record in lam.invocations:
        hops[record.resource].append(record)
    outcomes = [
        ResourceOutcome(
            spec, issuer.issued_at.get(spec.domain), answers[spec.name], hops[spec.name]
        )
        for spec in specs
    ]
    return SimResult(
        resources=outcomes,
        invocations=lam.invocations,
        calls=front_door.calls,
        environments=lam.environments,
        peak_concurrency=lam.peak_busy,
        simulated_seconds=clock.elapsed,
        real_seconds=time.perf_counter() - began,
    )


def total_attempts(config: Config) -> int | None:
    """HTTP attempts per call a client config allows: botocore reads ``max_attempts`` in a
    client config as retries after the first attempt, ``total_max_attempts`` as all."""
    retries = config.retries or {}
    if "total_max_attempts" in retries:
        return int(retries["total_max_attempts"])
    if "max_attempts" in retries:
        return int(retries["max_attempts"]) + 1
    return None


@functools.cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def _session() -> boto3.Session:
    """A new session that reuses the service models already read (~0.15 s per session)."""
    core = botocore.session.Session()
    core.register_component("data_loader", _loader())
    return boto3.Session(botocore_session=core, region_name=REGION)


@contextlib.contextmanager
def _simulated_process(
    clock: VirtualTime, seed: int, sdk_total_attempts: int | None, verbose: bool
) -> Iterator[None]:
    """Process-wide settings of one run, all restored afterwards."""
    state = random.getstate()
    random.seed(seed)  # botocore's retry jitter draws from the global generator
    disabled = logging.root.manager.disable
    if not verbose:
        logging.disable(logging.CRITICAL)
    config = custom_resource.aws.CLIENT_CONFIG
    if sdk_total_attempts is not None:
        config = config.merge(
            Config(retries={"mode": "standard", "total_max_attempts": sdk_total_attempts})
        )
    environ = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_ENDPOINT_URL")}
    try:
        with (
            mock.patch.dict(os.environ, {**environ, **_FAKE_ENVIRONMENT}, clear=True),
            mock.patch.object(moto_settings, "ACM_VALIDATION_WAIT", 10**9),
            mock.patch.object(botocore.endpoint, "time", SimpleNamespace(sleep=clock.sleep)),
            mock.patch.object(custom_resource.aws, "CLIENT_CONFIG", config),
            mock.patch.object(rsa, "generate_private_key", _one_key(rsa.generate_private_key)),
            mock.patch.object(
                serialization, "load_pem_private_key", _memo(serialization.load_pem_private_key)
            ),
        ):
            yield
    finally:
        logging.disable(disabled)
        random.setstate(state)


def _one_key(generate: Callable[..., Any]) -> Callable[..., Any]:
    """moto makes an RSA key per certificate (~75 ms); one shared key is enough here."""
    keys: dict[tuple[int, int], Any] = {}

    def cached(public_exponent: int, key_size: int, backend: Any = None) -> Any:
        if (public_exponent, key_size) not in keys:
            keys[public_exponent, key_size] = generate(public_exponent, key_size)
        return keys[public_exponent, key_size]

    return cached


def _memo(load: Callable[..., Any]) -> Callable[..., Any]:
    """moto re-reads that key for each certificate (~30 ms each): read it once."""
    loaded: dict[tuple[bytes, bytes | None], Any] = {}

    def cached(data: bytes, password: bytes | None, backend: Any = None, **kw: Any) -> Any:
        if (data, password) not in loaded:
            loaded[data, password] = load(data, password, **kw)
        return loaded[data, password]

    return cached
