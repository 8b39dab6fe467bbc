"""The other ways to wait for a certificate, modelled in the same world (``world.py``).

Each peer is a strategy: a generator per waiting resource that yields its pauses and its
Lambda invocations. All run against the same quotas, issuance, visibility delay, Lambda
concurrency and billing (INIT on cold starts, each API call's time) as the provider's
model. Every peer runs at its default setting and at the best setting its documentation
offers. Each parameter is a documented default or read from the peer's public code; the
source is next to the constant. The peers do not run this project's handler.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

from .world import INVOKE, Resource, SdkMode, Waiting, World

SERVICE_TIMEOUT_S = 3600.0
"""CloudFormation's default ServiceTimeout: no answer by then and the operation fails."""
HORIZON_S = 2 * 3600.0
"""A peer without a deadline of its own is followed this long, past CloudFormation's."""
MEMORY_MB = 128
"""The same function size as the provider's template, so GB-s compare."""
START_SPREAD_S = 20.0
"""Requests reach ACM over the same 0-20 s as the provider's start jitter."""
BOTO3: SdkMode = "legacy"
"""A user's Python handler keeps boto3's defaults: legacy retry mode, 5 attempts."""

CRHELPER_DEFAULT_MIN = 2
CRHELPER_BEST_MIN = 1
"""crhelper 2.0.12, ``CfnResource(polling_interval=2)`` by default: an EventBridge rule
``rate(N minutes)`` invokes the function to poll (resource_helper.py); 1 minute is the
shortest rate EventBridge schedules,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html."""
CRHELPER_SETUP_CALLS = 3
"""Per waiting resource, ``_setup_polling``: events.put_rule, lambda.add_permission,
events.put_targets; ``_remove_polling`` undoes them with three more calls."""
POLICY_STATEMENTS = 40
"""A function's resource-based policy holds at most 20 KB,
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html; crhelper adds
one statement (about 0.5 KB, an assumption from its fields) per polling resource, so
about 40 resources can poll at once; the next AddPermission fails
(PolicyLengthExceededException) and crhelper answers FAILED."""
REINVOKE_EVERY_S = 15.0
"""Sleep 15 s in the invocation, then invoke itself asynchronously."""
RECURSION_STOP_HOPS = 16
"""Lambda's recursive loop detection stops a chain after about 16 invocations:
https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html; the function's
RecursiveLoop setting Allow switches it off."""
CDK_QUERY_INTERVAL_S = 5.0
CDK_DEFAULT_TIMEOUT_S = 30 * 60.0
CDK_BEST_TIMEOUT_S = 60 * 60.0
"""aws-cdk custom-resources provider framework (``util.ts``, ``calculateRetryPolicy``):
queryInterval 5 s and totalTimeout 30 min by default; totalTimeout may be raised, and an
hour is all CloudFormation's ServiceTimeout lets it use,
https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html."""
CDK_FUNCTIONS_PER_QUERY = 2
"""The framework's isComplete function calls the user's isComplete function: two
invocations per query, each a Step Functions task (one transition) and a wait."""
LONG_WAITER_DELAY_S = 30.0
LONG_WAITER_ATTEMPTS = 19
"""The deprecated CDK DnsValidatedCertificate's handler
(aws-certificatemanager/lambda-packages/dns_validated_certificate_handler/lib/index.js):
``waitFor('certificateValidated')`` with a 30 s delay and 19 attempts (9.5 min) inside
one invocation; a waiter error answers FAILED. It has no setting to wait longer."""

Strategy = Callable[[World, Resource], Waiting]


def create(world: World, r: Resource, sdk: SdkMode) -> Generator[float, None, bool]:
    """Request the certificate and write its validation record; FAILED when throttled."""
    for operation in ("RequestCertificate", "DescribeCertificate", "ChangeResourceRecordSets"):
        if not (yield from world.call(operation, sdk, r)):
            r.respond(world.now, "FAILED", f"{operation} throttled")
            return False
        if operation == "RequestCertificate":
            r.requested = True
    r.describe_calls += 1
    r.record_written(world.now)
    return True


def describe(world: World, r: Resource, sdk: SdkMode) -> Generator[float, None, str]:
    r.describe_calls += 1
    if not (yield from world.call("DescribeCertificate", sdk, r)):
        return "THROTTLED"
    return "ISSUED" if world.now >= r.visible_at else "PENDING"


def crhelper_poll(minutes: int) -> Strategy:
    """Create requests and sets up a rule; the rule invokes one short poll per interval,
    with no deadline; a poll that raises answers FAILED; done, it removes the rule."""

    def strategy(world: World, r: Resource) -> Waiting:
        if not (yield INVOKE):
            return
        start = world.now
        ok = yield from create(world, r, BOTO3)
        if ok:
            r.control_calls += CRHELPER_SETUP_CALLS
            world.policy_statements += 1
            if world.policy_statements > POLICY_STATEMENTS:
                world.policy_statements -= 1
                why = "AddPermission: PolicyLengthExceededException (20 KB function policy)"
                r.respond(world.now, "FAILED", why)
                ok = False
        r.bill(world, world.now - start)
        world.function.free()
        while ok and world.now < HORIZON_S:
            yield minutes * 60.0
            r.scheduled_events += 1
            if not (yield INVOKE):
                continue
            start = world.now
            status = yield from describe(world, r, BOTO3)
            if status != "PENDING":
                r.control_calls += CRHELPER_SETUP_CALLS
                world.policy_statements -= 1
            r.bill(world, world.now - start)
            world.function.free()
            if status == "ISSUED":
                r.respond(world.now, "SUCCESS")
                return
            if status == "THROTTLED":
                r.respond(world.now, "FAILED", "a poll raised ThrottlingException")
                return

    return strategy


def reinvoke_every_15s(stop_after: int | None) -> Strategy:
    """Poll, sleep 15 s inside the invocation, invoke itself; no deadline. With
    ``stop_after`` Lambda stops the chain after that many invocations, and no one answers."""

    def strategy(world: World, r: Resource) -> Waiting:
        if not (yield INVOKE):
            return
        start = world.now
        if not (yield from create(world, r, BOTO3)):
            r.bill(world, world.now - start)
            world.function.free()
            return
        while world.now < HORIZON_S:
            status = yield from describe(world, r, BOTO3)
            if status == "ISSUED":
                r.bill(world, world.now - start)
                world.function.free()
                r.respond(world.now, "SUCCESS")
                return
            yield REINVOKE_EVERY_S
            r.bill(world, world.now - start)
            world.function.free()
            if stop_after is not None and r.invocations >= stop_after:
                r.why = f"recursive loop detection stopped it after {stop_after} invocations"
                return
            if not (yield INVOKE):
                return
            start = world.now

    return strategy


def cdk_is_complete(total_timeout_s: float) -> Strategy:
    """onEvent requests and starts the waiter state machine; it queries isComplete every
    5 s (a throttled query is retried like a pending one) until its total timeout."""

    def strategy(world: World, r: Resource) -> Waiting:
        if not (yield INVOKE):
            return
        start = world.now
        ok = yield from create(world, r, BOTO3)
        r.bill(world, world.now - start, CDK_FUNCTIONS_PER_QUERY)
        world.function.free()
        if not ok:
            return
        r.transitions += 1
        for _ in range(int(total_timeout_s / CDK_QUERY_INTERVAL_S)):
            r.transitions += 2  # the task and the wait
            if not (yield INVOKE):
                yield CDK_QUERY_INTERVAL_S
                continue
            start = world.now
            status = yield from describe(world, r, BOTO3)
            r.bill(world, world.now - start, CDK_FUNCTIONS_PER_QUERY)
            world.function.free()
            if status == "ISSUED":
                r.respond(world.now, "SUCCESS")
                return
            yield CDK_QUERY_INTERVAL_S
        r.transitions += 1
        minutes = total_timeout_s / 60
        r.respond(world.now, "FAILED", f"the waiter's total timeout ({minutes:g} min) passed")

    return strategy


def one_long_invocation(world: World, r: Resource) -> Waiting:
    """Request, then an SDK waiter inside the same invocation (30 s x 19)."""
    if not (yield INVOKE):
        return
    start = world.now
    ok = yield from create(world, r, "standard")
    for attempt in range(LONG_WAITER_ATTEMPTS if ok else 0):
        if attempt:
            yield LONG_WAITER_DELAY_S
        status = yield from describe(world, r, "standard")
        if status != "PENDING":
            done = status == "ISSUED"
            r.respond(world.now, "SUCCESS" if done else "FAILED", "" if done else "throttled")
            break
    else:
        if ok:
            r.respond(world.now, "FAILED", "the waiter gave up after 9.5 min")
    r.bill(world, world.now - start)
    world.function.free()


@dataclass(frozen=True)
class Peer:
    key: str
    label: str
    strategy: Strategy


PEERS = (
    Peer("crhelper", "crhelper poll, default (2 min rule)", crhelper_poll(CRHELPER_DEFAULT_MIN)),
    Peer("crhelper-1", "crhelper poll, best (1 min rule)", crhelper_poll(CRHELPER_BEST_MIN)),
    Peer(
        "reinvoke-16",
        "re-invoke every 15 s, default (loop detection on)",
        reinvoke_every_15s(RECURSION_STOP_HOPS),
    ),
    Peer(
        "reinvoke",
        "re-invoke every 15 s, best (RecursiveLoop Allow)",
        reinvoke_every_15s(None),
    ),
    Peer(
        "cdk", "CDK Provider isComplete, default (30 min)", cdk_is_complete(CDK_DEFAULT_TIMEOUT_S)
    ),
    Peer("cdk-60", "CDK Provider isComplete, best (60 min)", cdk_is_complete(CDK_BEST_TIMEOUT_S)),
    Peer("long", "one long invocation (DnsValidatedCertificate)", one_long_invocation),
)
