"""One benchmark run: the real provider on the emulator's Lambda, against the simulated account.

Every resource's Create is delivered at the same virtual instant; the run ends when every
delivery (hops and Lambda's retries included) has ended. One ``Provider`` per execution
environment, as in AWS. botocore's own retries (standard mode, as
``custom_resource.aws.CLIENT_CONFIG`` sets) stay on, their backoff in virtual time.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import botocore.endpoint
import botocore.loaders
import botocore.session
from botocore.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws
from moto import settings as moto_settings

import custom_resource.aws
from custom_resource.aws import Clients
from custom_resource.handler import Provider
from custom_resource.lifecycle import Runtime
from custom_resource.response import Sender
from custom_resource.settings import Settings
from tools.emulator import FunctionConfig, Invocation, LambdaService, ResponseSink, VirtualClock

from .account import ACM_LIMITS, REGION, AcmFrontDoor, CallLog, Issuer, ResourceSpec

HORIZON_SECONDS = 3 * 3600
"""A run still going after this much virtual time has an endless chain: stop it."""
_FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class ResourceOutcome:
    spec: ResourceSpec
    issued_at: float | None
    responses: list[tuple[float, str]]
    """(simulated seconds since delivery, Status) of every response sent."""
    invocations: list[Invocation]

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
    invocations: list[Invocation]
    calls: CallLog
    environments: int
    peak_concurrency: int
    simulated_seconds: float
    real_seconds: float


def simulate(
    specs: Sequence[ResourceSpec],
    *,
    settings: Settings,
    function: FunctionConfig,
    seed: int,
    limits: Mapping[str, int] = ACM_LIMITS,
    sdk_total_attempts: int | None = None,
    verbose: bool = False,
) -> SimResult:
    """Deliver every resource's Create at the same instant and run until all answered."""
    began = time.perf_counter()
    clock = VirtualClock(horizon_seconds=HORIZON_SECONDS)
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

        lam = LambdaService(clock, new_provider, function)
        lam.attach(session)
        for spec in specs:
            lam.submit(spec.event())
        try:
            lam.drain()
        finally:
            clock.shutdown()

    answers: defaultdict[str, list[tuple[float, str]]] = defaultdict(list)
    for body, at in zip(sink.bodies, sink.times, strict=True):
        answers[body["LogicalResourceId"]].append((at - clock.start, body["Status"]))
    hops: defaultdict[str, list[Invocation]] = defaultdict(list)
    for invocation in lam.invocations:
        hops[invocation.logical_resource_id].append(invocation)
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
    clock: VirtualClock, seed: int, sdk_total_attempts: int | None, verbose: bool
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
