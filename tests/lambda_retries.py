"""What Lambda does with an asynchronous event whose invocation fails (FACTS.md, Lambda).

It delivers the event again after about 1 and then 2 minutes; once every delivery has
failed it sends an invocation record to the on-failure destination. This is the small
loop the tests need (the shared in-process Lambda in tools/ runs successful chains).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from custom_resource.response import ResponseNotDeliveredError
from tests.conftest import World
from tools.local_lambda import FUNCTION_ARN

DELIVERIES = 3
"""The first delivery and Lambda's two retries (the template's MaximumRetryAttempts: 2)."""


@dataclass
class Delivered:
    errors: list[ResponseNotDeliveredError] = field(default_factory=list)
    gave_up_on: dict[str, Any] | None = None
    """The event Lambda stopped retrying: what the destination record carries."""


def deliver_like_lambda(world: World, event: dict[str, Any]) -> Delivered:
    """Run ``event`` and the hops it hands off to; retry a failed invocation like Lambda."""
    result = Delivered()
    world.lam.queue.append(event)
    while world.lam.queue:
        current = world.lam.queue.pop(0)
        for delivery in range(1, DELIVERIES + 1):
            try:
                world.lam.invoke(current)
                break
            except ResponseNotDeliveredError as exc:
                result.errors.append(exc)
                world.clock.advance(60 * delivery)
        else:
            result.gave_up_on = current
            return result
    return result


def destination_record(
    payload: dict[str, Any],
    condition: str = "RetriesExhausted",
    attempts: int = DELIVERIES,
    error: BaseException | None = None,
) -> dict[str, Any]:
    """Lambda's on-failure invocation record for ``payload`` (its documented shape)."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": "2026-11-29T08:47:00.000Z",
        "requestContext": {
            "requestId": "6d1b1b2c-0000-4000-8000-000000000001",
            "functionArn": f"{FUNCTION_ARN}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
    }
    if error is not None:
        record["responseContext"]["functionError"] = "Unhandled"
        record["responsePayload"] = {
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": [],
        }
    return record
