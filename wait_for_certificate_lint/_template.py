"""What the rules read from a template: the custom resources of the types the handler
defines, and their properties as the handler would receive them.

CloudFormation resolves intrinsic functions (``Ref``, ``Fn::If``, ``Fn::ImportValue`` ...)
at deploy time and sends every scalar as a string; a template checker knows only the
literal values. Each intrinsic becomes ``UNRESOLVED`` (a value every check rejects) and
its path is remembered, so the problems found there, or depending on it, are left out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from custom_resource.checks import Problem, PropertyError
from custom_resource.definitions import RESOURCE_TYPES, ResourceDefinition

UNRESOLVED = "${unresolved}"
"""Stands for a value known only at deploy time; no property check accepts it."""

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def is_intrinsic(value: Any) -> bool:
    """``{"Ref": ...}`` or ``{"Fn::...": ...}``: what CloudFormation replaces at deploy time."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


@dataclass(frozen=True)
class CustomResource:
    """A resource of a type ``RESOURCE_TYPES`` defines."""

    name: str
    kind: str
    definition: ResourceDefinition
    properties: Any
    """As the template gives them: a mapping normally, None when there are none."""

    def path(self, *steps: str | int) -> list[str | int]:
        """A path below the resource's Properties, for a finding."""
        return ["Resources", self.name, "Properties", *steps]


def custom_resources(cfn: Any) -> Iterator[CustomResource]:
    """Each resource of a type the table defines, in template order, but for those whose
    whole Properties are an intrinsic function (known at deploy time only)."""
    for name, resource in cfn.get_resources(list(RESOURCE_TYPES)).items():
        kind, properties = resource["Type"], resource.get("Properties")
        if not is_intrinsic(properties):
            yield CustomResource(name, kind, RESOURCE_TYPES[kind], properties)


def suggestion(name: str, allowed: tuple[str, ...], n: int = 1, list_all: bool = True) -> str:
    """``; did you mean X?`` for a near miss (up to ``n`` of them), else the allowed names
    (``; there are none`` for none)."""
    if not allowed:
        return "; there are none" if list_all else ""
    by_case = {a.lower(): a for a in allowed}
    close = [by_case[name.lower()]] if name.lower() in by_case else []
    close = close or difflib.get_close_matches(name, allowed, n=n, cutoff=0.6)
    if len(close) > 1:
        return f"; did you mean {', '.join(close[:-1])} or {close[-1]}?"
    if close:
        return f"; did you mean {close[0]}?"
    return f"; allowed: {', '.join(allowed)}" if list_all else ""


@dataclass
class Literal:
    """The handler's view of a resource's properties, known keys only."""

    raw: dict[str, Any] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    """Where (in the handler's notation, ``Tags[0].Value``) a value is an intrinsic."""

    def knows(self, problem: Problem) -> bool:
        """Whether the problem holds whatever the intrinsics resolve to: it is not about
        one of them, nor counts a list with one as an entry (an entry's ``Fn::If`` may
        resolve to ``AWS::NoValue``, which drops it), nor involves a property that is, or
        holds, one of them."""
        return not any(
            _at_or_under(problem.where, unknown)
            or problem.where == _list_of(unknown)
            or any(_at_or_under(p, unknown) or _at_or_under(unknown, p) for p in problem.involves)
            for unknown in self.unresolved
        )


def literal_properties(properties: Mapping[str, Any], definition: ResourceDefinition) -> Literal:
    """The known properties, CloudFormation's strings for literals, ``UNRESOLVED`` for
    intrinsics and for missing required properties (reported by a rule of their own)."""
    result = Literal()
    for key, value in properties.items():
        if key in definition.properties:
            allowed = definition.entry_keys.get(key)
            result.raw[key] = _convert(value, key, allowed, result.unresolved)
    for key in definition.required:
        if result.raw.get(key) is None:
            result.raw[key] = UNRESOLVED
            result.unresolved.append(key)
    return result


def attributes(resource: CustomResource) -> tuple[str, ...] | None:
    """The ``Fn::GetAtt`` attributes the resource answers with, or None when they are
    known only at deploy time (its ``Outputs`` an intrinsic function, say)."""
    given = {} if resource.properties is None else resource.properties
    if not isinstance(given, Mapping):
        return None
    return resource.definition.attributes(literal_properties(given, resource.definition).raw)


def known_problems(properties: Mapping[str, Any], definition: ResourceDefinition) -> list[Problem]:
    """The problems the handler's parser finds that hold whatever the intrinsic functions
    resolve to (unknown keys and missing required properties have rules of their own)."""
    literal = literal_properties(properties, definition)
    try:
        definition.parse(literal.raw)
    except PropertyError as exc:
        return [problem for problem in exc.found if literal.knows(problem)]
    return []


def _convert(
    value: Any, where: str, entry_keys: Iterable[str] | None, unresolved: list[str]
) -> Any:
    if is_intrinsic(value):
        unresolved.append(where)
        return UNRESOLVED
    if isinstance(value, Mapping):
        keys = None if entry_keys is None else set(entry_keys)
        return {
            str(k): _convert(v, f"{where}.{k}", None, unresolved)
            for k, v in value.items()
            if keys is None or k in keys
        }
    if isinstance(value, list):
        return [_convert(v, f"{where}[{i}]", entry_keys, unresolved) for i, v in enumerate(value)]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _at_or_under(path: str, where: str) -> bool:
    """``Tags[0].Key`` is at or under ``Tags[0]`` and ``Tags``, not under ``Tag``."""
    return path == where or path.startswith((f"{where}.", f"{where}["))


def _list_of(where: str) -> str | None:
    """``Tags`` for an entry ``Tags[3]``, else None."""
    return where.rsplit("[", 1)[0] if where.endswith("]") else None


def template_path(properties: Any, where: str) -> list[str | int]:
    """Where the handler's ``DomainValidationOptions[1].HostedZoneId`` is in the template:
    as much of that path as exists, so a problem with a missing key is shown at the entry
    that misses it."""
    present: list[str | int] = []
    node = properties
    for name, index in _STEP.findall(where):
        step: str | int = int(index) if index else name
        in_mapping = isinstance(node, Mapping) and step in node
        in_list = isinstance(node, list) and isinstance(step, int) and step < len(node)
        if not (in_mapping or in_list):
            break
        node = node[step]
        present.append(step)
    return present
