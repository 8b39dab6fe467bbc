"""What a template may say about each custom resource type, as data.

A template checker (the cfn-lint rules in ``wait_for_certificate_lint``) reads this table
instead of keeping lists of its own: the property names, the required ones, the keys of
list entries and the ``Fn::GetAtt`` attributes are the very tuples the handler parses and
answers with, and ``parse`` is the handler's own parser, so a literal value is judged,
and its problem worded, exactly as the deployed function would.

A type's attributes may depend on the resource: a ``Custom::WaitFor`` answers with the
names of its own ``Outputs``. So ``attributes`` is a function of the properties, as the
handler receives them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .certificates import properties
from .waiters import waiter_properties

CERTIFICATE_ATTRIBUTES = (
    "Arn",
    "DomainName",
    "ValidationRecordName",
    "ValidationRecordType",
    "ValidationRecordValue",
    "ValidationRecords",
)
"""The ``Fn::GetAtt`` attributes of ``Custom::WaitForCertificate`` (``certificate_data``)."""


@dataclass(frozen=True)
class ResourceDefinition:
    """One custom resource type: its properties, as the handler reads them, and attributes."""

    properties: tuple[str, ...]
    required: tuple[str, ...]
    entry_keys: Mapping[str, tuple[str, ...]]
    """The keys each entry of a list property may have (``Tags``: ``Key``, ``Value``)."""
    attributes: Callable[[Mapping[str, Any]], tuple[str, ...] | None]
    """The ``Fn::GetAtt`` attributes of a resource with these properties; None when they
    cannot be told from them (a value the handler would reject, or not known yet)."""
    parse: Callable[[Mapping[str, Any]], object]
    """The handler's parser: raises ``checks.PropertyError`` naming every problem."""
    attributes_are: str = ""
    """Where a resource's attributes come from, for a message, when not the same for all."""


def certificate_attributes(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Every certificate answers with the same attributes, whatever its properties."""
    return CERTIFICATE_ATTRIBUTES


RESOURCE_TYPES: dict[str, ResourceDefinition] = {
    "Custom::WaitForCertificate": ResourceDefinition(
        properties=properties.TOP_LEVEL,
        required=properties.REQUIRED,
        entry_keys=properties.ENTRY_KEYS,
        attributes=certificate_attributes,
        parse=properties.parse_properties,
    ),
    waiter_properties.RESOURCE_TYPE: ResourceDefinition(
        properties=waiter_properties.TOP_LEVEL,
        required=waiter_properties.REQUIRED,
        entry_keys={},  # acceptor keys in any case, Parameters by the operation: the parser's
        attributes=waiter_properties.output_names,
        parse=waiter_properties.parse_wait_for,
        attributes_are="its attributes are the names in its Outputs",
    ),
}
