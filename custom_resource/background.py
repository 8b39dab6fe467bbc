"""12-hour mode: the wait that goes on after CloudFormation's answer.

With a ``WaitConditionHandle`` the resource answers SUCCESS once its validation records
are known, then keeps waiting in hops until the certificate is ISSUED, fails, or
``WaitTimeout`` passes, and PUTs the end to the handle as a WaitCondition signal. The
task memo records that CloudFormation was answered (``ANSWERED``), so no later hop, retry
or the last-resort responder answers it again.

A wait of 12 hours takes about 52 hops, past Lambda's recursive loop detection (which
stops a chain after about 16): the provider template sets ``RecursiveLoop: Allow`` and
every chain gets its own hard cap on hops instead, derived from its deadline
(``hop_cap``).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws import Clients, OutOfHopTimeError, error_code
from .checks import wait_handle_problem
from .progress import Done, Failed, Stopped
from .relay_state import RelayState
from .request import CfnRequest
from .settings import Settings

logger = logging.getLogger(__name__)

ANSWERED = "Answered"
"""Task memo key: CloudFormation has its one response; the end goes to the handle."""
SLACK_HOPS = 2
"""Hops the cap allows beyond the deadline's span: a retried or early-ended hop."""


def is_answered(memo: dict[str, Any]) -> bool:
    return memo.get(ANSWERED) is True


def answered_before(request: CfnRequest) -> bool:
    """Whether an earlier hop already gave CloudFormation its one response (12-hour mode)."""
    relay = request.relay or request.foreign_relay
    return relay is not None and is_answered(relay.memo)


def wait_handle_of(request: CfnRequest) -> str | None:
    """The request's own handle, checked again: it is an address the function PUTs to."""
    handle = request.properties.get("WaitConditionHandle")
    if not isinstance(handle, str) or wait_handle_problem(handle.strip()):
        return None
    return handle.strip()


def hop_cap(
    span_seconds: float, hop_seconds: float, settings: Settings, poll_seconds: float | None = None
) -> int:
    """The most hops a wait of ``span_seconds`` may take, the chain's own hard cap.

    ``hop_seconds`` is the Lambda time a hop starts with (the function's Timeout, the same
    for every hop); each hop uses it all but the hand-off margin and one poll interval
    (``poll_seconds`` when a task polls more slowly than the settings allow).
    """
    longest_poll = max(settings.poll_max_seconds, poll_seconds or 0.0)
    usable = hop_seconds - settings.handoff_margin_seconds - longest_poll
    return math.ceil(span_seconds / max(usable, 1.0)) + SLACK_HOPS


def background_state(state: RelayState, wait_timeout: int, settings: Settings) -> RelayState:
    """The relay state of the wait after the early answer: WaitTimeout from the request."""
    reserve = min(settings.deadline_margin_seconds, wait_timeout / 10)
    return replace(
        state,
        deadline=state.requested_at + wait_timeout - reserve,
        memo={**state.memo, ANSWERED: True},
    )


PENDING_SIGNAL = "Signal"
"""Task memo key: the wait is over, only its SUCCESS signal for this ARN is left to send."""


def signal_state(state: RelayState, wait_timeout: int, settings: Settings, arn: str) -> RelayState:
    """The relay state of a hop that only signals SUCCESS for ``arn`` (CloudFormation was
    answered in the hop before). The memo holds nothing else: no task runs again."""
    answered = background_state(state, wait_timeout, settings)
    return replace(answered, memo={ANSWERED: True, PENDING_SIGNAL: {"Arn": arn}})


def pending_signal(memo: dict[str, Any]) -> Done | None:
    """The SUCCESS a ``signal_state`` hop has to deliver, if that is its only work."""
    pending = memo.get(PENDING_SIGNAL)
    arn = pending.get("Arn") if isinstance(pending, dict) else None
    return Done(arn) if is_answered(memo) and isinstance(arn, str) and arn else None


def unique_id(request: CfnRequest, arn: str | None) -> str:
    """The signal's UniqueId: the same for every delivery, so a repeat replaces itself."""
    return arn or f"{request.logical_resource_id}-{request.request_id}"


def signal_body(request: CfnRequest, outcome: Done | Failed, arn: str | None) -> bytes:
    """A WaitCondition signal: SUCCESS with Data the ARN (or the task's own signal data),
    or FAILURE with the reason."""
    if isinstance(outcome, Done):
        body = {
            "Status": "SUCCESS",
            "UniqueId": unique_id(request, outcome.physical_id),
            "Data": outcome.physical_id if outcome.signal_data is None else outcome.signal_data,
            "Reason": outcome.summary or f"ACM certificate {outcome.physical_id} is ISSUED",
        }
    else:
        body = {
            "Status": "FAILURE",
            "UniqueId": unique_id(request, arn),
            "Data": arn or "",
            "Reason": outcome.reason[:MAX_SIGNAL_REASON],
        }
    return json.dumps(body, separators=(",", ":")).encode()


MAX_SIGNAL_REASON = 3500
"""Keeps a signal, like a response, well under 4 KB; the head says what went wrong."""


READ_FAILURES = (ClientError, BotoCoreError, OutOfHopTimeError)
"""What a read of the stack may raise: throttling, a 5xx, a network fault, a missing
permission, too little hop time, or (ValidationError) a stack or resource that is gone."""


def stack_resource(clients: Clients, request: CfnRequest) -> dict[str, Any]:
    """The stack's resource of this request as CloudFormation holds it now
    (DescribeStackResource): its PhysicalResourceId and ResourceStatus."""
    region = request.stack_id.split(":")[3]
    detail: dict[str, Any] = clients.client("cloudformation", region).describe_stack_resource(
        StackName=request.stack_id, LogicalResourceId=request.logical_resource_id
    )["StackResourceDetail"]
    return detail


def held_complete(clients: Clients, request: CfnRequest, physical_id: str) -> bool:
    """Whether the stack already holds its resource, complete, as ``physical_id``:
    CloudFormation was answered SUCCESS for it. A read that fails says no."""
    try:
        detail = stack_resource(clients, request)
    except READ_FAILURES as exc:
        logger.warning("Cannot read the stack's resource: %s", exc)
        return False
    status = str(detail.get("ResourceStatus", ""))
    return detail.get("PhysicalResourceId") == physical_id and not status.endswith("PROGRESS")


def watch(clients: Clients, request: CfnRequest, arn: str) -> Stopped | Failed | None:
    """Whether a background wait still has a reason to go on.

    The stack's resource must still be this certificate (DescribeStackResource): once an
    Update replaced it or the stack deleted it, the wait stops. Its WaitCondition cannot
    still wait for it (a stack operation completes only after the WaitCondition it
    contains), so FAILURE is signalled only as a harmless last word; None: go on. Only
    a definite answer ends a wait: not a read that failed (throttling, a 5xx, a network
    fault, a missing permission, too little hop time), and not a resource still in
    progress, whose id CloudFormation may not have taken from the answer yet.
    """
    try:
        detail = stack_resource(clients, request)
    except READ_FAILURES as exc:
        if error_code(exc) == "ValidationError":  # the stack or the resource is gone
            return Stopped(f"the stack no longer holds {request.logical_resource_id}")
        logger.warning("Cannot read the stack's resource, waiting on: %s", exc)
        return None
    holds = detail.get("PhysicalResourceId")
    if holds == arn or not holds or str(detail.get("ResourceStatus", "")).endswith("PROGRESS"):
        return None
    return Failed(
        f"{request.logical_resource_id} is now {holds or 'another resource'}, no longer "
        f"{arn}: this wait ends",
        arn,
    )
