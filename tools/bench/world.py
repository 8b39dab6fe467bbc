"""The simulated account every strategy waits in, each limit with where it comes from.

One discrete-event loop on virtual time. Each waiting resource is a generator that yields
what it does next: a pause in seconds, or ``INVOKE`` (it needs a Lambda execution, and is
resumed with True once it has one, False when Lambda gave up on the event). ``World``
holds what all waiters of one account share: the API quotas, the SDK's retries, Lambda's
concurrency and its asynchronous queue, and when ACM shows each certificate ISSUED.

Assumptions that no AWS page states are marked as such; they apply to every strategy
alike.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .account import CallLog, RateLimit

QUOTAS: Mapping[str, float] = {
    "DescribeCertificate": 10,
    "RequestCertificate": 5,
    "ListCertificates": 1,
    "ChangeResourceRecordSets": 5,
}
"""Requests per second per account. ACM (per Region): DescribeCertificate 10,
RequestCertificate 5, ListCertificates 1, https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html#api-rate-limits.
Route 53: ChangeResourceRecordSets 5 per second per account (a global service),
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html#limits-api-requests."""
VISIBLE_DELAY_S = (0.0, 5.0)
"""ISSUED reaches DescribeCertificate after a uniform delay in this range. Assumption: ACM
publishes no figure; its read API, like AWS's others, is eventually consistent. Latency is
measured from this moment, so the delay never flatters or penalises a strategy."""
REGIONAL_CONCURRENCY = 1000
"""Lambda's default concurrent executions per account and Region,
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html; new accounts may
get less (10 is common), and a function with reserved concurrency gets exactly that."""
THROTTLE_RETRY_S = (1.0, 300.0)
"""An asynchronous event Lambda cannot run for lack of concurrency goes back to its queue
and is tried again after 1 s, doubling up to 5 minutes, until the maximum event age,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html."""
DEFAULT_EVENT_AGE_S = 6 * 3600.0
"""Lambda's default maximum event age (6 hours), same page; the provider's template sets
its own (3600 s)."""
INIT_S = 0.35
"""INIT (cold start) of a Python function importing boto3, billed like the handler since
2025-08-01, https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/.
Assumption for the duration: a few hundred ms is what such functions report."""
CALL_S = 0.05
"""One AWS API call from Lambda in the same Region. Assumption (tens of ms), applied to
every strategy's billed duration; the pauses between calls dominate anyway."""
WARM_S = 300.0
"""An idle execution environment is reused within this long. Assumption: Lambda documents
reuse, not its duration."""

SdkMode = Literal["standard", "legacy"]
SDK_ATTEMPTS: Mapping[SdkMode, int] = {"standard": 3, "legacy": 5}
"""HTTP attempts per call. botocore's standard mode: 3 attempts, the n-th retry after
U(0, 1) x 2**n s (at most 20 s); legacy, boto3's default mode when nothing is configured:
5 attempts, the n-th retry after U(0, 1) x 2**(n-1) s,
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html."""

INVOKE = "invoke"
Step = float | str
Waiting = Generator[Step, bool | None, None]


@dataclass
class Lambda:
    """One function's executions: a pool of ``concurrency`` shared with nothing else."""

    concurrency: int = REGIONAL_CONCURRENCY
    event_age_s: float = DEFAULT_EVENT_AGE_S
    busy: int = 0
    peak: int = 0
    throttled: int = 0
    """Deliveries Lambda postponed for lack of concurrency."""

    def take(self) -> bool:
        if self.busy >= self.concurrency:
            self.throttled += 1
            return False
        self.busy += 1
        self.peak = max(self.peak, self.busy)
        return True

    def free(self) -> None:
        self.busy -= 1


@dataclass
class World:
    """Virtual time, the account's quotas and the call log that waiters of one run share."""

    seed: int
    quotas: Mapping[str, float] = field(default_factory=lambda: dict(QUOTAS))
    function: Lambda = field(default_factory=Lambda)
    now: float = 0.0
    calls: CallLog = field(default_factory=CallLog)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.limit = RateLimit({op: int(n) for op, n in self.quotas.items()})

    resources: list[Resource] = field(default_factory=list)
    policy_statements: int = 0
    """Statements in the function's resource-based policy (crhelper adds one per poller)."""

    def pending(self) -> int:
        """Certificates requested and not yet shown ISSUED: what ListCertificates counts."""
        return sum(r.requested and self.now < r.visible_at for r in self.resources)

    def call(
        self, operation: str, sdk: SdkMode = "standard", who: Resource | None = None
    ) -> Generator[float, None, bool]:
        """One SDK call with its retries: False when every attempt was throttled."""
        self.calls.add("called", operation, math.floor(self.now))
        attempts = SDK_ATTEMPTS[sdk]
        for attempt in range(attempts):
            second = math.floor(self.now)
            self.calls.add("attempted", operation, second)
            if self.limit.admit(operation, second):
                self.calls.add("accepted", operation, second)
                yield CALL_S
                return True
            if who is not None:
                who.throttled += 1
            if attempt + 1 < attempts:
                growth = 2 ** (attempt + 1) if sdk == "standard" else 2**attempt
                yield min(20.0, self.rng.random() * growth)
        return False


def run(world: World, waiters: Sequence[tuple[float, Waiting]]) -> None:
    """Start each waiter at its time and run the loop until every one has ended.

    A waiter that yields ``INVOKE`` gets an execution when one is free; otherwise Lambda
    tries again later (``THROTTLE_RETRY_S``) until the event is older than the function's
    maximum event age, and the waiter is resumed with False."""
    heap: list[tuple[float, int, int]] = []
    bodies = [body for _, body in waiters]
    values: dict[int, bool | None] = {}
    asking: dict[int, tuple[float, float]] = {}
    """Waiters whose event Lambda holds: (accepted at, next retry delay)."""
    order = 0

    def push(at: float, i: int) -> None:
        nonlocal order
        order += 1
        heapq.heappush(heap, (at, order, i))

    def deliver(i: int, at: float) -> bool | None:
        """True: it runs; False: Lambda gave up; None: postponed (pushed again)."""
        accepted, delay = asking[i]
        if world.function.take():
            del asking[i]
            return True
        if at + delay - accepted > world.function.event_age_s:
            del asking[i]
            return False
        asking[i] = (accepted, min(THROTTLE_RETRY_S[1], delay * 2))
        push(at + delay, i)
        return None

    for i, (start, _) in enumerate(waiters):
        push(start, i)
    while heap:
        at, _, i = heapq.heappop(heap)
        world.now = at
        value = values.pop(i, None)
        if i in asking:
            value = deliver(i, at)
            if value is None:
                continue
        try:
            step = bodies[i].send(value)
            while step == INVOKE:
                asking[i] = (at, THROTTLE_RETRY_S[0])
                answer = deliver(i, at)
                if answer is None:
                    break
                step = bodies[i].send(answer)
            else:
                push(at + float(step), i)
        except StopIteration:
            continue


Strategy = Callable[[World, "Resource"], Waiting]


@dataclass
class Resource:
    """One resource waited for: when its certificate shows ISSUED, and what it cost.

    ACM validates ``validation_s`` after the validation record is in Route 53 (a wait
    whose requests were throttled starts later), and DescribeCertificate shows ISSUED
    ``visibility_s`` after that."""

    validation_s: float
    visibility_s: float
    visible_at: float = math.inf
    invocations: int = 0
    billed_ms: int = 0
    transitions: int = 0
    scheduled_events: int = 0
    control_calls: int = 0
    """Calls to other control planes (EventBridge rules, Lambda permissions)."""
    describe_calls: int = 0
    requested: bool = False
    throttled: int = 0
    """HTTP attempts of this wait that were throttled (any operation)."""
    answer: tuple[float, str] | None = None
    why: str = ""
    _warm_until: float = -math.inf

    def bill(self, world: World, seconds: float, functions: int = 1) -> None:
        """One invocation (or ``functions`` chained ones) of ``seconds``; INIT when no
        environment was warm."""
        cold = world.now - seconds > self._warm_until
        self._warm_until = world.now + WARM_S
        billed = seconds + (INIT_S if cold else 0.0)
        self.invocations += functions
        self.billed_ms += functions * max(1, math.ceil(billed * 1000))

    @classmethod
    def drawn(cls, rng: random.Random, validation_s: float) -> Resource:
        return cls(validation_s, rng.uniform(*VISIBLE_DELAY_S))

    def record_written(self, now: float) -> None:
        if self.visible_at == math.inf:
            self.visible_at = now + self.validation_s + self.visibility_s

    @property
    def latency(self) -> float | None:
        """Seconds from ISSUED visible to a SUCCESS answer."""
        if self.answer is None or self.answer[1] != "SUCCESS":
            return None
        return self.answer[0] - self.visible_at

    def respond(self, at: float, status: str, why: str = "") -> None:
        if self.answer is None:
            self.answer, self.why = (at, status), why
