"""The other ways to wait for a certificate, modelled in the provider's simulated world.

Each peer is a small strategy: a generator per waiting resource that yields how long it
sleeps next. One discrete-event loop runs them all on virtual time against the same ACM
quota (``account.RateLimit``), the same issuance times, the same SDK retries (botocore's
standard mode, as the provider's clients) and the same Lambda billing (memory x billed
duration, 1 ms granularity). API calls take no time, as in the provider's run.

Each parameter is a documented default or read from the peer's public code; the source
is next to the constant. The peers do not run this project's handler: only the provider's
own row in the comparison does (``cases.py``).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass

from .account import ACM_LIMITS, CallLog, RateLimit
from .pricing import Bill, gb_seconds

SERVICE_TIMEOUT_S = 3600.0
"""CloudFormation's default ServiceTimeout: no answer by then and the operation fails."""
HORIZON_S = 2 * 3600.0
"""A peer without a deadline of its own is followed this long, past CloudFormation's."""
MEMORY_MB = 128
"""The same function size as the provider's template, so GB-s compare."""
SDK_ATTEMPTS = 3
"""botocore's standard retry mode: 3 attempts, the n-th retry after U(0, 2**n) s."""
START_SPREAD_S = 20.0
"""Requests reach ACM over the same 0-20 s as the provider's start jitter, so the
comparison is about waiting, not about who requests first."""

CRHELPER_INTERVAL_S = 120.0
"""crhelper 2.0.12, ``CfnResource(polling_interval=2)``: an EventBridge rule
``rate(2 minutes)`` invokes the function to poll (resource_helper.py)."""
REINVOKE_EVERY_S = 15.0
"""Sleep 15 s in the invocation, then invoke itself asynchronously."""
RECURSION_STOP_HOPS = 16
"""Lambda's recursive loop detection stops a chain after about 16 invocations:
https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html"""
CDK_QUERY_INTERVAL_S = 5.0
CDK_TOTAL_TIMEOUT_S = 30 * 60.0
"""aws-cdk custom-resources provider framework (``util.ts``, ``calculateRetryPolicy``):
queryInterval 5 s and totalTimeout 30 min by default; the waiter state machine retries
the isComplete task totalTimeout / queryInterval times, then its onTimeout function
answers FAILED. https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html"""
CDK_FUNCTIONS_PER_QUERY = 2
"""The framework's isComplete function calls the user's isComplete function: two
invocations per query."""
LONG_WAITER_DELAY_S = 30.0
LONG_WAITER_ATTEMPTS = 19
"""The deprecated CDK DnsValidatedCertificate's handler
(aws-certificatemanager/lambda-packages/dns_validated_certificate_handler/lib/index.js):
``waitFor('certificateValidated')`` with a 30 s delay and 19 attempts (9.5 min) inside
one invocation; a waiter error answers FAILED."""

Status = str  # "ISSUED" | "PENDING" | "THROTTLED"
Sleeps = Generator[float, None, None]


@dataclass
class Waiter:
    """One resource waited for by a peer: its bill and its answer."""

    issue_at: float
    start_at: float
    invocations: int = 0
    billed_ms: int = 0
    transitions: int = 0
    scheduled_events: int = 0
    describe_calls: int = 0
    answer: tuple[float, str] | None = None
    why: str = ""

    def bill(self, seconds: float, functions: int = 1) -> None:
        self.invocations += functions
        self.billed_ms += functions * max(1, math.ceil(seconds * 1000))

    def respond(self, at: float, status: str, why: str = "") -> None:
        if self.answer is None:
            self.answer, self.why = (at, status), why

    @property
    def units(self) -> Bill:
        return Bill(
            self.invocations,
            gb_seconds(self.billed_ms, MEMORY_MB),
            self.transitions,
            self.scheduled_events,
        )


class World:
    """Virtual time, ACM's quota and the call log all waiters of one run share."""

    def __init__(self, limits: Mapping[str, int], seed: int) -> None:
        self.now = 0.0
        self.limit = RateLimit(limits)
        self.calls = CallLog()
        self.rng = random.Random(seed)

    def call(self, operation: str) -> Generator[float, None, bool]:
        """One SDK call: False when every attempt was throttled."""
        self.calls.add("called", operation, math.floor(self.now))
        for attempt in range(SDK_ATTEMPTS):
            second = math.floor(self.now)
            self.calls.add("attempted", operation, second)
            if self.limit.admit(operation, second):
                self.calls.add("accepted", operation, second)
                return True
            if attempt + 1 < SDK_ATTEMPTS:
                yield self.rng.random() * 2**attempt
        return False

    def describe(self, waiter: Waiter) -> Generator[float, None, Status]:
        waiter.describe_calls += 1
        if not (yield from self.call("DescribeCertificate")):
            return "THROTTLED"
        return "ISSUED" if self.now >= waiter.issue_at else "PENDING"

    def request(self, waiter: Waiter) -> Generator[float, None, bool]:
        ok = yield from self.call("RequestCertificate")
        if not ok:
            waiter.respond(self.now, "FAILED", "RequestCertificate throttled")
        return ok


def crhelper_poll(world: World, w: Waiter) -> Sleeps:
    """Create requests and returns; the rule invokes one short poll every 2 minutes,
    with no deadline; a poll that raises answers FAILED."""
    start = world.now
    ok = yield from world.request(w)
    w.bill(world.now - start)
    while ok and world.now < HORIZON_S:
        yield CRHELPER_INTERVAL_S
        w.scheduled_events += 1
        start = world.now
        status = yield from world.describe(w)
        w.bill(world.now - start)
        if status == "ISSUED":
            w.respond(world.now, "SUCCESS")
            return
        if status == "THROTTLED":
            w.respond(world.now, "FAILED", "a poll raised ThrottlingException")
            return


def reinvoke_every_15s(stop_after: int | None) -> Callable[[World, Waiter], Sleeps]:
    """Poll, sleep 15 s inside the invocation, invoke itself; no deadline. With
    ``stop_after`` Lambda stops the chain after that many invocations, and no one answers."""

    def strategy(world: World, w: Waiter) -> Sleeps:
        start = world.now
        if not (yield from world.request(w)):
            w.bill(world.now - start)
            return
        while world.now < HORIZON_S:
            status = yield from world.describe(w)
            if status == "ISSUED":
                w.bill(world.now - start)
                w.respond(world.now, "SUCCESS")
                return
            yield REINVOKE_EVERY_S
            w.bill(world.now - start)
            if stop_after is not None and w.invocations >= stop_after:
                w.why = f"recursive loop detection stopped it after {stop_after} invocations"
                return
            start = world.now

    return strategy


def cdk_is_complete(world: World, w: Waiter) -> Sleeps:
    """onEvent requests and starts the waiter state machine; it queries isComplete every
    5 s (a throttled query is retried like a pending one) until its total timeout."""
    start = world.now
    ok = yield from world.request(w)
    w.bill(world.now - start, CDK_FUNCTIONS_PER_QUERY)
    if not ok:
        return
    w.transitions += 1
    for _ in range(int(CDK_TOTAL_TIMEOUT_S / CDK_QUERY_INTERVAL_S)):
        w.transitions += 1
        start = world.now
        status = yield from world.describe(w)
        w.bill(world.now - start, CDK_FUNCTIONS_PER_QUERY)
        if status == "ISSUED":
            w.respond(world.now, "SUCCESS")
            return
        yield CDK_QUERY_INTERVAL_S
    w.transitions += 1
    w.bill(0.0)
    w.respond(world.now, "FAILED", "the waiter's total timeout (30 min) passed")


def one_long_invocation(world: World, w: Waiter) -> Sleeps:
    """Request, then an SDK waiter inside the same invocation (30 s x 19)."""
    start = world.now
    if not (yield from world.request(w)):
        w.bill(world.now - start)
        return
    for attempt in range(LONG_WAITER_ATTEMPTS):
        if attempt:
            yield LONG_WAITER_DELAY_S
        status = yield from world.describe(w)
        if status != "PENDING":
            w.bill(world.now - start)
            ok = status == "ISSUED"
            w.respond(world.now, "SUCCESS" if ok else "FAILED", "" if ok else "waiter throttled")
            return
    w.bill(world.now - start)
    w.respond(world.now, "FAILED", "the waiter gave up after 9.5 min")


@dataclass(frozen=True)
class Peer:
    key: str
    label: str
    strategy: Callable[[World, Waiter], Sleeps]


PEERS = (
    Peer("crhelper", "crhelper poll (2 min rule)", crhelper_poll),
    Peer(
        "reinvoke-16",
        "re-invoke every 15 s, loop detection on",
        reinvoke_every_15s(RECURSION_STOP_HOPS),
    ),
    Peer("reinvoke", "re-invoke every 15 s, loop detection off", reinvoke_every_15s(None)),
    Peer("cdk", "CDK Provider isComplete (Step Functions)", cdk_is_complete),
    Peer("long", "one long invocation (DnsValidatedCertificate)", one_long_invocation),
)


@dataclass
class PeerRun:
    waiters: list[Waiter]
    calls: CallLog


def run_peer(
    peer: Peer,
    issue_after_s: Sequence[float],
    *,
    seed: int,
    limits: Mapping[str, int] = ACM_LIMITS,
) -> PeerRun:
    """Every waiter starts within ``START_SPREAD_S``; run until all have ended."""
    world = World(limits, seed)
    waiters = [Waiter(t, world.rng.uniform(0, START_SPREAD_S)) for t in issue_after_s]
    queue: list[tuple[float, int, Sleeps]] = []
    for i, waiter in enumerate(waiters):
        queue.append((waiter.start_at, i, peer.strategy(world, waiter)))
    heapq.heapify(queue)
    while queue:
        at, i, sleeps = heapq.heappop(queue)
        world.now = at
        pause = next(sleeps, None)
        if pause is not None:
            heapq.heappush(queue, (at + pause, i, sleeps))
    return PeerRun(waiters, world.calls)
