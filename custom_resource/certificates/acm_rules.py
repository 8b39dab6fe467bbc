"""ACM's own rules for the properties, read from botocore's ACM service model.

The model (RequestCertificate's input shapes) carries the API's lengths, patterns and
enums; boto3 comes with the Lambda runtime, so the model is read there at run time and no
number is copied by hand. A few rules ACM documents but the model cannot express are
added here, each with its reason: ``DOCUMENTED_RULES`` lists them for docs/how-it-works.md.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session

MAX_DOMAIN_NAME_OCTETS = 64
"""ACM rejects a first name (DomainName) longer than this: it becomes the certificate's CN."""
REQUESTABLE_KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")
"""The model's KeyAlgorithm enum also lists algorithms ACM only reports, never issues."""
REQUESTABLE_VALIDATION_METHODS = ("DNS", "EMAIL")
"""The model's HTTP method exists only for certificates CloudFront manages."""

DOCUMENTED_RULES: tuple[tuple[str, str], ...] = (
    ("DomainName", f"at most {MAX_DOMAIN_NAME_OCTETS} octets (it becomes the certificate's CN)"),
    ("DomainName, SubjectAlternativeNames", "a top-level label of at least 2 characters"),
    ("DomainValidationOptions[].ValidationDomain", "the name itself or one of its parents"),
    ("Tags[].Key, Tags[].Value", "letters, spaces, digits and _ . : / = + - @ only"),
    ("Tags[].Key", "not starting with aws: (reserved by AWS)"),
    ("CertificateAuthorityArn", "ASCII characters only"),
    ("KeyAlgorithm", "only " + ", ".join(REQUESTABLE_KEY_ALGORITHMS) + " can be requested"),
    ("ValidationMethod", "HTTP is for CloudFront-managed certificates only"),
)


@dataclass(frozen=True)
class StringRule:
    """A string shape of the model: its length limits and its pattern, if any."""

    shape: str
    min: int
    max: int
    pattern: str | None
    matches: Callable[[str], bool]

    def problem(self, value: str) -> str | None:
        """What is wrong with ``value`` in words naming the rule, or None."""
        if not self.min <= len(value) <= self.max:
            limits = f"{self.min} to {self.max} characters"
            return f"must be {limits} (ACM {self.shape}), got {len(value)}"
        if not self.matches(value):
            return f"does not match ACM's {self.shape} pattern {self.pattern}"
        return None


@dataclass(frozen=True)
class AcmRules:
    """Everything property validation takes from the model."""

    domain: StringRule
    max_names: int
    max_validation_options: int
    validation_methods: tuple[str, ...]
    key_algorithms: tuple[str, ...]
    transparency: tuple[str, ...]
    export: tuple[str, ...]
    ca_arn: StringRule
    max_tags: int
    tag_key: StringRule
    tag_value: StringRule

    def table(self) -> list[str]:
        """The rules table of docs/how-it-works.md (tests/test_acm_rules.py checks it)."""
        rows = [
            ("DomainName, SubjectAlternativeNames[]", _describe(self.domain)),
            ("SubjectAlternativeNames", f"at most {self.max_names} names"),
            ("DomainValidationOptions", f"at most {self.max_validation_options} entries"),
            ("ValidationMethod", " \\| ".join(self.validation_methods)),
            ("KeyAlgorithm", " \\| ".join(self.key_algorithms)),
            ("CertificateTransparencyLoggingPreference", " \\| ".join(self.transparency)),
            ("CertificateExport", " \\| ".join(self.export)),
            ("CertificateAuthorityArn", _describe(self.ca_arn)),
            ("Tags", f"at most {self.max_tags} tags"),
            ("Tags[].Key", _describe(self.tag_key)),
            ("Tags[].Value", _describe(self.tag_value)),
        ]
        lines = ["| property | rule (from botocore's ACM model) |", "|---|---|"]
        lines += [f"| {name} | {rule} |" for name, rule in rows]
        lines += ["", "| property | rule (documented by ACM, not in the model) |", "|---|---|"]
        lines += [f"| {name} | {rule} |" for name, rule in DOCUMENTED_RULES]
        return lines


def _describe(rule: StringRule) -> str:
    pattern = f", pattern `{rule.pattern}`" if rule.pattern else ""
    return f"{rule.min} to {rule.max} characters ({rule.shape}){pattern}".replace("|", "\\|")


@functools.cache
def acm_rules() -> AcmRules:
    """The rules of the ACM model botocore ships (read once per process)."""
    model = botocore.session.get_session().get_service_model("acm")
    request = model.operation_model("RequestCertificate").input_shape.members
    options = request["Options"].members
    tag = request["Tags"].member.members
    names = request["SubjectAlternativeNames"]
    return AcmRules(
        domain=_string_rule(names.member, ignore_case=True),
        max_names=int(names.metadata["max"]),
        max_validation_options=int(request["DomainValidationOptions"].metadata["max"]),
        validation_methods=_enum(request["ValidationMethod"], REQUESTABLE_VALIDATION_METHODS),
        key_algorithms=_enum(request["KeyAlgorithm"], REQUESTABLE_KEY_ALGORITHMS),
        transparency=_enum(options["CertificateTransparencyLoggingPreference"]),
        export=_enum(options["Export"]) if "Export" in options else (),
        ca_arn=_string_rule(request["CertificateAuthorityArn"], ascii_only=True),
        max_tags=int(request["Tags"].metadata["max"]),
        tag_key=_string_rule(tag["Key"]),
        tag_value=_string_rule(tag["Value"]),
    )


def _enum(shape: Any, requestable: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The model's enum; with ``requestable``, those of it ACM accepts on a request."""
    values = tuple(shape.metadata["enum"])
    return values if requestable is None else tuple(v for v in requestable if v in values)


def _string_rule(shape: Any, ignore_case: bool = False, ascii_only: bool = False) -> StringRule:
    meta = shape.metadata
    pattern = meta.get("pattern")
    return StringRule(
        shape=shape.name,
        min=int(meta.get("min", 0)),
        max=int(meta.get("max", 2**31)),
        pattern=pattern,
        matches=_matcher(pattern, ignore_case, ascii_only),
    )


_PROPERTY_CLASS = re.compile(r"^\[((?:\\p\{[A-Z]\}|\\.|[^\\\]])+)\]\*$")
_CLASS_ITEM = re.compile(r"\\p\{([A-Z])\}|\\(.)|(.)")


def _matcher(pattern: str | None, ignore_case: bool, ascii_only: bool) -> Callable[[str], bool]:
    """A full match of the model's pattern. Python's ``re`` has no ``\\p{L}`` classes, so
    a pattern that is one character class repeated (ACM's tag pattern) is checked with
    Unicode categories instead."""
    if pattern is None:
        return lambda value: True
    whole = _PROPERTY_CLASS.match(pattern)
    if whole and "\\p{" in pattern:
        categories, literals = set(), set()
        for category, escaped, plain in _CLASS_ITEM.findall(whole.group(1)):
            if category:
                categories.add(category)
            else:
                literals.add(escaped or plain)
        return lambda value: all(
            c in literals or unicodedata.category(c)[0] in categories for c in value
        )
    flags = (re.IGNORECASE if ignore_case else 0) | (re.ASCII if ascii_only else 0)
    compiled = re.compile(pattern, flags)
    if ascii_only:
        return lambda value: value.isascii() and compiled.fullmatch(value) is not None
    return lambda value: compiled.fullmatch(value) is not None
