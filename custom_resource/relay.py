"""The waiting engine: poll a task, sleep between polls, re-invoke the function in time.

A hop polls at a short, jittered interval that treats ACM throttling as congestion
(AIMD): a throttled attempt multiplies it, each unthrottled poll shortens it by a
little, so a lone waiter answers within seconds and many waiters settle under ACM's
limit without sharing any state. When the Lambda time left would not cover
the next sleep plus a safety margin, it invokes its own function asynchronously with the
original event plus a ``RelayState`` and returns without answering. Past the deadline
(derived from ServiceTimeout) the wait ends in ``Failed`` naming what was still pending.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from .aws import OutOfHopTimeError, error_code, is_throttling, is_transient
from .progress import Failed, HandedOff, Outcome, Pending, Task
from .relay_state import RelayState
from .request import CfnRequest, signed_at
from .settings import Settings

logger = logging.getLogger(__name__)


class LambdaContext(Protocol):
    invoked_function_arn: str

    def get_remaining_time_in_millis(self) -> int: ...


Invoker = Callable[[str, dict[str, Any]], None]
"""Starts the next hop: (function ARN, payload) -> None, raising if Lambda refused."""


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
    ) -> Outcome:
        """Advance ``task`` until it ends, the deadline passes, or the next hop takes over.

        ``spread_start``: on the first hop, wait a random part of ``start_jitter_seconds``
        before the first step, so resources created together do not call AWS together.
        """
        state = request.relay or self.first_state(request, service_timeout)
        if request.relay is None and self.clock() >= state.requested_at + service_timeout:
            late = (self.clock() - state.requested_at) / 60
            return Failed(
                f"The request reached the provider {late:.0f} min after CloudFormation sent it, "
                "after its ServiceTimeout; nothing was done",
                task.physical_id,
            )
        left = context.get_remaining_time_in_millis() / 1000
        if left < self.settings.handoff_margin_seconds:
            return Failed(
                f"The provider function's timeout is too short to wait: a hop started with "
                f"{left:.0f} s, less than the {self.settings.handoff_margin_seconds:.0f} s it "
                "keeps for handing off; give the function the template's Timeout of 900 seconds",
                task.physical_id,
            )
        if spread_start and request.relay is None:
            self.sleep(self.rng.uniform(0, self.settings.start_jitter_seconds))
        if request.relay is not None:
            self.sleep(self._pause(state.interval, state.deadline))
        memo, interval, detail = state.memo, state.interval, "the first step"
        while True:
            before = self.throttled()
            try:
                progress = task.step(memo)
            except OutOfHopTimeError:
                if self.clock() >= state.deadline:
                    return self._give_up(state, detail, task)
                return self._hand_off(request, task, context, replace(state, memo=memo), interval)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                _log_backoff(exc)
                progress, congested = Pending(detail, memo), True
            else:
                congested = self.throttled() > before
            if not isinstance(progress, Pending):
                return progress
            memo, detail = progress.memo, progress.detail
            interval = next_interval(interval, congested, self.settings)
            now = self.clock()
            if now >= state.deadline:
                return self._give_up(state, detail, task)
            wait = self._pause(interval, state.deadline)
            left = context.get_remaining_time_in_millis() / 1000
            if left - wait < self.settings.handoff_margin_seconds:
                return self._hand_off(request, task, context, replace(state, memo=memo), interval)
            logger.info(
                "Hop %d, %.0f s elapsed, waiting %.1f s: %s",
                state.hop,
                now - state.requested_at,
                wait,
                detail,
            )
            self.sleep(wait)

    def _pause(self, interval: float, deadline: float) -> float:
        """A jittered interval, never past the deadline. A continued hop starts with the
        pause its predecessor handed off instead of taking, so waiters that started
        together do not all poll at once at their hop boundaries."""
        return max(0.0, min(interval * self.rng.uniform(0.75, 1.0), deadline - self.clock()))

    def _give_up(self, state: RelayState, detail: str, task: Task) -> Failed:
        minutes = (self.clock() - state.requested_at) / 60
        return Failed(
            f"Gave up after {minutes:.0f} min, before CloudFormation's ServiceTimeout; "
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
    ) -> Outcome:
        following = replace(state, hop=state.hop + 1, interval=interval)
        payload = request.with_relay(following)
        try:
            self.invoke(context.invoked_function_arn, payload)
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


def next_interval(interval: float, congested: bool, settings: Settings) -> float:
    """AIMD on the poll interval: multiply it after a throttled (or failed) step, shorten
    it by a constant after a clean one, always within the configured bounds."""
    if congested:
        return min(settings.poll_max_seconds, interval * settings.poll_backoff)
    return max(settings.poll_min_seconds, interval - settings.poll_recovery_seconds)


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
