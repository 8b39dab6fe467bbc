"""The last-resort responder: answer FAILED for a request Lambda gave up on.

Lambda sends an event it stops retrying (every delivery failed, the event grew too old,
or recursive loop detection stopped the chain) to the provider's on-failure destination:
a second function whose handler is ``custom_resource.responder.handler``. Its record
holds the original event (``requestPayload``), so the stack gets FAILED with a Reason
saying what happened, instead of waiting in silence for CloudFormation's timeout.

The responder writes its logs, PUTs to the ResponseURL and deletes what an Update that
gave up had requested (with the same tag-scoped ACM rights as the provider function). It
keeps no state, so its answer derives from the record and the certificates' tags, and a
second record for the same request repeats the same answer.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any

from .background import pending_signal, signal_body
from .lifecycle import (
    Runtime,
    abandon_replacement,
    answered_before,
    certificate_named_by,
    check_answerable,
    checked_handle,
    memo_arn,
    respond,
)
from .lifecycle import signal as send_signal
from .progress import Failed
from .relay import LambdaContext
from .request import RELAY_KEY, CfnRequest, NotARequestError, mask_url, parse_request
from .version import running_version

logger = logging.getLogger(__name__)

LOG_GROUP_VARIABLE = "WFC_PROVIDER_LOG_GROUP"
"""The responder's environment names the provider function's log group, for the Reason."""

MAX_ERROR_CHARS = 300

_CONDITIONS = {
    "RetriesExhausted": "every delivery of it failed",
    "EventAgeExceeded": "it waited in Lambda's queue longer than the maximum event age",
}
"""What Lambda's ``requestContext.condition`` means, in words; others are quoted as is."""

_URL = re.compile(r"https?://[^\s'\"<>]+")


@dataclass(frozen=True)
class GaveUp:
    """What an on-failure destination record says about a request Lambda gave up on."""

    request: CfnRequest
    condition: str
    attempts: int | None
    error: str
    """The function's last error (type and message), URLs masked; empty when none."""
    relay_unreadable: bool = False


def parse_record(record: Any) -> GaveUp:
    """Read an on-failure record; raise ``NotARequestError`` when there is nothing to answer."""
    if not isinstance(record, dict):
        raise NotARequestError(f"the record is a {type(record).__name__}, not an object")
    context = record.get("requestContext")
    if not isinstance(context, dict):
        raise NotARequestError("the record has no requestContext: not a destination record")
    condition = context.get("condition")
    if not isinstance(condition, str) or not condition:
        raise NotARequestError("the record's requestContext has no condition")
    if condition == "Success":
        raise NotARequestError("the record is of a successful invocation")
    count = context.get("approximateInvokeCount")
    attempts = count if isinstance(count, int) and not isinstance(count, bool) else None
    request, unreadable = _request_in(record.get("requestPayload"))
    return GaveUp(
        request, condition, attempts, _error_in(record.get("responsePayload")), unreadable
    )


def _request_in(payload: Any) -> tuple[CfnRequest, bool]:
    """The CloudFormation request; one whose relay state is unreadable is still answered."""
    try:
        request = parse_request(payload)
        return request, request.foreign_relay is not None
    except NotARequestError:
        if not isinstance(payload, dict) or RELAY_KEY not in payload:
            raise
    return parse_request({k: v for k, v in payload.items() if k != RELAY_KEY}), True


def _error_in(payload: Any) -> str:
    if not isinstance(payload, dict):
        return ""
    kind, message = payload.get("errorType"), payload.get("errorMessage")
    text = ": ".join(str(part) for part in (kind, message) if part)
    text = _URL.sub(lambda match: mask_url(match.group(0)), text)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def last_answer(gave_up: GaveUp, log_group: str) -> Failed:
    """FAILED, saying what happened; a Create names its certificate so the rollback deletes it.

    A Create whose relay state names no certificate (Lambda gave up on its first hop)
    answers the create-failed marker, which carries the request's token: the rollback
    Delete finds the certificate by its tags. An Update answers its own (old)
    PhysicalResourceId (CloudFormation ignores the id of a FAILED Update); its replacement
    is deleted by ``clean_up``.
    """
    request = gave_up.request
    named = certificate_named_by(request)
    meaning = _CONDITIONS.get(gave_up.condition)
    what = gave_up.condition + (f": {meaning}" if meaning else "")
    if gave_up.attempts is not None:
        what += f", after {gave_up.attempts} attempt(s)"
    if gave_up.error:
        what += f"; last error {gave_up.error}"
    reason = (
        f"The WaitForCertificate provider stopped without answering; Lambda gave up on this "
        f"request ({what}). Answered by its last-resort responder: see the provider's log "
        f"group {log_group or '(its LogGroupName output)'} for what happened."
    )
    if gave_up.relay_unreadable:
        reason += " The relay state in the event could not be read."
    return Failed(reason, named if request.request_type == "Create" else None)


def clean_up(
    request: CfnRequest, answer: Failed, context: LambdaContext, runtime: Runtime
) -> Failed:
    """An Update that gave up before answering leaves its replacement: delete it (found by
    its tags, as only what this request requested may be) and say so in the answer."""
    if request.request_type != "Update" or answered_before(request):
        return answer
    with runtime.clients.bounded_by(lambda: context.get_remaining_time_in_millis() / 1000):
        return abandon_replacement(request, answer, None, runtime.clients)


def signal(request: CfnRequest, answer: Failed, context: LambdaContext, runtime: Runtime) -> None:
    """Deliver the last answer where the request waits for it.

    CloudFormation's ResponseURL, unless the relay state says CloudFormation already has
    its one response (12-hour mode): then the resource's WaitCondition
    waits, and FAILURE is signalled to its handle instead.
    """
    if answered_before(request):
        handle = checked_handle(request)
        pending = pending_signal(request.relay.memo) if request.relay else None
        arn = memo_arn(request) or (pending.physical_id if pending else None)
        send_signal(handle, signal_body(request, answer, arn), context, runtime)
        return
    check_answerable(request, runtime.settings)
    respond(request, answer, context, runtime)


class Responder:
    """The handler of the provider's on-failure destination."""

    def __init__(self, runtime: Runtime | None = None, log_group: str = "") -> None:
        self.runtime = runtime or Runtime()
        self.log_group = log_group

    def __call__(self, record: Any, context: LambdaContext) -> None:
        """Answer once; raises ``ResponseNotDeliveredError`` so that Lambda retries it, and
        ``UnsafeResponseURLError`` (after an ERROR naming the masked address) when it
        refuses the address: either way the invocation fails where the alarm sees it."""
        try:
            gave_up = parse_record(record)
        except NotARequestError as exc:
            logger.error(
                "WaitForCertificate responder %s: ignoring a record that holds no "
                "CloudFormation request: %s",
                running_version(context),
                exc,
            )
            return
        logger.warning(
            "WaitForCertificate responder %s: Lambda gave up on %s %s (%s); answering FAILED to %s",
            running_version(context),
            gave_up.request.request_type,
            gave_up.request.logical_resource_id,
            gave_up.condition,
            "its WaitConditionHandle (CloudFormation was answered)"
            if answered_before(gave_up.request)
            else gave_up.request.masked_response_url,
        )
        answer = clean_up(
            gave_up.request, last_answer(gave_up, self.log_group), context, self.runtime
        )
        signal(gave_up.request, answer, context, self.runtime)


_responder: Responder | None = None


def handler(record: Any, context: Any) -> None:
    """The responder function's Handler: ``custom_resource.responder.handler``."""
    global _responder
    if _responder is None:
        _responder = Responder(log_group=os.environ.get(LOG_GROUP_VARIABLE, ""))
        logging.getLogger().setLevel(_responder.runtime.settings.log_level)
    _responder(record, context)
