"""Checking resource properties: the toolkit every resource type's parser shares.

CloudFormation sends every scalar as a string. A parser collects every problem it finds
in a ``Checker``, each naming its property, and raises them together as one
``PropertyError``, so a user fixes the template in one go; nothing here calls AWS. The
limits CloudFormation itself sets (ServiceTimeout, a WaitCondition's Timeout) and the
shapes of ARNs, Regions and WaitCondition handles are the same for every resource type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .partitions import SUFFIX_PATTERN

DEFAULT_SERVICE_TIMEOUT = 3600
MAX_SERVICE_TIMEOUT = 3600
"""CloudFormation's longest ServiceTimeout of a custom resource (1 hour)."""
MAX_WAIT_TIMEOUT = 43200
"""The longest Timeout of an ``AWS::CloudFormation::WaitCondition`` (12 hours)."""

PARTITION = r"arn:aws(?:-[a-z]+)*"
WAIT_HANDLE_HOST = re.compile(
    rf"^cloudformation-waitcondition-([a-z0-9-]+)\.s3(?:[.-]([a-z0-9-]+))?\.{SUFFIX_PATTERN}$"
)
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
ROLE_ARN = re.compile(rf"^{PARTITION}:iam::\d{{12}}:role/[\w+=,.@/-]{{1,512}}$")
LAMBDA_ARN = re.compile(rf"^{PARTITION}:lambda:[a-z0-9-]+:\d{{12}}:function:[\w-]+(:[\w$-]+)?$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")

NUMBER_RANGES = {"ServiceTimeout": (1, MAX_SERVICE_TIMEOUT), "WaitTimeout": (1, MAX_WAIT_TIMEOUT)}


@dataclass(frozen=True)
class Problem:
    """One problem with the properties, at ``where`` (``Tags[2].Key``, say).

    ``involves`` names the other properties a problem of their relation depends on, so a
    template checker that cannot know them (an intrinsic function) can leave it out.
    """

    where: str
    text: str
    involves: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


class PropertyError(ValueError):
    """One or more properties are invalid; the message names each one and the problem."""

    def __init__(self, found: list[Problem]) -> None:
        self.found = found
        self.problems = [str(problem) for problem in found]
        super().__init__("Invalid properties: " + "; ".join(self.problems))


T = TypeVar("T")


class Checker:
    """Collects problems while each property is parsed, so all are reported together."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, where: str, problem: str, involves: tuple[str, ...] = ()) -> None:
        self.problems.append(Problem(where, problem, involves))

    def string(
        self, raw: Mapping[str, Any], key: str, where: str | None = None, strip: bool = True
    ) -> str | None:
        """A string value; names, ids and enum values are normalised (whitespace around
        them dropped), tag text is kept as given (spaces are legal in ACM tags)."""
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(where or key, f"must be a string, got {type(value).__name__}")
            return None
        return value.strip() if strip else value

    def pattern(
        self,
        raw: Mapping[str, Any],
        key: str,
        regex: re.Pattern[str],
        what: str,
        where: str = "",
        secret: bool = False,
    ) -> str | None:
        """A string matching ``regex``; a ``secret`` value is never echoed in the reason."""
        value = self.string(raw, key, where or key)
        if value is not None and not regex.match(value):
            shown = "the value" if secret else repr(value[:100])
            self.fail(where or key, f"{shown} is not {what}")
            return None
        return value

    def choice(self, raw: Mapping[str, Any], key: str, allowed: tuple[T, ...]) -> T | None:
        value = self.string(raw, key)
        if value is None:
            return None
        if value not in allowed:
            self.fail(key, f"{value[:100]!r} is not one of {', '.join(map(str, allowed))}")
            return None
        return next(a for a in allowed if a == value)

    def items(self, raw: Mapping[str, Any], key: str, limit: int) -> list[Any]:
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(key, f"must be a list, got {type(value).__name__}")
            return []
        if len(value) > limit:
            self.fail(key, f"has {len(value)} entries; at most {limit} are allowed")
        return value

    def mapping(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"must be an object, got {type(value).__name__}")
            return {}
        for unknown in sorted(set(value) - set(allowed)):
            self.fail(f"{where}.{unknown}", f"unknown key; allowed: {', '.join(allowed)}")
        return value

    def flag(self, raw: Mapping[str, Any], key: str) -> bool:
        value = raw.get(key)
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.fail(key, f"{shown(value)} is not 'true' or 'false'")
        return False


def whole_number(
    check: Checker,
    raw: Mapping[str, Any],
    key: str,
    default: int,
    bounds: tuple[int, int] | None = None,
) -> int:
    """A whole number within ``bounds`` (default: the key's entry in ``NUMBER_RANGES``),
    given as a JSON number or as ASCII digits.

    Other Unicode digits ('²', '①', '٣') and numbers of any length are refused as such,
    never passed to ``int()``, which raises on some and takes seconds on others.
    """
    value = raw.get(key)
    if value is None:
        return default
    minimum, maximum = bounds or NUMBER_RANGES[key]
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= len(str(maximum)):
            number = int(text)
    if number is None or not minimum <= number <= maximum:
        check.fail(key, f"{shown(value)} is not a whole number from {minimum} to {maximum}")
        return default
    return number


def shown(value: Any) -> str:
    """A value for a Reason: at most 100 characters of it, whatever its type and size."""
    try:
        text = value if isinstance(value, str) else str(value)
    except ValueError:  # an integer too long to print
        return "a number too long to show"
    return repr(text[:100])


def wait_handle_problem(url: str) -> str | None:
    """Why ``url`` is not a WaitCondition handle CloudFormation made, or None.

    A handle is a pre-signed https URL on CloudFormation's wait-condition bucket of a
    region (``cloudformation-waitcondition-<region>``, path-style host forms included, in
    any AWS partition: ``partitions.py``); the function PUTs to it, so nothing else is
    accepted.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    match = WAIT_HANDLE_HOST.match(host)
    if parts.scheme != "https" or parts.port not in (None, 443) or match is None:
        return "is not https on CloudFormation's wait-condition bucket host"
    if match.group(2) and match.group(2) != match.group(1):
        return "names two different regions in its host"
    if not parts.query:
        return "is not pre-signed (it has no query)"
    return None


def wait_handle(check: Checker, raw: Mapping[str, Any]) -> str | None:
    """The handle is a credential: a rejection never echoes it."""
    url = check.string(raw, "WaitConditionHandle")
    if url is None:
        return None
    problem = wait_handle_problem(url)
    if problem:
        check.fail("WaitConditionHandle", f"the value {problem}")
        return None
    return url
