"""Update: decide between no change, an in-place change and a replacement certificate.

Tags, CertificateTransparencyLoggingPreference and hosted zones change in place. Any
other difference needs a new certificate; CloudFormation then deletes the old one. An
update rollback (old and new properties swapped) returns to the replaced certificate,
found through the tag the replacement carries, instead of requesting a third one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws import Clients, error_code
from .certificate import (
    REPLACES_TAG,
    IssueCertificate,
    certificate_data,
    describe,
    is_certificate_arn,
    region_of,
    route53_for,
)
from .dns import change_records, plan_changes, records_by_domain
from .progress import Done, Progress, Task
from .properties import CertificateProperties, PropertyError, parse_properties
from .request import CfnRequest


def identity(props: CertificateProperties, default_region: str) -> tuple[Any, ...]:
    """What a certificate cannot change after it is requested; SANs compared as a set."""
    return (
        props.domain_name,
        frozenset(props.names),
        props.validation_method,
        props.key_algorithm,
        props.region or default_region,
        props.certificate_authority_arn,
        frozenset(props.validation_domains),
    )


def plan_update(
    request: CfnRequest, props: CertificateProperties, clients: Clients, token: str
) -> Task:
    current = request.physical_resource_id or ""
    try:
        old: CertificateProperties | None = parse_properties(request.old_properties or {})
    except PropertyError:
        old = None
    wanted = identity(props, clients.region)
    if (
        old is None
        or not is_certificate_arn(current)
        or identity(old, clients.region) != wanted
        or region_of(current) != (props.region or clients.region)
    ):
        # Only the first hop can be a rollback (returning to the replaced certificate takes
        # no waiting); later hops carry on with the replacement their relay state names.
        previous = None if request.relay else replaced_certificate(clients, current, props)
        if previous:
            return UpdateInPlace(previous, old, props, clients)
        return IssueCertificate(props, clients, token, replaces=current or None)
    if _comparable(old) == _comparable(props):
        return NoChange(current, props.domain_name)
    return UpdateInPlace(current, old, props, clients)


def _comparable(props: CertificateProperties) -> CertificateProperties:
    """Order, ServiceTimeout and RemoveValidationRecords do not change the certificate."""
    return dataclasses.replace(
        props,
        subject_alternative_names=tuple(sorted(props.subject_alternative_names)),
        dns_targets=tuple(sorted(props.dns_targets, key=lambda entry: entry[0])),
        validation_domains=tuple(sorted(props.validation_domains)),
        service_timeout=0,
        remove_validation_records=False,
    )


def replaced_certificate(
    clients: Clients, current: str, props: CertificateProperties
) -> str | None:
    """On a rollback: the certificate ``current`` replaced, if it still matches ``props``."""
    if not is_certificate_arn(current):
        return None
    acm = clients.acm(region_of(current))
    try:
        tags = acm.list_tags_for_certificate(CertificateArn=current).get("Tags", [])
        previous = next((t.get("Value", "") for t in tags if t["Key"] == REPLACES_TAG), "")
        if not is_certificate_arn(previous):
            return None
        certificate = describe(clients, previous)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    matches = (
        certificate.get("Status") == "ISSUED"
        and certificate.get("DomainName") == props.domain_name
        and set(certificate.get("SubjectAlternativeNames", [props.domain_name])) == set(props.names)
        and certificate.get("KeyAlgorithm", props.key_algorithm) == props.key_algorithm
        and region_of(previous) == (props.region or clients.region)
    )
    return previous if matches else None


@dataclass
class NoChange:
    arn: str
    domain_name: str

    @property
    def physical_id(self) -> str | None:
        return self.arn

    def step(self, memo: dict[str, Any]) -> Progress:
        return Done(self.arn, certificate_data(self.arn, self.domain_name))


@dataclass
class UpdateInPlace:
    """Bring tags, transparency logging and validation records up to the new properties."""

    arn: str
    old: CertificateProperties | None
    new: CertificateProperties
    clients: Clients

    @property
    def physical_id(self) -> str | None:
        return self.arn

    def step(self, memo: dict[str, Any]) -> Progress:
        acm = self.clients.acm(region_of(self.arn))
        self._update_tags(acm)
        certificate = describe(self.clients, self.arn)
        wanted = self.new.transparency or "ENABLED"
        options = certificate.get("Options", {})
        if options.get("CertificateTransparencyLoggingPreference", "ENABLED") != wanted:
            acm.update_certificate_options(
                CertificateArn=self.arn,
                Options={"CertificateTransparencyLoggingPreference": wanted},
            )
        moved = [
            (name, target)
            for name, target in self.new.dns_targets
            if self.old is None or self.old.target_for(name) != target
        ]
        if moved:
            plan = plan_changes(records_by_domain(certificate), moved)
            change_records("UPSERT", plan, route53_for(self.clients))
        return Done(self.arn, certificate_data(self.arn, self.new.domain_name))

    def _update_tags(self, acm: Any) -> None:
        current = {
            t["Key"]: t.get("Value", "")
            for t in acm.list_tags_for_certificate(CertificateArn=self.arn).get("Tags", [])
            if t["Key"] != REPLACES_TAG
        }
        wanted = dict(self.new.tags)
        stale = [{"Key": k, "Value": v} for k, v in current.items() if k not in wanted]
        changed = [{"Key": k, "Value": v} for k, v in wanted.items() if current.get(k) != v]
        if stale:
            acm.remove_tags_from_certificate(CertificateArn=self.arn, Tags=stale)
        if changed:
            acm.add_tags_to_certificate(CertificateArn=self.arn, Tags=changed)
