"""The rules: each reads the resource types' definitions from ``custom_resource``, and
serves every type the table defines (``Custom::WaitForCertificate``, ``Custom::WaitFor``).

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
    CustomResource,
    attributes,
    custom_resources,
    is_intrinsic,
    known_problems,
    suggestion,
    template_path,
)

_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")
"""``${Name}`` or ``${Resource.Attribute}`` in an Fn::Sub string (``${!x}`` is literal)."""

_KINDS = " or ".join(RESOURCE_TYPES)
"""The types the rules check, for their descriptions."""


class _Rule(CloudFormationLintRule):
    """Shared settings; cfn-lint skips a rule class without an id, as this one."""

    tags: ClassVar[list[str]] = ["resources", "custom", "wait-for-certificate", "wait-for"]


class UnknownProperty(_Rule):
    """A property (or a key of a list entry) the handler does not know."""

    id = "E9701"
    shortdesc = f"Unknown property of a {_KINDS} resource"
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
    shortdesc = f"Required property of a {_KINDS} resource is missing"
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
    shortdesc = f"Invalid value of a {_KINDS} resource property"
    description = (
        "Runs the function's own property parser over the literal values (intrinsic "
        "functions are left to deploy time): ranges such as ServiceTimeout 1-3600 and "
        "WaitTimeout, enums, domain names, hosted zone ids, ARNs, Region, Tags; a WaitFor's "
        "service, waiter, operation, acceptors, parameters and outputs against botocore's "
        "models; and the properties' relations, each reported as the function would at "
        "deploy time."
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
    shortdesc = f"Unknown attribute of a {_KINDS} resource"
    description = (
        "CloudFormation reads an attribute only after the resource answered: a misspelt "
        "one fails the stack after the wait (a certificate issued, then deleted by the "
        "rollback). A Custom::WaitFor's attributes are the names in its own Outputs."
    )

    def match(self, cfn: Any) -> list[RuleMatch]:
        ours = {resource.name: resource for resource in custom_resources(cfn)}
        found = []
        for *path, value in cfn.search_deep_keys("Fn::GetAtt"):
            if isinstance(value, str):
                value = value.split(".", 1)
            if isinstance(value, list) and len(value) == 2:
                found += _attribute(ours, value[0], value[1], [*path, 1], "Fn::GetAtt")
        for *path, value in cfn.search_deep_keys("Fn::Sub"):
            text, variables = [*value, {}][:2] if isinstance(value, list) else (value, {})
            if not isinstance(text, str) or not isinstance(variables, Mapping):
                continue
            for variable in (v.strip() for v in _SUB_VARIABLE.findall(text)):
                resource, _, attribute = variable.partition(".")
                if attribute and variable not in variables:
                    found += _attribute(ours, resource, attribute, path, "Fn::Sub")
        return found


def _attribute(
    ours: dict[str, CustomResource], name: Any, attribute: Any, path: list[Any], function: str
) -> list[RuleMatch]:
    """A finding when ``name`` is one of ours and surely has no such (literal) attribute."""
    resource = ours.get(name) if isinstance(name, str) else None
    if resource is None or not isinstance(attribute, str):
        return []
    allowed = attributes(resource)
    if allowed is None or attribute in allowed:
        return []  # known only at deploy time, or there
    source = resource.definition.attributes_are
    note = f" ({source})" if source else ""
    hint = suggestion(attribute, allowed)
    message = (
        f"{function} {name}.{attribute}: {resource.kind} has no attribute {attribute}{note}{hint}"
    )
    return [RuleMatch(path, message)]


class UnknownRegion(_Rule):
    """A literal Region of the right shape that no AWS partition has (yet, says cfn-lint)."""

    id = "W9705"
    shortdesc = f"Region of a {_KINDS} resource is not a known AWS Region"
    description = (
        "The function accepts any name shaped like a Region (new Regions keep coming), "
        "so a misspelt one (us-est-1) fails only when the function calls AWS there (ACM, "
        "or the service a WaitFor polls): the rule warns when the name is not in "
        "cfn-lint's list of Regions."
    )

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for resource in custom_resources(cfn):
            if "Region" not in resource.definition.properties:
                continue
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
