"""The properties of a ``Custom::WaitFor``, checked against botocore's own models.

A WaitFor names a botocore waiter (``Service`` + ``Waiter``) or brings its own
(``Operation`` + ``Acceptors``, in the format of botocore's waiters-2.json). Every name is
checked against the installed botocore's service and waiter models before any call, and
a wrong one is refused naming the property and the closest valid name.

CloudFormation sends every scalar as a string, so an acceptor's ``Expected`` is typed
here the way botocore's waiter files type it (``expected_value``): ``true``/``false``
become booleans, whole numbers become numbers, anything else stays a string, and a value
in double quotes is the string inside them. The operation's ``Parameters`` are typed by
the operation's input shape (``"10"`` for an integer member becomes 10).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import jmespath
from botocore import xform_name
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.waiter import AcceptorConfig, SingleWaiterConfig
from jmespath.exceptions import JMESPathError

from ..checks import (
    DEFAULT_SERVICE_TIMEOUT,
    EXTERNAL_ID,
    LAMBDA_ARN,
    MAX_WAIT_TIMEOUT,
    REGION,
    ROLE_ARN,
    Checker,
    Problem,
    PropertyError,
    wait_handle,
    whole_number,
)

RESOURCE_TYPE = "Custom::WaitFor"

TOP_LEVEL = (
    "ServiceToken",
    "ServiceTimeout",
    "Service",
    "Waiter",
    "Operation",
    "Acceptors",
    "Parameters",
    "Delay",
    "Region",
    "RoleArn",
    "RoleExternalId",
    "Outputs",
    "AllowWriteOperation",
    "WaitConditionHandle",
    "WaitTimeout",
)
REQUIRED = ("ServiceToken", "Service")
"""Required in every WaitFor; then ``Waiter``, or ``Operation`` with ``Acceptors``."""
HOW_TO_WAIT = ("ServiceToken", "ServiceTimeout", "Delay")
"""Properties that change how long or how often to wait, not what is waited for: an
Update that changes only these does not wait again."""

READ_ONLY_PREFIXES = (
    "Describe",
    "Get",
    "List",
    "Head",
    "BatchGet",
    "BatchDescribe",
    "Query",
    "Scan",
    "Search",
    "Lookup",
    "Select",
)
"""An operation whose name starts with one of these words only reads (AWS names its
operations verb first); any other needs ``AllowWriteOperation: true``."""

STATES = ("success", "failure", "retry")
MATCHERS = ("path", "pathAll", "pathAny", "status", "error")
ACCEPTOR_KEYS = ("State", "Matcher", "Argument", "Expected")
MAX_ACCEPTORS = 20
MAX_OUTPUTS = 20
MAX_DELAY = 300
DEFAULT_DELAY = 15
_OUTPUT_NAME = re.compile(r"^[A-Za-z0-9]{1,255}$")
_WHOLE = re.compile(r"^-?\d{1,18}$")


@dataclass(frozen=True)
class WaitForProperties:
    """Validated properties; acceptors in botocore's own form (lowercase keys, typed)."""

    service: str
    operation: str
    acceptors: tuple[dict[str, Any], ...]
    delay: int
    waiter: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    outputs: tuple[tuple[str, str], ...] = ()
    region: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    allow_write: bool = False
    service_timeout: int = DEFAULT_SERVICE_TIMEOUT
    wait_handle: str | None = None
    wait_timeout: int = MAX_WAIT_TIMEOUT

    @property
    def poll_seconds(self) -> float:
        """The interval between polls: the relay's floor for this wait."""
        return float(self.delay)

    @property
    def subject(self) -> str:
        """What is waited for, in words: ``s3 waiter ObjectExists``."""
        if self.waiter:
            return f"{self.service} waiter {self.waiter}"
        return f"{self.service} {self.operation} (own acceptors)"

    def config(self) -> SingleWaiterConfig:
        """botocore's model of this wait (``maxAttempts`` unused: the deadline ends it)."""
        return SingleWaiterConfig(
            {
                "operation": self.operation,
                "delay": self.delay,
                "maxAttempts": 1,
                "acceptors": [dict(a) for a in self.acceptors],
            }
        )

    def identity(self) -> str:
        """A digest of what is waited for (not how long or how often)."""
        what = {
            "Service": self.service,
            "Operation": self.operation,
            "Acceptors": self.acceptors,
            "Parameters": self.parameters,
            "Region": self.region,
            "RoleArn": self.role_arn,
            "Outputs": self.outputs,
        }
        encoded = json.dumps(what, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()


@functools.cache
def _models() -> Any:
    """botocore's models as installed with the function: one loader, parsed once."""
    return botocore.session.get_session()


def closest(value: str, valid: list[str]) -> str:
    """`` (did you mean X?)`` when a valid name is close to ``value``, else ``''``."""
    lowered = {name.lower(): name for name in valid}
    match = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.5)
    return f" (did you mean {lowered[match[0]]!r}?)" if match else ""


def _by_either_case(value: str, names: list[str]) -> str | None:
    """``names``' entry spelled ``value`` in PascalCase or snake_case, if any."""
    for name in names:
        if value in (name, xform_name(name)) or value.lower() == name.lower():
            return name
    return None


def parse_wait_for(raw: Mapping[str, Any]) -> WaitForProperties:
    """Parse ResourceProperties; raise PropertyError listing every problem found."""
    check = Checker()
    for unknown in sorted(set(raw) - set(TOP_LEVEL)):
        check.fail(unknown, "unknown property" + closest(unknown, list(TOP_LEVEL)))
    if raw.get("ServiceToken") is None:
        check.fail("ServiceToken", "is required")
    else:
        check.pattern(raw, "ServiceToken", LAMBDA_ARN, "a Lambda function ARN")
    timeout = whole_number(check, raw, "ServiceTimeout", DEFAULT_SERVICE_TIMEOUT)
    region = check.pattern(raw, "Region", REGION, "an AWS region such as us-east-1")
    role = check.pattern(raw, "RoleArn", ROLE_ARN, "an IAM role ARN")
    external_id = check.pattern(
        raw, "RoleExternalId", EXTERNAL_ID, "2-1224 characters of [\\w+=,.@:/-]", secret=True
    )
    if external_id and not role:
        check.fail("RoleExternalId", "is only used with RoleArn", involves=("RoleArn",))
    handle = wait_handle(check, raw)
    wait_timeout = whole_number(check, raw, "WaitTimeout", MAX_WAIT_TIMEOUT)
    if raw.get("WaitTimeout") is not None and handle is None:
        check.fail(
            "WaitTimeout",
            "is only used with WaitConditionHandle",
            involves=("WaitConditionHandle",),
        )
    allow_write = check.flag(raw, "AllowWriteOperation")
    outputs = _outputs(check, raw)

    service, model, waiter, operation, acceptors, default_delay = _target(check, raw)
    if operation and not allow_write and not operation.startswith(READ_ONLY_PREFIXES):
        check.fail(
            "Operation",
            f"{operation} is not read-only (its name does not start with "
            f"{', '.join(READ_ONLY_PREFIXES)}), and a wait must not change anything; "
            "set AllowWriteOperation: true if it only reads",
            involves=("AllowWriteOperation",),
        )
    parameters: dict[str, Any] = {}
    if model is not None and operation:
        parameters = _parameters(check, raw, model.operation_model(operation).input_shape)
    delay = whole_number(check, raw, "Delay", default_delay, (1, MAX_DELAY))
    if check.problems or not service or not operation:
        raise PropertyError(check.problems or [Problem("Service", "is required")])
    return WaitForProperties(
        service=service,
        operation=operation,
        acceptors=acceptors,
        delay=delay,
        waiter=waiter,
        parameters=parameters,
        outputs=outputs,
        region=region,
        role_arn=role,
        external_id=external_id,
        allow_write=allow_write,
        service_timeout=timeout,
        wait_handle=handle,
        wait_timeout=wait_timeout,
    )


def _target(
    check: Checker, raw: Mapping[str, Any]
) -> tuple[str | None, Any, str | None, str | None, tuple[dict[str, Any], ...], int]:
    """The service, its botocore model, the waiter, the operation as botocore spells it
    (None when unknown), the acceptors and the waiter's delay."""
    service = _service(check, raw)
    model = _service_model(service) if service else None
    waiter, operation, acceptors, default_delay = _what(check, raw, service)
    if model is not None and operation is not None:
        operation = _operation(check, raw, model, operation, waiter)
    return service, model, waiter, operation, acceptors, default_delay


def input_shape(raw: Mapping[str, Any]) -> Any:
    """The botocore input shape of the operation ``raw`` names (by Waiter or Operation),
    None when it names none: what a caller that stands in for parameter values known
    only later (the CDK construct, for tokens) types its stand-ins by."""
    _, model, _, operation, _, _ = _target(Checker(), raw)
    return model.operation_model(operation).input_shape if model is not None and operation else None


def _service(check: Checker, raw: Mapping[str, Any]) -> str | None:
    name = check.string(raw, "Service")
    if name is None:
        if "Service" not in raw:
            check.fail("Service", "is required (a boto3 service name such as s3 or ecs)")
        return None
    services = _models().get_available_services()
    if name.lower() not in services:
        check.fail("Service", f"{name[:100]!r} is not a boto3 service" + closest(name, services))
        return None
    return str(name.lower())


def _service_model(service: str) -> Any:
    try:
        return _models().get_service_model(service)
    except (DataNotFoundError, UnknownServiceError):  # pragma: no cover - listed services load
        return None


def _what(
    check: Checker, raw: Mapping[str, Any], service: str | None
) -> tuple[str | None, str | None, tuple[dict[str, Any], ...], int]:
    """The waiter, its operation, its acceptors and its delay, from either form."""
    named, operation = check.string(raw, "Waiter"), check.string(raw, "Operation")
    has_acceptors = raw.get("Acceptors") is not None
    if named is not None and (operation is not None or has_acceptors):
        check.fail(
            "Waiter",
            "give either Waiter, or Operation with Acceptors, not both",
            involves=("Operation",) if operation is not None else ("Acceptors",),
        )
        return None, None, (), DEFAULT_DELAY
    if named is None:
        if operation is None or not has_acceptors:
            missing = "Operation" if operation is None else "Acceptors"
            check.fail(missing, "is required: give Waiter, or Operation with Acceptors")
            return None, None, (), DEFAULT_DELAY
        return None, operation, _acceptors(check, raw), DEFAULT_DELAY
    if service is None:
        return None, None, (), DEFAULT_DELAY
    try:
        waiters = _models().get_waiter_model(service)
    except DataNotFoundError:
        check.fail("Waiter", f"botocore has no waiters for {service}; give Operation and Acceptors")
        return None, None, (), DEFAULT_DELAY
    waiter = _by_either_case(named, waiters.waiter_names)
    if waiter is None:
        check.fail(
            "Waiter",
            f"{named[:100]!r} is not a waiter of {service}" + closest(named, waiters.waiter_names),
        )
        return None, None, (), DEFAULT_DELAY
    config = waiters.get_waiter(waiter)
    acceptors = tuple(dict(a) for a in config._config["acceptors"])
    return waiter, config.operation, acceptors, int(config.delay)


def _operation(
    check: Checker, raw: Mapping[str, Any], model: Any, operation: str, waiter: str | None
) -> str | None:
    names = list(model.operation_names)
    found = _by_either_case(operation, names)
    if found is None:
        where = "Waiter" if waiter else "Operation"
        check.fail(
            where,
            f"{operation[:100]!r} is not an operation of {model.service_name}"
            + closest(operation, names),
        )
    return found


def expected_value(text: Any, matcher: str | None) -> Any:
    """``Expected`` as CloudFormation sent it, typed as botocore's waiter files type it.

    ``"true"``/``"false"`` -> bool, a whole number -> int, ``"\\"x\\""`` -> the string
    ``x``, anything else unchanged. A status matcher compares HTTP status codes (whole
    numbers only); an error matcher compares error codes, or with true/false any error.
    """
    if not isinstance(text, str):
        return text
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if _WHOLE.match(value) and matcher != "error":
        return int(value)
    return value


def _acceptors(check: Checker, raw: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    entries = check.items(raw, "Acceptors", MAX_ACCEPTORS)
    if raw.get("Acceptors") is not None and not entries and isinstance(raw["Acceptors"], list):
        check.fail("Acceptors", "needs at least one acceptor")
    accepted = [_acceptor(check, entry, f"Acceptors[{i}]") for i, entry in enumerate(entries)]
    if accepted and all(accepted) and not any(a and a["state"] == "success" for a in accepted):
        check.fail("Acceptors", "has no acceptor with State success: the wait could never end")
    return tuple(a for a in accepted if a)


def _acceptor(check: Checker, entry: Any, where: str) -> dict[str, Any] | None:
    """One acceptor in botocore's form, or None (its problems recorded)."""
    if not isinstance(entry, dict):
        check.fail(where, f"must be an object, got {type(entry).__name__}")
        return None
    keys: dict[str, Any] = {}
    written: dict[str, str] = {}  # each key as spelt (``state``): a problem names it so
    before = len(check.problems)
    for key, value in entry.items():
        canonical = next((k for k in ACCEPTOR_KEYS if k.lower() == str(key).lower()), None)
        if canonical is None:
            check.fail(f"{where}.{key}", "unknown key" + closest(str(key), list(ACCEPTOR_KEYS)))
        elif canonical in keys:
            check.fail(f"{where}.{key}", f"{canonical} is given twice")
        else:
            keys[canonical] = value
            written[canonical] = str(key)

    def at(key: str) -> str:
        return f"{where}.{written.get(key, key)}"

    state = _one_of(check, keys, "State", STATES, at("State"))
    matcher = _one_of(check, keys, "Matcher", MATCHERS, at("Matcher"))
    argument = keys.get("Argument")
    if matcher in ("path", "pathAll", "pathAny"):
        argument = _jmespath(check, argument, at("Argument"), required=True)
    elif argument is not None and matcher is not None:
        check.fail(at("Argument"), f"is only used with the path matchers, not {matcher}")
    if "Expected" not in keys or keys["Expected"] is None:
        check.fail(at("Expected"), "is required")
    expected = expected_value(keys.get("Expected"), matcher)
    if matcher == "status" and (isinstance(expected, bool) or not isinstance(expected, int)):
        check.fail(at("Expected"), f"{expected!r} is not an HTTP status code such as 200")
    if len(check.problems) > before or state is None or matcher is None:
        return None
    acceptor = {"state": state, "matcher": matcher, "expected": expected}
    if argument is not None:
        acceptor["argument"] = argument
    AcceptorConfig(acceptor)  # botocore's own check: raises on a form it cannot run
    return acceptor


def _one_of(
    check: Checker, keys: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str
) -> str | None:
    """``keys[key]`` if it is one of ``allowed`` (any case); ``where`` is its path."""
    value = keys.get(key)
    if not isinstance(value, str):
        check.fail(where, f"is required, one of {', '.join(allowed)}")
        return None
    found = next((a for a in allowed if a.lower() == value.strip().lower()), None)
    if found is None:
        check.fail(
            where,
            f"{value[:100]!r} is not one of {', '.join(allowed)}" + closest(value, list(allowed)),
        )
    return found


def _jmespath(check: Checker, value: Any, where: str, required: bool = False) -> str | None:
    if not isinstance(value, str) or not value.strip():
        if required or value is not None:
            check.fail(where, "must be a JMESPath expression")
        return None
    try:
        jmespath.compile(value)
    except JMESPathError as exc:
        problem = " ".join(str(exc).split())
        check.fail(where, f"{value[:100]!r} is not a JMESPath expression ({problem})")
        return None
    return value


def _outputs(check: Checker, raw: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    value = raw.get("Outputs")
    if value is None:
        return ()
    if not isinstance(value, dict):
        check.fail("Outputs", "must be an object of attribute name: JMESPath expression")
        return ()
    if len(value) > MAX_OUTPUTS:
        check.fail("Outputs", f"has {len(value)} entries; at most {MAX_OUTPUTS} are allowed")
    outputs = []
    for name, expression in value.items():
        where = f"Outputs.{name}"
        if not _OUTPUT_NAME.match(str(name)):
            check.fail(where, "an attribute name is letters and digits only")
        elif _jmespath(check, expression, where, required=True):
            outputs.append((str(name), str(expression)))
    return tuple(outputs)


def output_names(raw: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The ``Fn::GetAtt`` attributes a WaitFor with these properties answers with (the
    Data of its SUCCESS, ``waiter.outputs_of``): the names in its ``Outputs``, nothing
    else. None when ``Outputs`` is not an object: the parser rejects it, or (a template
    checker's view) it is known only at deploy time. In 12-hour mode the SUCCESS comes
    before the wait ends and carries them only if the condition held at the first poll;
    the WaitCondition's Data carries them at the end."""
    value = raw.get("Outputs")
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        return None
    return tuple(str(name) for name in value)


_SCALARS = {
    "integer": int,
    "long": int,
    "float": float,
    "double": float,
}


def _parameters(check: Checker, raw: Mapping[str, Any], shape: Any) -> dict[str, Any]:
    value = raw.get("Parameters", {})
    if shape is None:
        if value:
            check.fail("Parameters", "this operation takes no parameters")
        return {}
    typed = _typed(check, value, shape, "Parameters")
    if isinstance(typed, dict):
        for member in shape.required_members:
            if member not in typed:
                check.fail(f"Parameters.{member}", "is required by the operation")
        return typed
    return {}


def _typed(check: Checker, value: Any, shape: Any, where: str) -> Any:
    """``value`` typed by ``shape`` (CloudFormation's strings to numbers and booleans);
    member names are checked at every level."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            check.fail(where, f"must be an object, got {type(value).__name__}")
            return None
        members = dict(shape.members)
        typed = {}
        for key, item in value.items():
            if key not in members:
                check.fail(f"{where}.{key}", "unknown parameter" + closest(str(key), list(members)))
            else:
                typed[key] = _typed(check, item, members[key], f"{where}.{key}")
        return typed
    if kind == "list":
        if not isinstance(value, list):
            check.fail(where, f"must be a list, got {type(value).__name__}")
            return None
        return [_typed(check, item, shape.member, f"{where}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            check.fail(where, f"must be an object, got {type(value).__name__}")
            return None
        return {k: _typed(check, v, shape.value, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, dict | list):
        check.fail(where, f"must be a {kind}, got {type(value).__name__}")
        return None
    if kind == "boolean":
        flag = expected_value(value, None)
        if not isinstance(flag, bool):
            check.fail(where, f"{str(value)[:100]!r} is not true or false")
        return flag
    if kind in _SCALARS:
        try:
            return _SCALARS[kind](str(value).strip())
        except ValueError:
            check.fail(where, f"{str(value)[:100]!r} is not a {kind}")
            return None
    return value if not isinstance(value, bool) else str(value).lower()
