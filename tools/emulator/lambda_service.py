"""Lambda's invocation service for one function, on a virtual clock.

It runs the function (the real ``Provider``) the way Lambda does:

- Asynchronous events (``Event``: CloudFormation's request, and the self-invocations the
  provider makes, captured on a boto3 session) are accepted with 202 and delivered at
  least once, each invocation a participant of the clock, so waits overlap as in AWS.
  ``duplicates`` says which events are delivered twice.
- An invocation that raises or outlives the function's timeout is retried twice, about 1
  and 2 minutes later. An event still failing, or too old to retry, goes to the
  on-failure ``destination`` (a callable receiving Lambda's record), when there is one;
  either way it is kept in ``given_up``.
- The timeout is enforced: the invocation's sleeps end at its deadline.
- Execution environments are reused while warm; one never runs two invocations at once.
- Versions and aliases: ``update_code`` replaces the code of ``$LATEST``, ``publish``
  freezes it as the next version number, ``set_alias`` points an alias at a version. An
  invocation of ``<arn>:<version or alias>`` runs that version's code, in environments of
  its own, with the context Lambda gives it (the invoked ARN, ``function_version``).

Outside ``run``/``drain``/``start``, accepted events wait in ``queue`` for a test to
deliver them by hand with ``invoke`` (synchronous: it runs in the caller's thread and
raises what the function raised, as a ``RequestResponse`` invocation does).
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn
from urllib.parse import unquote

from custom_resource.request import RELAY_KEY

from .clock import Aborted, DeadlineExceeded, VirtualClock
from .context import LambdaContext
from .destination import (
    Condition,
    Destination,
    destination_record,
    error_payload,
    timeout_payload,
)
from .function import FunctionConfig

Function = Callable[[dict[str, Any], LambdaContext], Any]
"""A function's handler in one execution environment."""
Observer = Callable[[str, "Invocation | None", str], None]
"""Told what the service does: (kind, invocation, what); kinds: invoked, error, timeout,
retry, gave-up, duplicate."""
Outcome = Literal["running", "returned", "error", "timeout"]
LATEST = "$LATEST"


class FunctionTimeout(Exception):
    """A synchronous invocation reached the function's timeout."""


@dataclass
class Invocation:
    number: int
    hop: int
    """The relay's hop number carried by the event (1 for CloudFormation's request)."""
    attempt: int
    """1 for the first delivery of an event, 2 and 3 for Lambda's retries."""
    kind: str
    request_type: str
    request_id: str
    logical_resource_id: str
    aws_request_id: str
    environment: int
    cold: bool
    started_at: float
    ended_at: float
    """When it returned, failed or was stopped (its start while it runs)."""
    handed_off: bool = False
    """The invocation started the next hop (an asynchronous self-invocation)."""
    outcome: Outcome = "running"
    error: dict[str, Any] | None = None
    """The runtime's error answer (errorMessage, errorType ...) when it did not return."""
    result: Any = None
    status: str = "-"
    """What the invocation last saw of its resource (the demo's instrumentation sets it)."""
    version: str = LATEST
    """The function version that ran it."""

    @property
    def duration(self) -> float:
        return self.ended_at - self.started_at

    @property
    def billed_ms(self) -> int:
        """Lambda bills each invocation's duration rounded up to the millisecond."""
        return max(1, math.ceil(round(self.duration * 1000, 6)))

    @property
    def failed(self) -> bool:
        return self.outcome in ("error", "timeout")


@dataclass
class _Environment:
    number: int
    function: Function
    version: str
    invocations: int = 0


class AddressedEvent(dict[str, Any]):
    """A queued event that remembers the qualifier (version or alias) it was sent to."""

    def __init__(self, event: dict[str, Any], qualifier: str | None) -> None:
        super().__init__(event)
        self.qualifier = qualifier


def qualifier_of(event: dict[str, Any]) -> str | None:
    return event.qualifier if isinstance(event, AddressedEvent) else None


@dataclass
class _Delivery:
    event: dict[str, Any]
    accepted_at: float
    qualifier: str | None = None
    attempts: int = 0
    last: Invocation | None = None


class _Accepted:
    status_code = 202


_current = threading.local()


def current_invocation() -> Invocation | None:
    """The invocation running on this thread (for instrumentation hooks)."""
    return getattr(_current, "invocation", None)


def _request_type(event: dict[str, Any]) -> str:
    """A CloudFormation request's type; an on-failure destination record is a ``Record``."""
    if "RequestType" in event:
        return str(event["RequestType"])
    return "Record" if "requestPayload" in event else "?"


def hop_of(event: dict[str, Any]) -> int:
    relay = event.get(RELAY_KEY)
    hop = relay.get("Hop", 1) if isinstance(relay, dict) else 1
    return hop if isinstance(hop, int) else 1


@dataclass
class LambdaService:
    clock: VirtualClock
    new_environment: Callable[[], Function]
    """Starts an execution environment (a cold start): returns its handler."""
    config: FunctionConfig = field(default_factory=FunctionConfig)
    destination: Destination | None = None
    duplicates: Callable[[dict[str, Any]], bool] | None = None
    """Events for which this returns True are delivered twice (at-least-once delivery)."""
    observer: Observer | None = None
    queue: list[dict[str, Any]] = field(default_factory=list)
    """Events accepted while not live, waiting to be delivered."""
    invocations: list[Invocation] = field(default_factory=list)
    given_up: list[dict[str, Any]] = field(default_factory=list)
    """Destination records of the events Lambda gave up on."""
    violations: list[str] = field(default_factory=list)
    """Invoke calls Lambda would have refused (also raised to the caller)."""
    environments: int = 0
    busy: int = 0
    peak_busy: int = 0
    versions: dict[str, Callable[[], Function]] = field(default_factory=dict)
    """Published versions (number -> the code it froze)."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Alias name -> version number."""
    _idle: list[_Environment] = field(default_factory=list, init=False)
    _live: bool = field(default=False, init=False)
    _in_flight: int = field(default=0, init=False)
    _limit: int | None = field(default=None, init=False)

    # Accepting invocations.

    def attach(self, session: Any) -> None:
        """Take every Lambda ``Invoke`` made through ``session``'s clients."""
        session.events.register("before-call.lambda.Invoke", self.capture)

    def capture(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        """A botocore ``before-call`` hook: accept an asynchronous self-invocation (202)."""
        headers = params.get("headers", {})
        if headers.get("X-Amz-Invocation-Type") != "Event":
            self._refuse(f"self-invocation must be asynchronous: {headers}")
        path = unquote(params.get("url_path", ""))
        target = path.removeprefix("/2015-03-31/functions/").removesuffix("/invocations")
        parts = target.split(":")
        if ":".join(parts[:7]) != self.config.arn:
            self._refuse(f"invoked another function: {params.get('url_path')}")
        query = params.get("query_string") or {}
        qualifier = ":".join(parts[7:]) or str(query.get("Qualifier", ""))
        self.resolve(qualifier or None)  # Lambda refuses an unknown version or alias
        invocation = current_invocation()
        if invocation is not None:
            invocation.handed_off = True
        self.submit(json.loads(params["body"]), qualifier or None)
        return _Accepted(), {"StatusCode": 202, "ResponseMetadata": {"HTTPStatusCode": 202}}

    def submit(self, event: dict[str, Any], qualifier: str | None = None) -> None:
        """An asynchronous invocation Lambda accepted: delivered now if live, else queued."""
        if not self._live:
            self.queue.append(AddressedEvent(event, qualifier) if qualifier else event)
            return
        self._accept(event, qualifier)

    def invoke(self, event: dict[str, Any], qualifier: str | None = None) -> Invocation:
        """A synchronous invocation in the caller's thread; what the function raised (or
        ``FunctionTimeout``) reaches the caller. A queued event keeps its qualifier."""
        qualifier = qualifier or qualifier_of(event)
        return self._invoke(event, 1, "RequestResponse", reraise=True, qualifier=qualifier)

    # Versions and aliases.

    def update_code(self, new_environment: Callable[[], Function]) -> None:
        """UpdateFunctionCode: ``$LATEST`` runs ``new_environment``'s code from now on."""
        self.new_environment = new_environment
        self._idle = [e for e in self._idle if e.version != LATEST]

    def publish(self) -> str:
        """PublishVersion: freeze ``$LATEST``'s code as the next version; its number."""
        number = str(len(self.versions) + 1)
        self.versions[number] = self.new_environment
        return number

    def set_alias(self, name: str, version: str) -> None:
        """CreateAlias / UpdateAlias: invocations of ``name`` run ``version`` from now on."""
        if version not in self.versions:
            raise KeyError(f"no published version {version}")
        self.aliases[name] = version

    def resolve(self, qualifier: str | None) -> str:
        """The version an invocation of ``qualifier`` runs (``$LATEST`` when unqualified)."""
        if qualifier in (None, "", LATEST):
            return LATEST
        assert qualifier is not None
        if qualifier in self.versions:
            return qualifier
        if qualifier in self.aliases:
            return self.aliases[qualifier]
        self._refuse(f"no version or alias {qualifier} (ResourceNotFoundException)")

    # Delivering.

    def start(self) -> None:
        """Deliver what is queued, and every later event as it is accepted."""
        self._live = True
        queued, self.queue = self.queue, []
        for event in queued:
            self._accept(event, qualifier_of(event))

    def stop(self) -> None:
        """Queue later events again (deliveries already scheduled still happen)."""
        self._live = False

    @property
    def settled(self) -> bool:
        """No delivery is scheduled, running or waiting for a retry."""
        return self._in_flight == 0

    def drain(self, max_invocations: int | None = None) -> None:
        """Deliver everything queued and wait, in virtual time, until every delivery and
        the deliveries it caused have ended (retries included)."""
        was_live = self._live
        self._limit = None if max_invocations is None else len(self.invocations) + max_invocations
        self.start()
        try:
            self.clock.wait_until(lambda: self.settled, what="the end of every delivery")
        finally:
            self._live, self._limit = was_live, None

    def run(
        self, event: dict[str, Any], max_invocations: int = 50, qualifier: str | None = None
    ) -> list[Invocation]:
        """Deliver ``event`` asynchronously (to ``qualifier``, or as queued), then every hop
        it hands off to, until the chain ends; return the invocations of this run."""
        first = len(self.invocations)
        qualifier = qualifier or qualifier_of(event)
        self.queue.append(AddressedEvent(event, qualifier) if qualifier else event)
        self.drain(max_invocations)
        return self.invocations[first:]

    def _accept(self, event: dict[str, Any], qualifier: str | None) -> None:
        copies = 2 if self.duplicates is not None and self.duplicates(event) else 1
        for copy in range(copies):
            if copy:
                self._note("duplicate", None, "Lambda delivers the event a second time")
            delay = self.config.delivery_delay_seconds + copy * self.config.duplicate_delay_seconds
            self._schedule(_Delivery(event, self.clock(), qualifier), delay)

    def _schedule(self, delivery: _Delivery, delay: float) -> None:
        self._in_flight += 1
        name = f"lambda-{delivery.event.get('LogicalResourceId', '?')}-hop{hop_of(delivery.event)}"
        self.clock.spawn(functools.partial(self._deliver, delivery), delay, name)

    def _deliver(self, delivery: _Delivery) -> None:
        try:
            if self.clock() - delivery.accepted_at > self.config.maximum_event_age_seconds:
                self._give_up(delivery, "EventAgeExceeded")
                return
            delivery.attempts += 1
            delivery.last = self._invoke(
                delivery.event, delivery.attempts, "Event", False, delivery.qualifier
            )
            if not delivery.last.failed:
                return
            if delivery.attempts > self.config.maximum_retry_attempts:
                self._give_up(delivery, "RetriesExhausted")
                return
            delays = self.config.retry_delays
            delay = delays[min(delivery.attempts, len(delays)) - 1]
            self._note("retry", delivery.last, f"Lambda retries the event in {delay:g} s")
            self._schedule(delivery, delay)
        finally:
            self._in_flight -= 1

    def _give_up(self, delivery: _Delivery, condition: Condition) -> None:
        last = delivery.last
        record = destination_record(
            event=delivery.event,
            function_arn=self.config.arn,
            condition=condition,
            invoke_count=delivery.attempts,
            timestamp=self.clock(),
            request_id=last.aws_request_id if last else "",
            error=last.error if last else None,
        )
        self.given_up.append(record)
        where = "to the on-failure destination" if self.destination else "(no destination)"
        self._note("gave-up", last, f"Lambda gives up on the event ({condition}) {where}")
        if self.destination is not None:
            self.destination(record)

    # Running one invocation.

    def _invoke(
        self,
        event: dict[str, Any],
        attempt: int,
        kind: str,
        reraise: bool,
        qualifier: str | None = None,
    ) -> Invocation:
        if self._limit is not None and len(self.invocations) >= self._limit:
            raise AssertionError(f"more invocations than allowed ({len(self.invocations)})")
        version = self.resolve(qualifier)
        environment = self._acquire(version)
        context = LambdaContext(
            self.clock,
            self.config.timeout_seconds,
            f"{self.config.arn}:{qualifier}" if qualifier else self.config.arn,
            function_version=version,
            memory_limit_in_mb=self.config.memory_mb,
        )
        invocation = Invocation(
            number=len(self.invocations) + 1,
            hop=hop_of(event),
            attempt=attempt,
            kind=kind,
            request_type=_request_type(event),
            request_id=str(event.get("RequestId", "")),
            logical_resource_id=str(event.get("LogicalResourceId", "")),
            aws_request_id=context.aws_request_id,
            environment=environment.number,
            cold=environment.invocations == 0,
            started_at=self.clock(),
            ended_at=self.clock(),
            version=version,
        )
        self.invocations.append(invocation)
        environment.invocations += 1
        self.busy += 1
        self.peak_busy = max(self.peak_busy, self.busy)
        previous, _current.invocation = current_invocation(), invocation
        self._note("invoked", invocation, "started" + (" (cold start)" if invocation.cold else ""))
        try:
            with self.clock.deadline(context.deadline):
                invocation.result = environment.function(json.loads(json.dumps(event)), context)
            invocation.outcome = "returned"
        except DeadlineExceeded:
            invocation.outcome = "timeout"
            invocation.error = timeout_payload(
                self.clock(), context.aws_request_id, self.config.timeout_seconds
            )
            self._note("timeout", invocation, invocation.error["errorMessage"])
            if reraise:
                raise FunctionTimeout(invocation.error["errorMessage"]) from None
        except (Aborted, KeyboardInterrupt):
            raise
        except BaseException as exc:
            invocation.outcome = "error"
            invocation.error = error_payload(exc, context.aws_request_id)
            self._note("error", invocation, f"function error: {type(exc).__name__}: {exc}")
            if reraise:
                raise
        finally:
            invocation.ended_at = self.clock()
            self.busy -= 1
            self._idle.append(environment)
            _current.invocation = previous
        return invocation

    def _acquire(self, version: str) -> _Environment:
        """A warm environment of ``version``, else a cold start of its code."""
        for index in range(len(self._idle) - 1, -1, -1):
            if self._idle[index].version == version:
                return self._idle.pop(index)
        self.environments += 1
        code = self.new_environment if version == LATEST else self.versions[version]
        return _Environment(self.environments, code(), version)

    def _refuse(self, problem: str) -> NoReturn:
        self.violations.append(problem)
        raise AssertionError(problem)

    def _note(self, kind: str, invocation: Invocation | None, what: str) -> None:
        if self.observer is not None:
            self.observer(kind, invocation, what)
