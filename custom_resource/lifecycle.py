"""One hop of a request: choose the task, let the relay wait, answer exactly once.

The physical-id rules live here and only here:
- Create answers the certificate ARN; a Create that failed before any certificate
  existed answers a marker that is not an ARN, so the rollback Delete succeeds at once.
- Update keeps the PhysicalResourceId unless it replaced the certificate.
- Delete never changes it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .aws import Clients
from .certificate import (
    DeleteCertificate,
    IssueCertificate,
    idempotency_token,
    is_certificate_arn,
    region_of,
)
from .progress import Done, Failed, HandedOff, Outcome, Task
from .properties import (
    DEFAULT_SERVICE_TIMEOUT,
    CertificateProperties,
    PropertyError,
    parse_properties,
)
from .relay import LambdaContext, Relay, lambda_invoker
from .request import CfnRequest
from .response import (
    Response,
    ResponseNotDeliveredError,
    Sender,
    UnsafeResponseURLError,
    build_body,
    check_response_url,
)
from .settings import Settings
from .update import UpdateCertificate

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

    def relay(self) -> Relay:
        invoke = self.invoke or lambda_invoker(self.clients.client("lambda"))
        return Relay(
            self.settings,
            self.clock,
            self.sleep,
            invoke,
            self.rng,
            throttled=lambda: self.clients.throttled_attempts,
        )

    def response_sender(self) -> Sender:
        return self.sender or Sender(sleep=self.sleep, rng=self.rng)


def run_hop(request: CfnRequest, context: LambdaContext, runtime: Runtime) -> Outcome | None:
    """Run one invocation; return what it ended with (None when it could not answer).

    Raises ``ResponseNotDeliveredError`` when the answer never reached CloudFormation.
    """
    try:
        check_response_url(request.response_url, runtime.settings.allow_loopback_response_url)
    except UnsafeResponseURLError as exc:
        logger.error("Refusing to answer: %s", exc)
        return None
    task: Task | None = None
    try:
        if request.foreign_relay is not None:
            outcome: Outcome = _refuse_foreign_relay(request)
        else:
            with runtime.clients.bounded_by(lambda: context.get_remaining_time_in_millis() / 1000):
                task, service_timeout = _task_for(request, runtime.clients)
                spread = request.request_type == "Create"
                outcome = runtime.relay().run(request, task, context, service_timeout, spread)
    except PropertyError as exc:
        outcome = Failed(str(exc))
    except Exception as exc:
        logger.exception("Unexpected error")
        outcome = Failed(f"{type(exc).__name__}: {exc}", task.physical_id if task else None)
    if isinstance(outcome, Failed) and request.request_type == "Update":
        outcome = abandon_replacement(request, outcome, task, runtime.clients)
    if not isinstance(outcome, HandedOff):
        respond(request, outcome, context, runtime)
    return outcome


def _refuse_foreign_relay(request: CfnRequest) -> Failed:
    """A wait of another provider version: answer FAILED, naming a Create's certificate."""
    assert request.foreign_relay is not None
    named = request.foreign_relay.memo.get("CertificateArn")
    keep = request.request_type == "Create" and is_certificate_arn(named)
    return Failed(request.foreign_relay.reason, named if keep else None)


def abandon_replacement(
    request: CfnRequest, failed: Failed, task: Task | None, clients: Clients
) -> Failed:
    """A failed Update keeps the old resource: delete the replacement it had requested.

    CloudFormation ignores the PhysicalResourceId of a FAILED Update, so a replacement
    certificate would otherwise leak. Only a certificate this request created (through
    ``IssueCertificate``, whose idempotency token is this request's) is ever deleted.
    """
    kept = Failed(failed.reason, request.physical_resource_id)
    created = task.created if isinstance(task, UpdateCertificate) else None
    if not is_certificate_arn(created) or created == request.physical_resource_id:
        return kept
    assert created is not None
    try:
        clients.acm(region_of(created)).delete_certificate(CertificateArn=created)
        note = f"the replacement certificate {created} was deleted"
    except Exception as exc:
        logger.exception("Could not delete the replacement certificate")
        note = f"delete the replacement certificate {created} by hand ({exc})"
    return Failed(f"{failed.reason} ({note})", request.physical_resource_id)


def _task_for(request: CfnRequest, clients: Clients) -> tuple[Task, int]:
    """The task this request needs and the ServiceTimeout to honour."""
    if request.request_type == "Delete":
        try:
            props: CertificateProperties | None = parse_properties(request.properties)
        except PropertyError:
            props = None
        timeout = props.service_timeout if props else DEFAULT_SERVICE_TIMEOUT
        return DeleteCertificate(request.physical_resource_id or "", clients, props), timeout
    props = parse_properties(request.properties)
    token = idempotency_token(request.stack_id, request.logical_resource_id, request.request_id)
    if request.request_type == "Create":
        return IssueCertificate(props, clients, token), props.service_timeout
    return UpdateCertificate(request, props, clients, token), props.service_timeout


def physical_id_for(request: CfnRequest, outcome: Done | Failed) -> str:
    if outcome.physical_id:
        return outcome.physical_id
    if request.physical_resource_id:
        return request.physical_resource_id
    return (
        f"{request.logical_resource_id}-create-failed-"
        + idempotency_token(request.stack_id, request.request_id)[:12]
    )


def respond(
    request: CfnRequest, outcome: Done | Failed, context: LambdaContext, runtime: Runtime
) -> None:
    """Send the one final response of this request; raise if it could not be delivered."""
    physical_id = physical_id_for(request, outcome)
    if isinstance(outcome, Done):
        response = Response("SUCCESS", physical_id, data=outcome.data)
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
