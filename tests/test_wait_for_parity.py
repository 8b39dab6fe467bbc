"""Every waiter of the installed botocore: WaitFor decides each response as botocore does.

For each waiter, its acceptors are written as a template would write them (capitalised
keys, every scalar a string, as CloudFormation sends it) and parsed by the WaitFor's
property code; the same waiter is also named (``Waiter`` in snake_case). Responses are
generated from each acceptor (one that should match it, others that should not), and each
goes through botocore's own ``Waiter.wait`` (one attempt, no sleep) and through the
WaitFor's evaluation: the two verdicts never differ.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jmespath
import pytest
from botocore import xform_name
from botocore.exceptions import WaiterError
from botocore.waiter import SingleWaiterConfig, Waiter
from jmespath.exceptions import JMESPathError

from custom_resource.waiters.waiter import verdict
from custom_resource.waiters.waiter_properties import _models, parse_wait_for
from tests.conftest import FUNCTION_ARN

SESSION = _models()
"""The session whose models the WaitFor reads: each service model is parsed once."""
OTHER = "parity-other-value"


def waiters() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for service in SESSION.get_available_services():
        try:
            model = SESSION.get_waiter_model(service)
        except Exception:
            continue
        for name in model.waiter_names:
            yield service, name, model.get_waiter(name)._config


def botocore_verdict(config: dict[str, Any], response: dict[str, Any]) -> str:
    """What botocore's own waiter concludes from ``response`` in one attempt."""
    single = SingleWaiterConfig({**config, "delay": 0, "maxAttempts": 1})
    waiter = Waiter("Parity", single, lambda **_: response)
    try:
        waiter.wait()
    except JMESPathError as exc:
        return f"raises {type(exc).__name__}"
    except WaiterError as exc:
        reason = str(exc)
        if "terminal failure" in reason:
            return "failure"
        if "Previously accepted state" in reason:
            return "retry"
        if "Max attempts exceeded" in reason:
            return "waiting"
        return "error"
    return "success"


def as_template(expected: Any) -> str:
    """A value as CloudFormation sends it: a string."""
    if isinstance(expected, bool):
        return "true" if expected else "false"
    return str(expected)


def written(acceptor: dict[str, Any]) -> dict[str, Any]:
    entry = {
        "State": acceptor["state"],
        "Matcher": acceptor["matcher"],
        "Expected": as_template(acceptor["expected"]),
    }
    if "argument" in acceptor:
        entry["Argument"] = acceptor["argument"]
    return entry


def placeholder(shape: Any, depth: int = 0) -> Any:
    """A value of ``shape`` with its required members, as a template would write it."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 6:
            return {}
        return {m: placeholder(shape.members[m], depth + 1) for m in shape.required_members}
    if kind == "list":
        return [placeholder(shape.member, depth + 1)]
    if kind == "map":
        return {}
    if kind == "boolean":
        return "true"
    if kind in ("integer", "long", "float", "double"):
        return "1"
    if shape.enum:
        return shape.enum[0]
    return "x"


def parameters(service: str, operation: str) -> dict[str, Any]:
    shape = SESSION.get_service_model(service).operation_model(operation).input_shape
    return placeholder(shape) if shape is not None else {}


def build(node: dict[str, Any], target: Any) -> Any:
    """A document on which the expression ``node`` yields ``target``, where the
    expression is a path (fields, projections, flattening, indexes); else None."""
    kind, children = node["type"], node.get("children", [])
    if kind == "identity" or kind == "current":
        return target
    if kind == "field":
        return {node["value"]: target}
    if kind == "subexpression":
        inner = build(children[1], target)
        return None if inner is None else build(children[0], inner)
    if kind == "index_expression":
        return build(children[0], [target])
    if kind == "projection" and isinstance(target, list):
        items = [build(children[1], item) for item in target]
        return None if None in items else build(children[0], items)
    if kind == "flatten" and isinstance(target, list):
        return build(children[0], [target])
    return None


def fields(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "field":
            yield node["value"]
        if node.get("type") == "literal":
            yield from ()
        for child in node.get("children", []):
            yield from fields(child)


def literals(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        if node.get("type") == "literal":
            yield node["value"]
        for child in node.get("children", []):
            yield from literals(child)


def random_document(rng: random.Random, names: list[str], pool: list[Any], depth: int = 0) -> Any:
    """A document built from the expression's field names and plausible leaves."""
    roll = rng.random()
    if depth < 4 and roll < 0.45:
        chosen = rng.sample(names, k=min(len(names), rng.randint(1, 3)))
        return {n: random_document(rng, names, pool, depth + 1) for n in chosen}
    if depth < 4 and roll < 0.7:
        return [random_document(rng, names, pool, depth + 1) for _ in range(rng.randint(0, 2))]
    return rng.choice(pool)


def responses(config: dict[str, Any], rng: random.Random) -> Iterator[dict[str, Any]]:
    """A few responses per acceptor: ones that should match it, ones that should not."""
    ok = {"ResponseMetadata": {"HTTPStatusCode": 200}}
    yield ok
    acceptors = config["acceptors"]
    expected = [a["expected"] for a in acceptors]
    for acceptor in acceptors:
        value, matcher = acceptor["expected"], acceptor["matcher"]
        if matcher == "status":
            yield {"ResponseMetadata": {"HTTPStatusCode": value}}
            yield {"ResponseMetadata": {"HTTPStatusCode": value + 1}}
        elif matcher == "error":
            code = value if isinstance(value, str) else "SomeError"
            yield {
                "Error": {"Code": code, "Message": "m"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            yield {
                "Error": {"Code": OTHER, "Message": "m"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        else:
            parsed = jmespath.compile(acceptor["argument"]).parsed
            targets = {
                "path": [value, OTHER],
                "pathAll": [[value, value], [value, OTHER], []],
                "pathAny": [[OTHER, value], [OTHER]],
            }[matcher]
            for target in targets:
                document = build(parsed, target)
                if document is not None:
                    yield {**ok, **document} if isinstance(document, dict) else ok
            names = list(dict.fromkeys(fields(parsed))) or ["Missing"]
            pool = [*expected, *literals(parsed), OTHER, 0, 1, 2, True, False, None]
            for _ in range(4):
                document = random_document(rng, names, pool)
                if isinstance(document, dict):
                    yield {**ok, **document}


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Any]:
    """Every waiter's verdicts, botocore's and the WaitFor's, side by side."""
    differences: list[str] = []
    seen: Counter[str] = Counter()
    deciding: set[tuple[str, str, int]] = set()
    count = acceptor_count = 0
    for service, name, config in waiters():
        count += 1
        acceptor_count += len(config["acceptors"])
        common = {
            "ServiceToken": FUNCTION_ARN,
            "Service": service,
            "Parameters": parameters(service, config["operation"]),
            "RoleArn": "arn:aws:iam::123456789012:role/waiter",
        }
        inline = parse_wait_for(
            {
                **common,
                "Operation": config["operation"],
                "Acceptors": [written(a) for a in config["acceptors"]],
            }
        )
        named = parse_wait_for({**common, "Waiter": xform_name(name)})
        mine = [inline.config().acceptors, named.config().acceptors]
        rng = random.Random(f"{service}.{name}")
        for response in responses(config, rng):
            theirs = botocore_verdict(config, response)
            seen[theirs] += 1
            for form, acceptors in zip(("inline", "named"), mine, strict=True):
                try:
                    ours = verdict(acceptors, response)
                except JMESPathError as exc:
                    ours = f"raises {type(exc).__name__}"
                if ours != theirs:
                    differences.append(
                        f"{service}.{name} ({form}) on {response}: {ours} != {theirs}"
                    )
            for i, acceptor in enumerate(mine[0]):
                with contextlib.suppress(JMESPathError):
                    if acceptor.matcher_func(response):
                        deciding.add((service, name, i))
                        break
    return {
        "differences": differences,
        "seen": seen,
        "waiters": count,
        "acceptors": acceptor_count,
        "deciding": deciding,
    }


def test_every_waiter_decides_every_generated_response_as_botocore_does(
    outcomes: dict[str, Any],
) -> None:
    assert not outcomes["differences"], outcomes["differences"][:5]


def test_every_waiter_of_the_installed_botocore_was_covered(outcomes: dict[str, Any]) -> None:
    assert outcomes["waiters"] == sum(1 for _ in waiters()) > 300
    assert {"success", "failure", "retry", "error", "waiting"} <= set(outcomes["seen"])


def test_most_acceptors_decided_at_least_one_response(outcomes: dict[str, Any]) -> None:
    """The generated responses exercise the acceptors, not only their absence."""
    assert len(outcomes["deciding"]) >= 0.9 * outcomes["acceptors"], (
        len(outcomes["deciding"]),
        outcomes["acceptors"],
    )
