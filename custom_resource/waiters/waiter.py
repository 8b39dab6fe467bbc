"""The generic wait (``Custom::WaitFor``): one poll of a botocore waiter per step.

Each step makes the waiter's call once and hands the response to botocore's own acceptors
(``botocore.waiter``: ``SingleWaiterConfig``, ``AcceptorConfig.matcher_func``), in
botocore's order: the first acceptor that matches decides. ``Waiter.wait`` itself is never
called, because it sleeps; the relay waits between steps and hops instead, and the
deadline is the request's, never the waiter's ``maxAttempts``.

- a success acceptor: ``Done``, the ``Outputs`` read from this response as attributes;
- a failure acceptor: ``Failed`` at once, naming the acceptor and what it saw;
- a retry acceptor, or none: ``Pending``, naming what was last seen. An error response
  no acceptor covers ends the wait, as in botocore, unless it is transient (throttling,
  5xx): then the relay backs off and polls again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jmespath
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.waiter import AcceptorConfig, NormalizedOperationMethod, is_valid_waiter_error
from jmespath.exceptions import JMESPathError

from ..aws import Clients, error_code, is_transient
from ..background import is_answered
from ..checks import Problem, PropertyError
from ..progress import Done, Early, Failed, Pending, Progress
from ..request import CfnRequest, idempotency_token
from ..settings import Settings
from .waiter_properties import HOW_TO_WAIT, WaitForProperties, parse_wait_for

logger = logging.getLogger(__name__)

MAX_SEEN_CHARS = 300
"""What a Reason quotes of a response value, at most."""
MAX_SIGNAL_DATA_BYTES = 3000
"""A 12-hour mode signal carries the outputs as JSON within this (a signal stays < 4 KB)."""


def first_match(acceptors: list[AcceptorConfig], response: Mapping[str, Any]) -> Any:
    """The acceptor that decides ``response``, as botocore's ``Waiter.wait`` picks it."""
    return next((a for a in acceptors if a.matcher_func(response)), None)


def verdict(acceptors: list[AcceptorConfig], response: Mapping[str, Any]) -> str:
    """What botocore's ``Waiter.wait`` makes of one response: success, failure, retry,
    error (no acceptor matched an error response) or waiting (nothing matched)."""
    acceptor = first_match(acceptors, response)
    if acceptor is not None:
        return str(acceptor.state)
    return "error" if is_valid_waiter_error(response) else "waiting"


def seen(acceptor: AcceptorConfig, response: Mapping[str, Any]) -> str:
    """What ``acceptor`` looks at in ``response``, for a Reason."""
    if acceptor.matcher == "status":
        value: Any = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    elif acceptor.matcher == "error":
        value = response.get("Error", {}).get("Code", "no error")
    elif is_valid_waiter_error(response):
        value = "error " + str(response["Error"].get("Code"))
        return value[:MAX_SEEN_CHARS]
    else:
        value = jmespath.search(acceptor.argument, response)
    return _compact(value)[:MAX_SEEN_CHARS]


def describe(acceptor: AcceptorConfig) -> str:
    argument = f", argument {acceptor.argument!r}" if acceptor.argument else ""
    return f"matcher {acceptor.matcher}{argument}, expected {json.dumps(acceptor.expected)}"


def outputs_of(outputs: tuple[tuple[str, str], ...], response: Mapping[str, Any]) -> dict[str, str]:
    """The attributes: each JMESPath's value, a string as is, anything else as JSON
    (null as an empty string, so that Fn::GetAtt still finds the attribute)."""
    data = {}
    for name, expression in outputs:
        value = jmespath.search(expression, response)
        data[name] = "" if value is None else value if isinstance(value, str) else _compact(value)
    return data


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=False)


def signal_data(data: dict[str, str]) -> str:
    """The outputs as JSON for a WaitCondition signal, the largest dropped until it fits."""
    kept = dict(data)
    while len(_compact(kept).encode()) > MAX_SIGNAL_DATA_BYTES:
        del kept[max(kept, key=lambda k: len(_compact(kept[k])))]
    return _compact(kept)


def physical_id(request: CfnRequest, props: WaitForProperties) -> str:
    """Stable across hops and retries, and says what was waited for:
    ``WaitFor:s3:ObjectExists:<digest>``; another wait (an Update that changed what is
    waited for) gets another id."""
    digest = idempotency_token(request.stack_id, request.logical_resource_id, props.identity())
    return f"WaitFor:{props.service}:{props.waiter or props.operation}:{digest[:16]}"


@dataclass
class WaitFor:
    """Poll the waiter's operation until an acceptor decides (a ``progress.Task``)."""

    props: WaitForProperties
    clients: Clients
    role_arn: str
    external_id: str | None
    physical_id: str
    acceptors: list[AcceptorConfig] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.acceptors = self.props.config().acceptors

    def call(self) -> Mapping[str, Any]:
        """The operation's response; an error response (``ClientError``) as botocore's
        waiter sees it, so that error acceptors can match it."""
        props = self.props
        region = props.region or self.clients.region
        try:
            client = self.clients.assumed(props.service, region, self.role_arn, self.external_id)
        except ClientError as exc:
            if is_transient(exc):
                raise
            raise RoleError(
                f"Could not assume {self.role_arn} ({error_code(exc)}: {exc}); the role must "
                "trust the provider function's role, and the provider must be allowed to "
                "assume it (its WaitForRoleArns parameter)"
            ) from exc
        operation = NormalizedOperationMethod(getattr(client, xform_name(props.operation)))
        response: Mapping[str, Any] = operation(**props.parameters)
        return response

    def step(self, memo: dict[str, Any]) -> Progress:
        try:
            response = self.call()
        except RoleError as exc:
            return Failed(str(exc), self.physical_id)
        polls = int(memo.get("Polls", 0)) + 1
        memo = {**memo, "Polls": polls}
        subject = self.props.subject
        try:
            acceptor = first_match(self.acceptors, response)
        except JMESPathError as exc:  # botocore's waiter would raise it too
            return Failed(
                f"{subject}: an acceptor cannot be evaluated on the response of "
                f"{self.props.operation} ({' '.join(str(exc).split())})",
                self.physical_id,
            )
        if acceptor is not None and acceptor.state == "success":
            data = outputs_of(self.props.outputs, response)
            summary = f"{subject}: success ({describe(acceptor)}) after {polls} poll(s)"
            return Done(self.physical_id, data, summary=summary, signal_data=signal_data(data))
        if acceptor is not None and acceptor.state == "failure":
            return Failed(
                f"{subject}: a failure acceptor matched ({describe(acceptor)}; "
                f"seen: {seen(acceptor, response)})",
                self.physical_id,
            )
        if acceptor is None and is_valid_waiter_error(response):
            error = ClientError(dict(response), self.props.operation)
            if is_transient(error):
                raise error
            return Failed(
                f"{subject}: {self.props.operation} answered {error_code(error)} "
                f"({response['Error'].get('Message', '')}), which no acceptor covers",
                self.physical_id,
            )
        pending = Pending(self._detail(acceptor, response), memo)
        if self.props.wait_handle and not is_answered(memo):
            return Early(Done(self.physical_id), memo)
        return pending

    def _detail(self, matched: Any, response: Mapping[str, Any]) -> str:
        """The last state observed: the retry acceptor that matched, else what the first
        success acceptor looks at. No poll counter: the log shows a detail at INFO only
        when it changes."""
        if matched is not None:
            return (
                f"{self.props.subject}: a retry acceptor matched "
                f"({describe(matched)}; seen: {seen(matched, response)})"
            )
        wanted = next(a for a in self.acceptors if a.state == "success")
        return (
            f"{self.props.subject}: no acceptor matched yet; success needs "
            f"{describe(wanted)}, seen: {seen(wanted, response)}"
        )


class RoleError(Exception):
    """The role for the waiter's calls cannot be assumed: no poll can ever succeed."""


@dataclass
class Answered:
    """A task that is over before it starts: a Delete, or an Update that changed only how
    to wait (no call at all)."""

    done: Done

    @property
    def physical_id(self) -> str | None:
        return self.done.physical_id

    def step(self, memo: dict[str, Any]) -> Progress:
        return self.done


def wait_for_task(
    request: CfnRequest, clients: Clients, settings: Settings
) -> tuple[WaitFor | Answered, WaitForProperties | None]:
    """The task of a ``Custom::WaitFor`` request, and its properties (None on a Delete)."""
    if request.request_type == "Delete":
        return Answered(Done(request.physical_resource_id or "")), None
    props = parse_wait_for(request.properties)
    role = props.role_arn or settings.wait_for_role_arn
    if role is None:
        raise PropertyError(
            [
                Problem(
                    "RoleArn",
                    "is required: this provider was deployed without WaitForPolicyArns, "
                    f"so it has no rights of its own to call {props.service}; give a role "
                    f"that trusts the provider's role and may call {props.operation}, or "
                    "redeploy the provider with WaitForPolicyArns",
                )
            ]
        )
    external_id = props.external_id if props.role_arn else None
    task = WaitFor(props, clients, role, external_id, physical_id(request, props))
    if request.request_type == "Update" and _changed_only_how(request):
        task.physical_id = request.physical_resource_id or task.physical_id
        if props.outputs:  # the attributes come from a fresh response: one poll, or a wait
            return task, props
        return Answered(Done(task.physical_id)), props
    return task, props


def _changed_only_how(request: CfnRequest) -> bool:
    """Whether this Update changes only how to wait (``HOW_TO_WAIT``), not what."""
    old = request.old_properties or {}

    def what(props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k not in HOW_TO_WAIT}

    return what(old) == what(request.properties)
