"""The properties of ``Custom::WaitForCertificate``, parsed and checked into a typed object.

Every problem found is reported at once, each naming its property (``checks.py``);
nothing here calls AWS. What ACM itself would refuse is refused here first, from
botocore's model of ACM (``acm_rules.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from ..checks import (
    DEFAULT_SERVICE_TIMEOUT,
    EXTERNAL_ID,
    LAMBDA_ARN,
    MAX_WAIT_TIMEOUT,
    REGION,
    ROLE_ARN,
    Checker,
    PropertyError,
    wait_handle,
    whole_number,
)
from .acm_rules import MAX_DOMAIN_NAME_OCTETS, StringRule, acm_rules
from .ownership import PROVIDER_TAGS, TAG_PREFIX

ValidationMethod = Literal["DNS", "EMAIL"]
KeyAlgorithm = Literal["RSA_2048", "EC_prime256v1", "EC_secp384r1"]
Transparency = Literal["ENABLED", "DISABLED"]
Export = Literal["ENABLED", "DISABLED"]

_ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")
TOP_LEVEL = (
    "ServiceToken",
    "ServiceTimeout",
    "DomainName",
    "SubjectAlternativeNames",
    "ValidationMethod",
    "DomainValidationOptions",
    "HostedZoneId",
    "Region",
    "KeyAlgorithm",
    "CertificateTransparencyLoggingPreference",
    "CertificateAuthorityArn",
    "Tags",
    "Route53RoleArn",
    "Route53RoleExternalId",
    "RemoveValidationRecords",
    "CertificateExport",
    "WaitConditionHandle",
    "WaitTimeout",
)
REQUIRED = ("ServiceToken", "DomainName")
DVO_KEYS = ("DomainName", "HostedZoneId", "ValidationDomain", "Route53RoleArn")
MAX_USER_TAGS = acm_rules().max_tags - len(PROVIDER_TAGS)
"""ACM allows 50 tags per certificate; the provider's own tags take their share."""
TAG_KEYS = ("Key", "Value")
ENTRY_KEYS = {"DomainValidationOptions": DVO_KEYS, "Tags": TAG_KEYS}
"""The keys each entry of a list property may have."""


@dataclass(frozen=True)
class DnsTarget:
    """Where a name's validation record goes: a hosted zone, maybe in another account."""

    hosted_zone_id: str
    role_arn: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class CertificateProperties:
    """Validated resource properties; names are lower-case, SANs de-duplicated."""

    domain_name: str
    subject_alternative_names: tuple[str, ...] = ()
    validation_method: ValidationMethod = "DNS"
    dns_targets: tuple[tuple[str, DnsTarget], ...] = ()
    """Per name, the zone its validation record is written to (DNS only)."""
    validation_domains: tuple[tuple[str, str], ...] = ()
    """Per name, the domain that receives the validation e-mail (EMAIL only)."""
    region: str | None = None
    key_algorithm: KeyAlgorithm = "RSA_2048"
    transparency: Transparency | None = None
    certificate_authority_arn: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    remove_validation_records: bool = False
    service_timeout: int = DEFAULT_SERVICE_TIMEOUT
    export: Export | None = None
    wait_handle: str | None = None
    """12-hour mode: the WaitCondition handle to signal once the certificate is ISSUED."""
    wait_timeout: int = MAX_WAIT_TIMEOUT

    @property
    def poll_seconds(self) -> float | None:
        """The provider's own polling, tuned to ACM's limits (``settings.py``)."""
        return None

    @property
    def names(self) -> tuple[str, ...]:
        """Every name on the certificate, the domain name first, without duplicates."""
        return tuple(dict.fromkeys((self.domain_name, *self.subject_alternative_names)))

    def target_for(self, name: str) -> DnsTarget | None:
        return dict(self.dns_targets).get(name)


class _Checker(Checker):
    """The toolkit, and the checks of names and of ACM's string rules."""

    def domain(self, value: Any, where: str) -> str | None:
        """A name as ACM's DomainNameString allows it; surrounding whitespace is dropped
        and letters lower-cased (names are case-insensitive)."""
        if not isinstance(value, str):
            self.fail(where, f"must be a string, got {type(value).__name__}")
            return None
        name = value.strip().lower()
        rule = acm_rules().domain
        top = name.rsplit(".", 1)[-1]
        if not rule.min <= len(name) <= rule.max:
            self.fail(where, rule.problem(name) or "")
        elif name.endswith("."):
            self.fail(where, f"{name!r} must not end with a dot")
        elif "." in name and len(top) < 2:
            self.fail(where, f"{name[:100]!r}: its top-level label {top!r} is shorter than 2")
        elif not rule.matches(name):
            self.fail(
                where,
                f"{name[:100]!r} is not a fully qualified domain name "
                f"(ACM's {rule.shape} pattern: labels of letters, digits and hyphens, "
                "optionally starting with '*.')",
            )
        else:
            return name
        return None

    def rule(self, value: str | None, rule: StringRule, where: str) -> str | None:
        """``value`` when the model's length and pattern allow it (a problem names both)."""
        if value is None:
            return None
        problem = rule.problem(value)
        if problem:
            self.fail(where, problem)
            return None
        return value


def parse_properties(raw: Mapping[str, Any]) -> CertificateProperties:
    """Parse ResourceProperties; raise PropertyError listing every problem found."""
    check = _Checker()
    for unknown in sorted(set(raw) - set(TOP_LEVEL)):
        check.fail(unknown, f"unknown property; allowed: {', '.join(TOP_LEVEL)}")

    for key in REQUIRED:
        if raw.get(key) is None:
            check.fail(key, "is required")
    check.pattern(raw, "ServiceToken", LAMBDA_ARN, "a Lambda function ARN")
    timeout = whole_number(check, raw, "ServiceTimeout", DEFAULT_SERVICE_TIMEOUT)

    domain = None
    if raw.get("DomainName") is not None:
        domain = check.domain(raw["DomainName"], "DomainName")
    rules = acm_rules()
    if domain and len(domain.encode()) > MAX_DOMAIN_NAME_OCTETS:
        check.fail(
            "DomainName",
            f"is {len(domain.encode())} octets; ACM allows at most {MAX_DOMAIN_NAME_OCTETS} "
            "for the first name (it becomes the certificate's CN): put a shorter name first",
        )
        domain = None
    sans = [
        check.domain(value, f"SubjectAlternativeNames[{i}]")
        for i, value in enumerate(check.items(raw, "SubjectAlternativeNames", rules.max_names))
    ]
    unique_sans = tuple(dict.fromkeys(name for name in sans if name))
    names = (domain, *unique_sans) if domain else unique_sans

    method = check.choice(raw, "ValidationMethod", rules.validation_methods) or "DNS"
    ca_arn = check.rule(
        check.string(raw, "CertificateAuthorityArn"), rules.ca_arn, "CertificateAuthorityArn"
    )
    zone = _zone(check, raw, "HostedZoneId", "HostedZoneId")
    role = check.pattern(raw, "Route53RoleArn", ROLE_ARN, "an IAM role ARN")
    external_id = check.pattern(
        raw,
        "Route53RoleExternalId",
        EXTERNAL_ID,
        "2-1224 characters of [\\w+=,.@:/-]",
        secret=True,
    )
    if external_id and not role and not _any_dvo_role(raw):
        check.fail(
            "Route53RoleExternalId",
            "is only used with Route53RoleArn",
            involves=("Route53RoleArn", "DomainValidationOptions"),
        )

    targets: dict[str, DnsTarget] = {}
    mail_domains: dict[str, str] = {}
    options = check.items(raw, "DomainValidationOptions", rules.max_validation_options)
    for i, entry in enumerate(options):
        where = f"DomainValidationOptions[{i}]"
        option = check.mapping(entry, where, DVO_KEYS)
        if not option:
            continue
        name = check.domain(option.get("DomainName"), f"{where}.DomainName")
        if name and name not in names:
            check.fail(
                f"{where}.DomainName",
                f"{name!r} is not the DomainName or one of the SANs",
                involves=("DomainName", "SubjectAlternativeNames"),
            )
        option_zone = _zone(check, option, "HostedZoneId", f"{where}.HostedZoneId")
        option_role = check.pattern(
            option, "Route53RoleArn", ROLE_ARN, "an IAM role ARN", f"{where}.Route53RoleArn"
        )
        mail = option.get("ValidationDomain")
        if mail is not None:
            mail = check.domain(mail, f"{where}.ValidationDomain")
        if name and option_zone:
            targets[name] = DnsTarget(option_zone, option_role or role, external_id)
        elif option_role:
            check.fail(
                f"{where}.Route53RoleArn",
                "needs a HostedZoneId in the same entry",
                involves=(f"{where}.HostedZoneId", f"{where}.DomainName"),
            )
        if name and mail and not _is_name_or_parent(mail, name):
            check.fail(
                f"{where}.ValidationDomain",
                f"{mail!r} is neither {name!r} nor one of its parent domains",
            )
        elif name and mail:
            mail_domains[name] = mail
    if zone:
        for name in names:
            targets.setdefault(name, DnsTarget(zone, role, external_id))
    elif role and not targets:
        check.fail(
            "Route53RoleArn",
            "needs a HostedZoneId (top level or per name)",
            involves=("HostedZoneId", "DomainValidationOptions"),
        )

    if method == "EMAIL" and targets:
        check.fail("HostedZoneId", "hosted zones are only used with ValidationMethod DNS")
    if method == "DNS" and mail_domains:
        check.fail(
            "DomainValidationOptions",
            "ValidationDomain is only used with EMAIL",
            involves=("ValidationMethod",),
        )
    if ca_arn and (targets or raw.get("ValidationMethod") is not None):
        check.fail(
            "CertificateAuthorityArn",
            "a private certificate needs no validation: drop ValidationMethod and hosted zones",
            involves=("ValidationMethod",),
        )

    tags = _tags(check, raw)
    region = check.pattern(raw, "Region", REGION, "an AWS region such as us-east-1")
    key_algorithm = check.choice(raw, "KeyAlgorithm", rules.key_algorithms) or "RSA_2048"
    transparency = check.choice(raw, "CertificateTransparencyLoggingPreference", rules.transparency)
    export = check.choice(raw, "CertificateExport", rules.export)
    remove_records = check.flag(raw, "RemoveValidationRecords")
    handle = wait_handle(check, raw)
    wait_timeout = whole_number(check, raw, "WaitTimeout", MAX_WAIT_TIMEOUT)
    if raw.get("WaitTimeout") is not None and handle is None:
        check.fail(
            "WaitTimeout",
            "is only used with WaitConditionHandle",
            involves=("WaitConditionHandle",),
        )
    if check.problems or domain is None:
        raise PropertyError(check.problems)
    return CertificateProperties(
        domain_name=domain,
        subject_alternative_names=tuple(n for n in unique_sans if n != domain),
        validation_method=cast(ValidationMethod, method),
        dns_targets=tuple((n, targets[n]) for n in names if n in targets),
        validation_domains=tuple((n, mail_domains[n]) for n in names if n in mail_domains),
        region=region,
        key_algorithm=cast(KeyAlgorithm, key_algorithm),
        transparency=cast(Transparency | None, transparency),
        certificate_authority_arn=ca_arn,
        tags=tags,
        remove_validation_records=remove_records,
        service_timeout=timeout,
        export=cast(Export | None, export),
        wait_handle=handle,
        wait_timeout=wait_timeout,
    )


def _is_name_or_parent(domain: str, name: str) -> bool:
    base = name.removeprefix("*.")
    return base == domain or base.endswith("." + domain)


def _zone(check: _Checker, raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = check.string(raw, key, where)
    if value is None:
        return None
    zone = value.removeprefix("/hostedzone/")
    if not _ZONE_ID.match(zone):
        check.fail(where, f"{value[:100]!r} is not a Route 53 hosted zone id (e.g. Z0123456789ABC)")
        return None
    return zone


def _any_dvo_role(raw: Mapping[str, Any]) -> bool:
    options = raw.get("DomainValidationOptions")
    return isinstance(options, list) and any(
        isinstance(o, dict) and o.get("Route53RoleArn") for o in options
    )


def _tag_text_ok(check: _Checker, key: str, value: str, where: str) -> bool:
    rules = acm_rules()
    key_ok = check.rule(key, rules.tag_key, f"{where}.Key") is not None
    return key_ok and check.rule(value, rules.tag_value, f"{where}.Value") is not None


def _tags(check: _Checker, raw: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    tags: dict[str, str] = {}
    for i, entry in enumerate(check.items(raw, "Tags", MAX_USER_TAGS)):
        where = f"Tags[{i}]"
        tag = check.mapping(entry, where, TAG_KEYS)
        if not tag:
            continue
        key = check.string(tag, "Key", f"{where}.Key", strip=False)
        value = check.string(tag, "Value", f"{where}.Value", strip=False) or ""
        if key is None:
            if "Key" not in tag:
                check.fail(f"{where}.Key", "is required")
            continue
        if key.lower().startswith("aws:"):
            check.fail(f"{where}.Key", f"{key[:100]!r} starts with 'aws:', which AWS reserves")
        elif key.startswith(TAG_PREFIX):
            check.fail(
                f"{where}.Key",
                f"{key[:100]!r} starts with {TAG_PREFIX!r}, reserved for the provider's own tags",
            )
        elif not _tag_text_ok(check, key, value, where):
            continue
        elif key in tags:
            check.fail(f"{where}.Key", f"{key!r} appears twice")
        else:
            tags[key] = value
    return tuple(tags.items())
