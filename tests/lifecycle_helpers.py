"""Events as CloudFormation sends them after a Create (Update, rollback, Delete), and
Lambda's retries of an invocation that crashed."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tests.conftest import World, make_event
from tools.emulator import FUNCTION_ARN
from tools.emulator import destination_record as lambda_record
from tools.emulator.destination import error_payload


def create(world: World, **props: Any) -> tuple[str, dict[str, Any]]:
    """Run a Create to SUCCESS; return the certificate ARN and the properties sent."""
    world.issue_after(world.clock.elapsed + 30, props.get("Region", "eu-west-1"))
    event = make_event(**props)
    world.lam.run(event)
    body = world.sink.last
    assert body["Status"] == "SUCCESS", body
    return body["PhysicalResourceId"], event["ResourceProperties"]


def update_event(
    physical_id: str, old: dict[str, Any], new: dict[str, Any] | None = None, **changes: Any
) -> dict[str, Any]:
    """An Update from ``old`` to ``new`` (or to ``old`` with ``changes``; None removes)."""
    if new is None:
        new = {**copy.deepcopy(old), **changes}
        new = {k: v for k, v in new.items() if v is not None}
    event = make_event("Update")
    event["ResourceProperties"] = new
    event["OldResourceProperties"] = copy.deepcopy(old)
    event["PhysicalResourceId"] = physical_id
    return event


def rollback_of(update: dict[str, Any], physical_id: str) -> dict[str, Any]:
    """CloudFormation's update rollback: the same Update with old and new swapped."""
    event = update_event(physical_id, update["ResourceProperties"], update["OldResourceProperties"])
    event["RequestId"] = str(uuid.uuid4())
    return event


def delete_event(physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
    event = make_event("Delete")
    event["ResourceProperties"] = copy.deepcopy(props)
    event["PhysicalResourceId"] = physical_id
    return event


class Crash(BaseException):
    """Stands for the process dying (timeout, out of memory): nothing can catch it."""


def crash_once(world: World, operation: str, after: bool = False) -> None:
    """Make ``operation`` crash the invocation once: before it reaches AWS, or just after."""
    crashed: list[str] = []

    def crash(*_: Any) -> None:
        if not crashed:
            crashed.append(operation)
            raise Crash(operation)

    (world.after_hooks if after else world.hooks)[operation] = crash


def deliver_until_done(
    world: World, event: dict[str, Any], limit: int = 10, copies: int = 1
) -> int:
    """Deliver like Lambda's async retries: an invocation that crashed is delivered again
    a minute later. ``copies``: Lambda delivers the event that many times (at least once)."""
    crashes = 0
    world.lam.queue.extend([event] * copies)
    while world.lam.queue:
        current = world.lam.queue.pop(0)
        try:
            world.lam.invoke(current)
        except Crash:
            crashes += 1
            assert crashes <= limit
            world.clock.advance(60)
            world.lam.queue.insert(0, current)
    return crashes


DELIVERIES = 3
"""The first delivery and Lambda's two retries (the template's MaximumRetryAttempts: 2)."""


def destination_record(
    payload: Any,
    condition: str = "RetriesExhausted",
    attempts: int = DELIVERIES,
    error: BaseException | None = None,
) -> dict[str, Any]:
    """Lambda's on-failure record for ``payload``, as the emulator builds it."""
    return lambda_record(
        event=payload,
        function_arn=FUNCTION_ARN,
        condition=condition,  # type: ignore[arg-type]  # also conditions Lambda may add
        invoke_count=attempts,
        timestamp=1_800_000_000.0,
        request_id="6d1b1b2c-0000-4000-8000-000000000001",
        error=error_payload(error, "6d1b1b2c") if error is not None else None,
    )
