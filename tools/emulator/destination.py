"""What Lambda sends to an on-failure destination when it gives up on an async event.

The record has the shape of Lambda's own (AWS Lambda Developer Guide, "Capturing records
of asynchronous invocations"): the original event under ``requestPayload``, why Lambda
gave up under ``requestContext.condition``, the last error under ``responsePayload``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

Condition = Literal["RetriesExhausted", "EventAgeExceeded"]
Destination = Callable[[dict[str, Any]], None]
"""Receives one destination record (an SQS queue, an SNS topic, a Lambda function ...)."""


def iso_timestamp(epoch: float) -> str:
    """``2027-01-15T08:00:00.000Z``, as Lambda writes timestamps."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The Python runtime's answer for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def timeout_payload(epoch: float, request_id: str, timeout_seconds: float) -> dict[str, Any]:
    """Lambda's answer for an invocation it stopped at the function's timeout."""
    return {
        "errorMessage": f"{iso_timestamp(epoch)} {request_id} "
        f"Task timed out after {timeout_seconds:.2f} seconds"
    }


def destination_record(
    *,
    event: dict[str, Any],
    function_arn: str,
    condition: Condition,
    invoke_count: int,
    timestamp: float,
    request_id: str,
    error: dict[str, Any] | None,
) -> dict[str, Any]:
    """The record for an event Lambda gave up on after ``invoke_count`` invocations; the
    response parts are there only when the function ran at all."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_timestamp(timestamp),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": event,
    }
    if error is not None:
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        }
        record["responsePayload"] = error
    return record
