"""Resource properties (SPEC section 2) parsed and checked into a typed object.

CloudFormation sends every scalar as a string. Every problem found is reported at once,
each naming its property, so a user fixes the template in one go; nothing here calls AWS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

ValidationMethod = Literal["DNS", "EMAIL"]
KeyAlgorithm = Literal["RSA_2048", "EC_prime256v1", "EC_secp384r1"]
Transparency = Literal["ENABLED", "DISABLED"]

KEY_ALGORITHMS: tuple[KeyAlgorithm, ...] = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")
MAX_SANS = 100
MAX_TAGS = 50
DEFAULT_SERVICE_TIMEOUT = 3600

_PARTITION = r"arn:aws(?:-[a-z]+)*"
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(\*\.)?(?:{_LABEL}\.)+{_LABEL}$")
_ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
_CA_ARN = re.compile(rf"^{_PARTITION}:acm-pca:[a-z0-9-]+:\d{{12}}:certificate-authority/[\w-]+$")
_ROLE_ARN = re.compile(rf"^{_PARTITION}:iam::\d{{12}}:role/[\w+=,.@/-]{{1,512}}$")
_LAMBDA_ARN = re.compile(rf"^{_PARTITION}:lambda:[a-z0-9-]+:\d{{12}}:function:[\w-]+(:[\w$-]+)?$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")

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
)
DVO_KEYS = ("DomainName", "HostedZoneId", "ValidationDomain", "Route53RoleArn")


class PropertyError(ValueError):
    """One or more properties are invalid; the message names each one and the problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid properties: " + "; ".join(problems))


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

    @property
    def names(self) -> tuple[str, ...]:
        """Every name on the certificate, the domain name first, without duplicates."""
        return tuple(dict.fromkeys((self.domain_name, *self.subject_alternative_names)))

    def target_for(self, name: str) -> DnsTarget | None:
        return dict(self.dns_targets).get(name)


T = TypeVar("T")


class _Checker:
    """Collects problems while each property is parsed, so all are reported together."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def string(self, raw: Mapping[str, Any], key: str, where: str | None = None) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(where or key, f"must be a string, got {type(value).__name__}")
            return None
        return value.strip()

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

    def domain(self, value: Any, where: str) -> str | None:
        if not isinstance(value, str):
            self.fail(where, f"must be a string, got {type(value).__name__}")
            return None
        name = value.strip().lower()
        if not name or len(name) > 253:
            self.fail(where, f"must be 1 to 253 characters, got {len(name)}")
        elif name.endswith("."):
            self.fail(where, f"{name!r} must not end with a dot")
        elif not _DOMAIN.match(name):
            self.fail(
                where,
                f"{name[:100]!r} is not a fully qualified domain name "
                "(labels of letters, digits and hyphens, optionally starting with '*.')",
            )
        else:
            return name
        return None

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
        self.fail(key, f"{str(value)[:100]!r} is not 'true' or 'false'")
        return False


def parse_properties(raw: Mapping[str, Any]) -> CertificateProperties:
    """Parse ResourceProperties; raise PropertyError listing every problem found."""
    check = _Checker()
    for unknown in sorted(set(raw) - set(TOP_LEVEL)):
        check.fail(unknown, f"unknown property; allowed: {', '.join(TOP_LEVEL)}")

    token = raw.get("ServiceToken")
    if token is None:
        check.fail("ServiceToken", "is required")
    else:
        check.pattern(raw, "ServiceToken", _LAMBDA_ARN, "a Lambda function ARN")
    timeout = _service_timeout(check, raw.get("ServiceTimeout"))

    domain = None
    if raw.get("DomainName") is None:
        check.fail("DomainName", "is required")
    else:
        domain = check.domain(raw["DomainName"], "DomainName")
    sans = [
        check.domain(value, f"SubjectAlternativeNames[{i}]")
        for i, value in enumerate(check.items(raw, "SubjectAlternativeNames", MAX_SANS))
    ]
    unique_sans = tuple(dict.fromkeys(name for name in sans if name))
    names = (domain, *unique_sans) if domain else unique_sans

    method = check.choice(raw, "ValidationMethod", ("DNS", "EMAIL")) or "DNS"
    ca_arn = check.pattern(
        raw, "CertificateAuthorityArn", _CA_ARN, "an ACM Private CA certificate authority ARN"
    )
    zone = _zone(check, raw, "HostedZoneId", "HostedZoneId")
    role = check.pattern(raw, "Route53RoleArn", _ROLE_ARN, "an IAM role ARN")
    external_id = check.pattern(
        raw,
        "Route53RoleExternalId",
        _EXTERNAL_ID,
        "2-1224 characters of [\\w+=,.@:/-]",
        secret=True,
    )
    if external_id and not role and not _any_dvo_role(raw):
        check.fail("Route53RoleExternalId", "is only used with Route53RoleArn")

    targets: dict[str, DnsTarget] = {}
    mail_domains: dict[str, str] = {}
    for i, entry in enumerate(check.items(raw, "DomainValidationOptions", MAX_SANS + 1)):
        where = f"DomainValidationOptions[{i}]"
        option = check.mapping(entry, where, DVO_KEYS)
        if not option:
            continue
        name = check.domain(option.get("DomainName"), f"{where}.DomainName")
        if name and name not in names:
            check.fail(f"{where}.DomainName", f"{name!r} is not the DomainName or one of the SANs")
        option_zone = _zone(check, option, "HostedZoneId", f"{where}.HostedZoneId")
        option_role = check.pattern(
            option, "Route53RoleArn", _ROLE_ARN, "an IAM role ARN", f"{where}.Route53RoleArn"
        )
        mail = option.get("ValidationDomain")
        if mail is not None:
            mail = check.domain(mail, f"{where}.ValidationDomain")
        if name and option_zone:
            targets[name] = DnsTarget(option_zone, option_role or role, external_id)
        elif option_role:
            check.fail(f"{where}.Route53RoleArn", "needs a HostedZoneId in the same entry")
        if name and mail:
            mail_domains[name] = mail
    if zone:
        for name in names:
            targets.setdefault(name, DnsTarget(zone, role, external_id))
    elif role and not targets:
        check.fail("Route53RoleArn", "needs a HostedZoneId (top level or per name)")

    if method == "EMAIL" and targets:
        check.fail("HostedZoneId", "hosted zones are only used with ValidationMethod DNS")
    if method == "DNS" and mail_domains:
        check.fail("DomainValidationOptions", "ValidationDomain is only used with EMAIL")
    if ca_arn and (targets or raw.get("ValidationMethod") is not None):
        check.fail(
            "CertificateAuthorityArn",
            "a private certificate needs no validation: drop ValidationMethod and hosted zones",
        )

    tags = _tags(check, raw)
    region = check.pattern(raw, "Region", _REGION, "an AWS region such as us-east-1")
    key_algorithm = check.choice(raw, "KeyAlgorithm", KEY_ALGORITHMS) or "RSA_2048"
    transparency: Transparency | None = check.choice(
        raw, "CertificateTransparencyLoggingPreference", ("ENABLED", "DISABLED")
    )
    remove_records = check.flag(raw, "RemoveValidationRecords")
    if check.problems or domain is None:
        raise PropertyError(check.problems)
    return CertificateProperties(
        domain_name=domain,
        subject_alternative_names=tuple(n for n in unique_sans if n != domain),
        validation_method=cast(ValidationMethod, method),
        dns_targets=tuple((n, targets[n]) for n in names if n in targets),
        validation_domains=tuple((n, mail_domains[n]) for n in names if n in mail_domains),
        region=region,
        key_algorithm=key_algorithm,
        transparency=transparency,
        certificate_authority_arn=ca_arn,
        tags=tags,
        remove_validation_records=remove_records,
        service_timeout=timeout,
    )


def _service_timeout(check: _Checker, value: Any) -> int:
    if value is None:
        return DEFAULT_SERVICE_TIMEOUT
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not text.isdigit() or not 1 <= int(text) <= 3600:
        check.fail("ServiceTimeout", f"{str(value)[:100]!r} is not a whole number from 1 to 3600")
        return DEFAULT_SERVICE_TIMEOUT
    return int(text)


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


def _tags(check: _Checker, raw: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    tags: dict[str, str] = {}
    for i, entry in enumerate(check.items(raw, "Tags", MAX_TAGS)):
        where = f"Tags[{i}]"
        tag = check.mapping(entry, where, ("Key", "Value"))
        if not tag:
            continue
        key = check.string(tag, "Key", f"{where}.Key")
        value = check.string(tag, "Value", f"{where}.Value")
        if key is None:
            if "Key" not in tag:
                check.fail(f"{where}.Key", "is required")
            continue
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            check.fail(f"{where}.Key", f"{key[:100]!r} must be 1-128 characters, not 'aws:...'")
        elif len(value or "") > 256:
            check.fail(f"{where}.Value", "must be at most 256 characters")
        elif key in tags:
            check.fail(f"{where}.Key", f"{key!r} appears twice")
        else:
            tags[key] = value or ""
    return tuple(tags.items())
