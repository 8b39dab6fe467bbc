"""One hop of a request: choose the task, let the relay wait, answer exactly once.

In 12-hour mode (``background.py``) "once" means: CloudFormation gets its one response
when the task reports ``Early``; the wait goes on, and its end is signalled to the
WaitCondition handle instead.

The resource type chooses the task (``_task_for``): a certificate, or any botocore waiter
(``Custom::WaitFor``, ``waiter.py``, whose ids say what was waited for). The certificate's
physical-id rules live here and only here:
- Create answers the certificate ARN; a Create that failed before any certificate
  existed answers a marker that is not an ARN, so the rollback Delete succeeds at once.
- Update keeps the PhysicalResourceId unless it replaced the certificate.
- Delete never changes it.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .aws import Clients
from .background import (
    answered_before,
    background_state,
    held_complete,
    hop_cap,
    is_answered,
    pending_signal,
    signal_body,
    signal_state,
    wait_handle_of,
    watch,
)
from .certificates.certificate import (
    CleanUpFailedCreate,
    DeleteCertificate,
    IssueCertificate,
    is_certificate_arn,
)
from .certificates.ownership import Owner, marker_token, requested_by
from .certificates.properties import (
    DEFAULT_SERVICE_TIMEOUT,
    CertificateProperties,
    PropertyError,
    parse_properties,
)
from .certificates.update import UpdateCertificate, UpdateInPlace
from .pacing import CrowdGauge, pending_in
from .progress import Done, Early, Failed, HandedOff, Outcome, Pending, Stopped, Task, WaitOptions
from .relay import LambdaContext, Limits, Relay, lambda_invoker
from .relay_state import RelayState
from .request import CfnRequest, mask_url
from .response import (
    Response,
    ResponseNotDeliveredError,
    Sender,
    UnsafeResponseURLError,
    build_body,
    check_response_url,
)
from .settings import Settings
from .waiters.waiter import WaitFor, wait_for_task
from .waiters.waiter_properties import RESOURCE_TYPE as WAIT_FOR

logger = logging.getLogger(__name__)

SEND_BUDGET_SECONDS = 30.0
"""At most this long (and never past the Lambda time left) is spent delivering a response."""


@dataclass
class Runtime:
    """Everything a hop talks to or depends on, passed in so tests substitute it."""

    clients: Clients = field(default_factory=Clients)
    settings: Settings = field(default_factory=Settings.from_environment)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    sender: Sender | None = None
    invoke: Callable[[str, dict[str, Any]], None] | None = None
    signal_sender: Sender | None = None
    gauges: dict[str, CrowdGauge] = field(default_factory=dict)
    """The account's crowd of pending certificates per region, as this execution
    environment last counted it (``pacing``)."""

    def relay(self, props: WaitOptions | None = None) -> Relay:
        """The engine; a certificate's wait is paced by the crowd of its region."""
        invoke = self.invoke or lambda_invoker(self.clients.client("lambda"))
        gauge, count = None, None
        if isinstance(props, CertificateProperties):
            region = props.region or self.clients.region
            gauge = self.gauges.setdefault(region, CrowdGauge(self.settings))
            count = functools.partial(self._pending, region)
        return Relay(
            self.settings,
            self.clock,
            self.sleep,
            invoke,
            self.rng,
            throttled=lambda: self.clients.throttled_attempts,
            gauge=gauge,
            count=count,
        )

    def _pending(self, region: str) -> int:
        return pending_in(self.clients.acm(region))

    def response_sender(self) -> Sender:
        return self.sender or Sender(sleep=self.sleep, rng=self.rng)

    def handle_sender(self) -> Sender:
        """Signals to WaitCondition handles: a PUT like a response's, to another address."""
        return self.signal_sender or self.response_sender()


def run_hop(request: CfnRequest, context: LambdaContext, runtime: Runtime) -> Outcome:
    """Run one invocation; return what it ended with.

    Raises ``ResponseNotDeliveredError`` when the answer never reached CloudFormation (or
    a 12-hour mode signal never reached its handle), and ``UnsafeResponseURLError`` when
    the provider refuses to PUT to the address it was given.
    """
    check_answerable(request, runtime.settings)
    answered = answered_before(request)
    task: Task | None = None
    props: WaitOptions | None = None
    hop_seconds = context.get_remaining_time_in_millis() / 1000
    try:
        if request.foreign_relay is not None:
            outcome: Outcome = _refuse_foreign_relay(request)
        else:
            with runtime.clients.bounded_by(lambda: context.get_remaining_time_in_millis() / 1000):
                task, props = _task_for(request, runtime.clients, runtime.settings)
                outcome = _wait(request, task, props, context, runtime, hop_seconds)
                if isinstance(outcome, Early):
                    logger.info("12-hour mode: answering now, then waiting on for the handle")
                    respond(request, outcome.done, context, runtime)
    except PropertyError as exc:
        outcome = Failed(str(exc))
    except ResponseNotDeliveredError:
        raise
    except Exception as exc:
        logger.exception("Unexpected error")
        outcome = Failed(f"{type(exc).__name__}: {exc}", task.physical_id if task else None)
    if isinstance(outcome, Early):
        assert task is not None and props is not None and outcome.state is not None
        state = background_state(outcome.state, props.wait_timeout, runtime.settings)
        continue_after_answer(request, task, props, context, runtime, hop_seconds, state, None)
        return outcome
    if isinstance(outcome, Failed) and request.request_type == "Update" and not answered:
        outcome = abandon_replacement(request, outcome, task, runtime.clients)
    answered = answered or _answered_early(request, outcome, props, runtime.clients)
    if answered:
        _end_background(request, outcome, context, runtime)
    elif isinstance(outcome, Done | Failed):
        respond(request, outcome, context, runtime)
        if _signals_at_once(request, outcome, props):
            assert props is not None and isinstance(outcome, Done) and task is not None
            base = request.relay or runtime.relay().first_state(request, props.service_timeout)
            state = signal_state(base, props.wait_timeout, runtime.settings, outcome.physical_id)
            continue_after_answer(
                request, task, props, context, runtime, hop_seconds, state, outcome
            )
    return outcome


def _answered_early(
    request: CfnRequest, outcome: Outcome, props: WaitOptions | None, clients: Clients
) -> bool:
    """12-hour mode: a Create's first hop that answered early and died before handing off
    is retried with the original event, which does not know it answered. CloudFormation
    does: the resource is complete, as this certificate. Then the end goes to the handle,
    not a second answer to CloudFormation, which would go unheard."""
    return (
        request.request_type == "Create"
        and request.relay is None
        and props is not None
        and props.wait_handle is not None
        and isinstance(outcome, Done | Failed)
        and outcome.physical_id is not None
        and held_complete(clients, request, outcome.physical_id)
    )


def _signals_at_once(request: CfnRequest, outcome: Outcome, props: WaitOptions | None) -> bool:
    """A Create or Update done without a background wait (the certificate was ISSUED at
    once, or kept in place) signals its handle with the response: the WaitCondition waits."""
    return (
        request.request_type != "Delete"
        and isinstance(outcome, Done)
        and props is not None
        and props.wait_handle is not None
    )


def continue_after_answer(
    request: CfnRequest,
    task: Task,
    props: WaitOptions,
    context: LambdaContext,
    runtime: Runtime,
    hop_seconds: float,
    state: RelayState,
    done: Done | None,
) -> None:
    """12-hour mode, once this invocation has answered CloudFormation: hand what is left
    (the background wait, or the ``done`` signal) to the next hop, whose relay state says
    CloudFormation was answered.

    From here on this invocation must not fail: Lambda would retry the original event,
    which knows nothing of the answer, and it (or the last-resort responder) would answer
    CloudFormation again instead of signalling the handle. A failed later hop is retried
    with its own event, which does know. So a refused hand-off signals here (``done``, or
    FAILURE naming the refusal), and a signal that is not delivered either is logged as an
    ERROR: the WaitCondition then fails at its own Timeout.
    """
    try:
        limits = _background_limits(props, hop_seconds, runtime.settings)
        outcome = runtime.relay().hand_off(request, task, context, state, limits)
        if isinstance(outcome, HandedOff):
            return
        last = done if done is not None else outcome
        if isinstance(last, Done | Failed):
            _end_background(request, last, context, runtime)
    except Exception as exc:
        logger.error(
            "CloudFormation was answered, but neither the next hop nor the WaitCondition "
            "handle could be reached (%s): the WaitCondition fails at its Timeout",
            exc,
        )


def _background_limits(props: WaitOptions, hop_seconds: float, settings: Settings) -> Limits:
    """What bounds a wait after the early answer: WaitTimeout, its own hop cap, slow polls
    (the poll cap, or a waiter's longer Delay)."""
    span = max(props.wait_timeout, props.service_timeout)
    poll = max(settings.poll_max_seconds, props.poll_seconds or 0.0)
    return Limits(hop_cap(span, hop_seconds, settings, poll), "the WaitTimeout", poll_floor=poll)


def _wait(
    request: CfnRequest,
    task: Task,
    props: WaitOptions | None,
    context: LambdaContext,
    runtime: Runtime,
    hop_seconds: float,
) -> Outcome:
    """The wait of this hop: CloudFormation's, or (once answered) the background one."""
    timeout = props.service_timeout if props else DEFAULT_SERVICE_TIMEOUT
    if request.relay is not None and is_answered(request.relay.memo):
        assert props is not None
        signal_only = pending_signal(request.relay.memo)
        if signal_only is not None:
            return signal_only
        held = memo_arn(request) or (task.physical_id if isinstance(task, WaitFor) else None)
        ended = watch(runtime.clients, request, held) if held else None
        if ended is not None:
            return ended
        return _wait_in_background(request, task, props, context, runtime, hop_seconds)
    poll = props.poll_seconds if props else None
    limits = Limits(hop_cap(timeout, hop_seconds, runtime.settings, poll), poll_floor=poll)
    spread = request.request_type == "Create"
    return runtime.relay(props).run(request, task, context, timeout, spread, limits=limits)


def _wait_in_background(
    request: CfnRequest,
    task: Task,
    props: WaitOptions | None,
    context: LambdaContext,
    runtime: Runtime,
    hop_seconds: float,
) -> Outcome:
    """Go on waiting after the early answer: until WaitTimeout, within its own hop cap."""
    assert props is not None
    limits = _background_limits(props, hop_seconds, runtime.settings)
    span = max(props.wait_timeout, props.service_timeout)
    return runtime.relay(props).run(request, task, context, span, limits=limits)


def _end_background(
    request: CfnRequest, outcome: Outcome, context: LambdaContext, runtime: Runtime
) -> None:
    """The end of a background wait goes to the handle, never to CloudFormation again."""
    if isinstance(outcome, Stopped):
        logger.info("The background wait stops without a signal: %s", outcome.reason)
        return
    if not isinstance(outcome, Done | Failed):
        return
    arn = memo_arn(request) or outcome.physical_id
    signal(checked_handle(request), signal_body(request, outcome, arn), context, runtime)


def checked_handle(request: CfnRequest) -> str:
    """The request's WaitConditionHandle; a handle the provider does not PUT to (not one
    CloudFormation makes, in a partition it knows) ends the invocation loudly."""
    handle = wait_handle_of(request)
    if handle is None:
        logger.error(
            "Refusing to signal %s %s: its WaitConditionHandle is not a handle this provider "
            "signals (https on CloudFormation's wait-condition bucket of an AWS partition)",
            request.request_type,
            request.logical_resource_id,
        )
        raise UnsafeResponseURLError("the request's WaitConditionHandle is not a handle")
    return handle


def check_answerable(request: CfnRequest, settings: Settings) -> None:
    """Refuse a ResponseURL the provider does not PUT to, loudly: an ERROR naming the
    masked URL, and ``UnsafeResponseURLError`` so the invocation fails (Lambda's Errors
    metric and the provider's alarm see it) instead of ending in silence."""
    try:
        check_response_url(request.response_url, settings.allow_loopback_response_url)
    except UnsafeResponseURLError as exc:
        logger.error("Refusing to answer %s: %s", request.logical_resource_id, exc)
        raise


def memo_arn(request: CfnRequest) -> str | None:
    """The certificate ARN the relay state (of any version) names, if it is one."""
    relay = request.relay or request.foreign_relay
    arn = relay.memo.get("CertificateArn") if relay else None
    return arn if isinstance(arn, str) and is_certificate_arn(arn) else None


def signal(handle: str, body: bytes, context: LambdaContext, runtime: Runtime) -> None:
    """PUT a WaitCondition signal; raise when the handle's S3 never accepted it."""
    budget = min(SEND_BUDGET_SECONDS, context.get_remaining_time_in_millis() / 1000 - 1)
    logger.info("Signalling %s to %s", json.loads(body)["Status"], mask_url(handle))
    if not runtime.handle_sender().send(handle, body, budget):
        raise ResponseNotDeliveredError(
            f"the WaitCondition signal was not accepted by {mask_url(handle)}"
        )


def _refuse_foreign_relay(request: CfnRequest) -> Failed:
    """A wait of another provider version: answer FAILED, naming a Create's certificate."""
    assert request.foreign_relay is not None
    named = certificate_named_by(request) if request.request_type == "Create" else None
    return Failed(request.foreign_relay.reason, named)


def certificate_named_by(request: CfnRequest) -> str | None:
    """The certificate this request's relay state names, if any.

    A Create's relay state names the certificate it requested, an Update's the
    replacement it requested (an Update that keeps or returns to a certificate names
    none); a Delete's names none (it answers its own id anyway). A relay state of another
    provider version is read for that name only.
    """
    return None if request.request_type == "Delete" else memo_arn(request)


def abandon_replacement(
    request: CfnRequest, failed: Failed, task: Task | None, clients: Clients
) -> Failed:
    """A failed Update keeps the old resource: delete the replacement it had requested.

    CloudFormation ignores the PhysicalResourceId of a FAILED Update, so a replacement
    certificate would otherwise leak. Only a certificate this request created is deleted:
    the one its task requested, or, when no task lived to say (Lambda gave up on the hop,
    the relay state is of another version), those whose tags name this request; never
    one the stack already holds (another delivery of the request answered SUCCESS first).
    """
    kept = request.physical_resource_id
    try:
        replacements = [
            arn
            for arn in _replacements(request, task, clients)
            if arn != kept and not held_complete(clients, request, arn)
        ]
    except Exception as exc:
        logger.exception("Could not look for the replacement certificate")
        return Failed(f"{failed.reason} (could not look for a replacement: {exc})", kept)
    notes = [_delete_replacement(request, arn, clients) for arn in replacements]
    return Failed(" ".join([failed.reason, *notes]), kept)


def _replacements(request: CfnRequest, task: Task | None, clients: Clients) -> list[str]:
    """The task knows what it requested, or that it kept a certificate (then it requested
    none); otherwise (also when a request's answer was lost) the tags tell."""
    if isinstance(task, UpdateCertificate) and task.created:
        return [task.created]
    kept_one = isinstance(task, UpdateCertificate) and isinstance(task.inner, UpdateInPlace)
    return [] if kept_one else requested_certificates(request, clients)


def requested_certificates(request: CfnRequest, clients: Clients) -> list[str]:
    """The certificates whose tags name this request (none when its properties are not
    valid: then it requested nothing)."""
    try:
        props = parse_properties(request.properties)
    except Exception:
        return []
    owner = Owner.of(request.stack_id, request.logical_resource_id, request.request_id)
    return requested_by(clients, props.region or clients.region, owner, props.domain_name)


def _delete_replacement(request: CfnRequest, arn: str, clients: Clients) -> str:
    """Delete one replacement (and, with RemoveValidationRecords, its records); say so."""
    props = delete_properties(request)
    try:
        replacement = DeleteCertificate(arn, clients, request.stack_id, props, records_first=True)
        progress = replacement.step({})
    except Exception as exc:
        logger.exception("Could not delete the replacement certificate")
        return f"(delete the replacement certificate {arn} by hand: {exc})"
    if isinstance(progress, Pending):
        return f"(the replacement certificate {arn} could not be deleted: {progress.detail})"
    return f"(the replacement certificate {arn} was deleted)"


def _task_for(
    request: CfnRequest, clients: Clients, settings: Settings
) -> tuple[Task, WaitOptions | None]:
    """The task this request needs and its properties (None: a Delete's were invalid).

    The resource type chooses between the two kinds of wait: a certificate, or any
    botocore waiter (``Custom::WaitFor``)."""
    if request.resource_type == WAIT_FOR:
        return wait_for_task(request, clients, settings)
    if request.request_type == "Delete":
        return _delete_task(request, clients)
    props = parse_properties(request.properties)
    owner = Owner.of(request.stack_id, request.logical_resource_id, request.request_id)
    if request.request_type == "Create":
        return IssueCertificate(props, clients, owner), props
    return UpdateCertificate(request, props, clients, owner), props


def _delete_task(
    request: CfnRequest, clients: Clients
) -> tuple[Task, CertificateProperties | None]:
    """A certificate's Delete, or the clean-up of a create-failed marker (found by tags)."""
    props = delete_properties(request)
    physical_id = request.physical_resource_id or ""
    token = marker_token(physical_id)
    if token is None:
        return DeleteCertificate(physical_id, clients, request.stack_id, props), props
    owner = Owner(request.stack_id, request.logical_resource_id, token)
    region = (props.region if props else None) or clients.region
    return CleanUpFailedCreate(physical_id, owner, region, clients, props), props


def delete_properties(request: CfnRequest) -> CertificateProperties | None:
    """A Delete's properties, or None: a Delete never depends on them.

    It deletes the certificate its PhysicalResourceId names whatever they hold; only
    RemoveValidationRecords (and the zones it needs) is read from them, so properties that
    cannot be parsed, for whatever reason, keep the records and still delete.
    """
    try:
        return parse_properties(request.properties)
    except Exception as exc:
        logger.warning("Deleting without the properties (validation records are kept): %s", exc)
        return None


def physical_id_for(request: CfnRequest, outcome: Done | Failed) -> str:
    if outcome.physical_id:
        return outcome.physical_id
    if request.physical_resource_id:
        return request.physical_resource_id
    return Owner.of(request.stack_id, request.logical_resource_id, request.request_id).marker()


def respond(
    request: CfnRequest, outcome: Done | Failed, context: LambdaContext, runtime: Runtime
) -> None:
    """Send the one final response of this request; raise if it could not be delivered."""
    physical_id = physical_id_for(request, outcome)
    if isinstance(outcome, Done):
        response = Response("SUCCESS", physical_id, outcome.reason, outcome.data)
    else:
        response = Response("FAILED", physical_id, reason=outcome.reason)
    logger.info(
        "Sending %s for %s %s (PhysicalResourceId %s)%s",
        response.status,
        request.request_type,
        request.logical_resource_id,
        physical_id,
        f": {response.reason}" if response.reason else "",
    )
    budget = min(SEND_BUDGET_SECONDS, context.get_remaining_time_in_millis() / 1000 - 1)
    body = build_body(request, response)
    if not runtime.response_sender().send(request.response_url, body, budget):
        raise ResponseNotDeliveredError(
            f"{response.status} for {request.request_type} {request.logical_resource_id} "
            f"was not accepted by {urlsplit(request.response_url).hostname} (the ResponseURL)"
        )
