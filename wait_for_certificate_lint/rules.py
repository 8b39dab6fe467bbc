"""The rules: each reads the resource types' definitions from ``custom_resource``.

cfn-lint loads this file either as part of the package (``-a wait_for_certificate_lint``,
installed) or on its own (``-a path/to/wait_for_certificate_lint``, a directory: cfn-lint
then runs every ``*.py`` not starting with ``_`` as a module of its own), hence absolute
imports and helpers in ``_template``. Rule ids are E97xx (W97xx for a warning), away from
cfn-lint's own and from the E90xx ids it gives the lines of a custom rules file.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from cfnlint.helpers import REGIONS
from cfnlint.rules import CloudFormationLintRule, RuleMatch

try:
    import custom_resource  # noqa: F401
except ImportError:  # the directory of a checkout, loaded without installing it
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from custom_resource.definitions import RESOURCE_TYPES
from wait_for_certificate_lint._template import (
    custom_resources,
    is_intrinsic,
    known_problems,
    suggestion,
    template_path,
)

_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")
"""``${Name}`` or ``${Resource.Attribute}`` in an Fn::Sub string (``${!x}`` is literal)."""


class _Rule(CloudFormationLintRule):
    """Shared settings; cfn-lint skips a rule class without an id, as this one."""

    tags: ClassVar[list[str]] = ["resources", "custom", "wait-for-certificate"]


class UnknownProperty(_Rule):
    """A property (or a key of a list entry) the handler does not know."""

    id = "E9701"
    shortdesc = "Unknown property of a WaitForCertificate custom resource"
    description = (
        "The function rejects a property or entry key it does not know (a misspelling, "
        "say), but only at deploy time: the rule names it and the closest known name."
    )

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for resource in custom_resources(cfn):
            properties, definition = resource.properties, resource.definition
            if not isinstance(properties, Mapping):
                continue
            prefix = f"{resource.kind} {resource.name}:"
            for key in properties:
                if key not in definition.properties:
                    hint = suggestion(str(key), definition.properties)
                    message = f"{prefix} unknown property {key}{hint}"
                    found.append(RuleMatch(resource.path(key), message))
            for key, allowed in definition.entry_keys.items():
                entries = properties.get(key)
                for i, entry in enumerate(entries if isinstance(entries, list) else []):
                    for unknown in () if is_intrinsic(entry) else _keys(entry):
                        if unknown not in allowed:
                            hint = suggestion(str(unknown), allowed)
                            message = f"{prefix} {key}[{i}]: unknown key {unknown}{hint}"
                            found.append(RuleMatch(resource.path(key, i, unknown), message))
        return found


def _keys(entry: Any) -> list[Any]:
    return list(entry) if isinstance(entry, Mapping) else []


class MissingProperty(_Rule):
    """A required property is missing."""

    id = "E9702"
    shortdesc = "Required property of a WaitForCertificate custom resource is missing"
    description = "The function answers FAILED at deploy time when a required property is missing."

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for resource in custom_resources(cfn):
            given = resource.properties
            if given is not None and not isinstance(given, Mapping):
                continue  # not an object: cfn-lint's own rules say so
            path = resource.path() if given is not None else ["Resources", resource.name]
            for key in resource.definition.required:
                if (given or {}).get(key) is None:
                    message = f"{resource.kind} {resource.name}: {key} is required"
                    found.append(RuleMatch(path, message))
        return found


class InvalidValue(_Rule):
    """A literal value the handler's own parser rejects, in the handler's own words."""

    id = "E9703"
    shortdesc = "Invalid value of a WaitForCertificate custom resource property"
    description = (
        "Runs the function's own property parser over the literal values (intrinsic "
        "functions are left to deploy time): ranges such as ServiceTimeout 1-3600 and "
        "WaitTimeout, enums, domain names, hosted zone ids, ARNs, Region, Tags, and the "
        "properties' relations, each reported as the function would at deploy time."
    )

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for resource in custom_resources(cfn):
            if not isinstance(resource.properties, Mapping):
                continue
            for problem in known_problems(resource.properties, resource.definition):
                path = resource.path(*template_path(resource.properties, problem.where))
                message = f"{resource.kind} {resource.name}: {problem}"
                found.append(RuleMatch(path, message))
        return found


class UnknownAttribute(_Rule):
    """``Fn::GetAtt`` (list or ``Res.Attr`` form) or ``${Res.Attr}`` in ``Fn::Sub`` naming
    an attribute the resource never returns."""

    id = "E9704"
    shortdesc = "Unknown attribute of a WaitForCertificate custom resource"
    description = (
        "CloudFormation reads an attribute only after the resource answered: a misspelt "
        "one fails the stack after the certificate was issued, and the rollback deletes it."
    )

    def match(self, cfn: Any) -> list[RuleMatch]:
        kinds = {resource.name: resource.kind for resource in custom_resources(cfn)}
        found = []
        for *path, value in cfn.search_deep_keys("Fn::GetAtt"):
            if isinstance(value, str):
                value = value.split(".", 1)
            if isinstance(value, list) and len(value) == 2:
                found += _attribute(kinds, value[0], value[1], [*path, 1], "Fn::GetAtt")
        for *path, value in cfn.search_deep_keys("Fn::Sub"):
            text, variables = [*value, {}][:2] if isinstance(value, list) else (value, {})
            if not isinstance(text, str) or not isinstance(variables, Mapping):
                continue
            for variable in (v.strip() for v in _SUB_VARIABLE.findall(text)):
                resource, _, attribute = variable.partition(".")
                if attribute and variable not in variables:
                    found += _attribute(kinds, resource, attribute, path, "Fn::Sub")
        return found


def _attribute(
    kinds: dict[str, str], resource: Any, attribute: Any, path: list[Any], function: str
) -> list[RuleMatch]:
    """A finding when ``resource`` is one of ours and has no such (literal) attribute."""
    kind = kinds.get(resource) if isinstance(resource, str) else None
    if kind is None or not isinstance(attribute, str):
        return []
    allowed = RESOURCE_TYPES[kind].attributes
    if attribute in allowed:
        return []
    hint = suggestion(attribute, allowed)
    message = f"{function} {resource}.{attribute}: {kind} has no attribute {attribute}{hint}"
    return [RuleMatch(path, message)]


class UnknownRegion(_Rule):
    """A literal Region of the right shape that no AWS partition has (yet, says cfn-lint)."""

    id = "W9705"
    shortdesc = "Region of a WaitForCertificate custom resource is not a known AWS Region"
    description = (
        "The function accepts any name shaped like a Region (new Regions keep coming), "
        "so a misspelt one (us-est-1) fails only when ACM is called: the rule warns when "
        "the name is not in cfn-lint's list of Regions."
    )

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for resource in custom_resources(cfn):
            given = resource.properties
            region = given.get("Region") if isinstance(given, Mapping) else None
            if not isinstance(region, str) or region.strip() in REGIONS:
                continue  # an intrinsic function, or a Region cfn-lint knows
            name = region.strip()
            hint = suggestion(name, tuple(REGIONS), n=3, list_all=False)
            message = (
                f"{resource.kind} {resource.name}: Region {name!r} is not a known Region{hint}"
            )
            found.append(RuleMatch(resource.path("Region"), message))
        return found
