"""One local Lambda on one virtual clock: what the tests, the demo and the benchmark run on.

- ``clock``: virtual time shared by every participant; ``pace``: the demo's real-time pacing
- ``context``: the Lambda context object; ``function``: the function's settings (template)
- ``lambda_service``: Lambda's invocations (async delivery, retries, timeout, destination)
- ``destination``: the record an on-failure destination receives
- ``protocol``: CloudFormation's response protocol, checked on every PUT
"""

from .clock import Aborted, DeadlineExceeded, Stalled, VirtualClock
from .context import FUNCTION_ARN, LambdaContext
from .destination import Destination, destination_record
from .function import FunctionConfig, from_template, load_template
from .lambda_service import (
    FunctionTimeout,
    Invocation,
    LambdaService,
    current_invocation,
)
from .pace import Pacer
from .protocol import ProtocolError, ResponseSink, check_body, check_put

__all__ = [
    "FUNCTION_ARN",
    "Aborted",
    "DeadlineExceeded",
    "Destination",
    "FunctionConfig",
    "FunctionTimeout",
    "Invocation",
    "LambdaContext",
    "LambdaService",
    "Pacer",
    "ProtocolError",
    "ResponseSink",
    "Stalled",
    "VirtualClock",
    "check_body",
    "check_put",
    "current_invocation",
    "destination_record",
    "from_template",
    "load_template",
]
