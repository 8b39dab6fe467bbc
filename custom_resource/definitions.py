"""What a template may say about each custom resource type, as data.

A template checker (the cfn-lint rules in ``wait_for_certificate_lint``) reads this table
instead of keeping lists of its own: the property names, the required ones, the keys of
list entries and the ``Fn::GetAtt`` attributes are the very tuples the handler parses and
answers with, and ``parse`` is the handler's own parser, so a literal value is judged,
and its problem worded, exactly as the deployed function would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .certificates import properties

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
    attributes: tuple[str, ...]
    parse: Callable[[Mapping[str, Any]], object]
    """The handler's parser: raises ``properties.PropertyError`` naming every problem."""


RESOURCE_TYPES: dict[str, ResourceDefinition] = {
    "Custom::WaitForCertificate": ResourceDefinition(
        properties=properties.TOP_LEVEL,
        required=properties.REQUIRED,
        entry_keys=properties.ENTRY_KEYS,
        attributes=CERTIFICATE_ATTRIBUTES,
        parse=properties.parse_properties,
    ),
}
