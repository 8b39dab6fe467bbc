"""The waiting engine: poll a task, sleep between polls, re-invoke the function in time.

A hop polls at a jittered interval. A certificate's wait is paced by the account's crowd
(``pacing``: how many certificates the account is waiting for, counted right after the
request, so that all waiters together stay under half of ACM's DescribeCertificate quota)
and every wait treats throttling as congestion (AIMD): a throttled attempt multiplies the
interval, up to a cap; each clean poll brings it back. A lone waiter answers within
seconds, and a thousand stay a good neighbour of the account's other tools without sharing
any state. When the Lambda time left would not cover the next sleep plus a safety margin,
it invokes its own function asynchronously with the original event plus a ``RelayState``
and returns without answering. Past the deadline (derived from ServiceTimeout) the wait
ends in ``Failed`` naming what was still pending.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from .aws import OutOfHopTimeError, error_code, is_throttling, is_transient
from .pacing import CrowdGauge, Pace, Pacer
from .progress import Early, Failed, HandedOff, Outcome, Pending, Task
from .relay_state import RelayState
from .request import CfnRequest, signed_at
from .settings import Settings

logger = logging.getLogger(__name__)


class LambdaContext(Protocol):
    invoked_function_arn: str
    function_version: str

    def get_remaining_time_in_millis(self) -> int: ...


def own_version_arn(context: LambdaContext) -> str:
    """The ARN of the exact function version this hop runs on, which the next hop invokes.

    CloudFormation invokes the provider through an alias; a hop that re-invoked the alias
    (or the bare function) would run its successor on whatever code was deployed since,
    so a wait would change code in the middle. ``$LATEST`` (an unqualified invocation)
    is the one version without a number: its successor invokes the bare function again.
    """
    base = ":".join(context.invoked_function_arn.split(":")[:7])
    version = context.function_version
    return base if version in ("", "$LATEST") else f"{base}:{version}"


FIRST_STEP_RESERVE_SECONDS = 60.0
"""A first step starts at the latest this long before the ServiceTimeout (or at the
deadline, when that is later): time for its calls (about a second each, at worst
``aws.CALL_WORST_CASE_SECONDS``) and the response's PUT."""

Invoker = Callable[[str, dict[str, Any]], None]
"""Starts the next hop: (function ARN, payload) -> None, raising if Lambda refused."""


@dataclass(frozen=True)
class Limits:
    """What bounds one wait besides its deadline."""

    max_hops: int | None = None
    """No hop past this number is started: the chain's own hard cap (12-hour mode, where
    Lambda's recursive loop detection is switched off)."""
    deadline_name: str = "CloudFormation's ServiceTimeout"
    """What the deadline is, in the Reason of a wait that gave up."""
    poll_floor: float | None = None
    """The shortest poll interval, when longer than the settings' (a background wait polls
    at the cap: a person acts there, and every waiter shares the account's 10
    DescribeCertificate calls per second for hours)."""


@dataclass(frozen=True)
class Relay:
    settings: Settings
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    invoke: Invoker
    rng: random.Random
    throttled: Callable[[], int] = lambda: 0
    """Throttled HTTP attempts so far of this environment's clients (botocore retries
    them, so the task would not notice): the congestion signal."""
    gauge: CrowdGauge | None = None
    """The account's crowd as this execution environment last counted it."""
    count: Callable[[], int] | None = None
    """Counts the account's pending certificates (``pacing.pending_in``); None: the wait
    has no crowd to count (a ``Custom::WaitFor``) and paces by throttling alone."""

    def first_state(self, request: CfnRequest, service_timeout: int) -> RelayState:
        """The deadline counts from when CloudFormation signed the ResponseURL, so a first
        hop that Lambda retried or delivered late does not restart it."""
        now = self.clock()
        signed = signed_at(request.response_url)
        requested = now if signed is None else min(signed, now)
        reserve = min(self.settings.deadline_margin_seconds, service_timeout / 10)
        return RelayState(
            hop=1,
            requested_at=requested,
            deadline=requested + service_timeout - reserve,
            interval=self.settings.poll_start_seconds,
        )

    def run(
        self,
        request: CfnRequest,
        task: Task,
        context: LambdaContext,
        service_timeout: int,
        spread_start: bool = False,
        state: RelayState | None = None,
        limits: Limits | None = None,
    ) -> Outcome:
        """Advance ``task`` until it ends, the deadline passes, or the next hop takes over.

        ``spread_start``: on the first hop, wait a random part of ``start_jitter_seconds``
        before the first step, so resources created together do not call AWS together.
        ``state``: go on from this state instead of the request's (a background wait).
        """
        first = state is None and request.relay is None
        state = state or request.relay or self.first_state(request, service_timeout)
        limits = limits or Limits()
        refusal = self._cannot_start(first, state, service_timeout, context)
        if refusal is None and spread_start and first:
            self.sleep(self.rng.uniform(0, self.settings.start_jitter_seconds))
            refusal = self._too_late(state, service_timeout)
        if refusal is not None:
            return Failed(refusal, task.physical_id)
        if request.relay is not None:
            self.sleep(self._pause(state.interval, state.deadline))
        floor = max(self.settings.poll_min_seconds, limits.poll_floor or 0.0)
        memo, detail = state.memo, "the first step"
        logged = ""
        pacer = Pacer.start(
            self.gauge or CrowdGauge(self.settings),
            Pace(self.settings, max(state.interval, floor), floor, crowded=bool(self.count)),
            self.rng,
            self.clock(),
            continued=request.relay is not None,
        )
        pace, requesting = pacer.pace, first
        while True:
            before = self.throttled()
            try:
                progress = task.step(memo)
            except OutOfHopTimeError:
                if self.clock() >= state.deadline:
                    return self._give_up(state, detail, task, limits)
                following = replace(state, memo=memo)
                return self._hand_off(request, task, context, following, pace.interval, limits)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                _log_backoff(exc)
                progress, congested = Pending(detail, memo), True
            else:
                # A first step's throttling is the request quota's, not the polls'.
                congested = not requesting and self.throttled() > before
            if isinstance(progress, Early):
                return replace(
                    progress, state=replace(state, memo=progress.memo, interval=pace.interval)
                )
            if not isinstance(progress, Pending):
                return progress
            memo, detail, requesting = progress.memo, progress.detail, False
            if self.count and pacer.due(self.clock()):
                self._count(pacer)
            interval = pace.step(congested)
            now = self.clock()
            if now >= state.deadline:
                return self._give_up(state, detail, task, limits)
            wait = self._pause(interval, state.deadline)
            left = context.get_remaining_time_in_millis() / 1000
            if left - wait < self.settings.handoff_margin_seconds:
                following = replace(state, memo=memo)
                return self._hand_off(request, task, context, following, interval, limits)
            # One INFO line per change of what is pending; every other poll at DEBUG.
            logger.log(
                logging.DEBUG if detail == logged else logging.INFO,
                "Hop %d, %.0f s elapsed, waiting %.1f s: %s",
                state.hop,
                now - state.requested_at,
                wait,
                detail,
            )
            logged = detail
            self.sleep(wait)

    def hand_off(
        self,
        request: CfnRequest,
        task: Task,
        context: LambdaContext,
        state: RelayState,
        limits: Limits,
    ) -> Outcome:
        """Start the next hop from ``state`` now, without a step: ``HandedOff``, or
        ``Failed`` when Lambda refused the invocation or the hop cap is reached."""
        return self._hand_off(request, task, context, state, state.interval, limits)

    def _count(self, pacer: Pacer) -> None:
        """Count the account's crowd; a count is advice, and the wait goes on without it."""
        assert self.count is not None
        try:
            pending = self.count()
        except OutOfHopTimeError:
            return
        except Exception as exc:
            if is_throttling(exc):
                pacer.counted(self.clock(), None)
            else:
                logger.warning("Cannot count the account's pending certificates: %s", exc)
                pacer.unavailable(self.clock())
            return
        pacer.counted(self.clock(), pending)

    def _pause(self, interval: float, deadline: float) -> float:
        """A jittered interval, never past the deadline. A continued hop starts with the
        pause its predecessor handed off instead of taking, so waiters that started
        together do not all poll at once at their hop boundaries."""
        return max(0.0, min(interval * self.rng.uniform(0.75, 1.0), deadline - self.clock()))

    def _cannot_start(
        self,
        first: bool,
        state: RelayState,
        service_timeout: int,
        context: LambdaContext,
    ) -> str | None:
        """Why this hop must answer FAILED before any step: too late to answer in time,
        or the function's timeout leaves no room for one AWS call and the hand-off."""
        late = self._too_late(state, service_timeout) if first else None
        if late is not None:
            return late
        left = context.get_remaining_time_in_millis() / 1000
        if left < self.settings.handoff_margin_seconds:
            return (
                f"The provider function's timeout is too short to wait: a hop started with "
                f"{left:.0f} s, less than the {self.settings.handoff_margin_seconds:.0f} s it "
                "keeps for handing off; give the function the template's Timeout of 900 seconds"
            )
        return None

    def _too_late(self, state: RelayState, service_timeout: int) -> str | None:
        """Why a first step must not start: its answer could not reach CloudFormation
        before the ServiceTimeout, so it would request a certificate nobody waits for.

        The first step may still start after the deadline (and give up right after it,
        naming what it found): a Lambda retry of a first hop that requested a certificate
        then gives the same answer, naming it, instead of a certificate-less one.
        """
        now = self.clock()
        reserve = min(
            FIRST_STEP_RESERVE_SECONDS, state.requested_at + service_timeout - state.deadline
        )
        latest = service_timeout - reserve
        if now < state.requested_at + latest:
            return None
        return (
            f"The request reached the provider {now - state.requested_at:.0f} s after "
            f"CloudFormation sent it, too late to be answered within its ServiceTimeout of "
            f"{service_timeout} s (a first step starts at the latest {latest:.0f} s after); "
            "nothing was done"
        )

    def _give_up(self, state: RelayState, detail: str, task: Task, limits: Limits) -> Failed:
        minutes = (self.clock() - state.requested_at) / 60
        return Failed(
            f"Gave up after {minutes:.0f} min, before {limits.deadline_name}; "
            f"still pending: {detail}",
            task.physical_id,
        )

    def _hand_off(
        self,
        request: CfnRequest,
        task: Task,
        context: LambdaContext,
        state: RelayState,
        interval: float,
        limits: Limits,
    ) -> Outcome:
        following = replace(state, hop=state.hop + 1, interval=interval)
        if limits.max_hops is not None and following.hop > limits.max_hops:
            logger.error("Hop %d would pass the cap of %d hops", following.hop, limits.max_hops)
            return Failed(
                f"Stopped at the cap of {limits.max_hops} invocations this wait may take "
                f"(derived from its deadline); still pending at hop {state.hop}",
                task.physical_id,
            )
        payload = request.with_relay(following)
        try:
            self.invoke(own_version_arn(context), payload)
        except Exception as exc:
            logger.error("Re-invocation for hop %d refused: %s", following.hop, exc)
            return Failed(
                f"Could not re-invoke the provider function to keep waiting "
                f"({error_code(exc) or type(exc).__name__}: {exc}); "
                "check its lambda:InvokeFunction permission and RecursiveLoop setting",
                task.physical_id,
            )
        logger.info("Handed off to hop %d", following.hop)
        return HandedOff(following.hop)


def _log_backoff(exc: Exception) -> None:
    """Throttling and 5xx answers back the poll interval off instead of failing the wait."""
    kind = "throttled" if is_throttling(exc) else "transient error"
    logger.warning("AWS %s (%s), backing off: %s", kind, error_code(exc) or type(exc).__name__, exc)


def lambda_invoker(lambda_client: Any) -> Invoker:
    """Invoke a function asynchronously (InvocationType Event) and check Lambda accepted it."""

    def invoke(function_arn: str, payload: dict[str, Any]) -> None:
        answer = lambda_client.invoke(
            FunctionName=function_arn,
            InvocationType="Event",
            Payload=json.dumps(payload).encode(),
        )
        if answer.get("StatusCode") != 202:
            raise RuntimeError(f"Lambda answered {answer.get('StatusCode')} instead of 202")

    return invoke
