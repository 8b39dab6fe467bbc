"""The certificate tasks: issue (Create or replacement), update in place, delete.

Each task advances one idempotent step at a time (see ``progress.Task``) and never
waits itself: the relay decides when to poll again or hand off to the next hop.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..aws import Clients, error_code
from ..background import is_answered
from ..definitions import CERTIFICATE_ATTRIBUTES as ATTRIBUTES
from ..progress import Done, Early, Failed, Pending, Progress, Stopped
from .dns import (
    ValidationRecord,
    change_records,
    find_validation_record,
    plan_changes,
    records_by_domain,
)
from .ownership import (
    REPLACES_TAG,
    Owner,
    certificate_summaries,
    owned_by,
    requested_by,
    tags_of,
)
from .properties import CertificateProperties, DnsTarget

logger = logging.getLogger(__name__)

TERMINAL_STATUSES = frozenset({"FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "INACTIVE", "EXPIRED"})

_CERT_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:acm:([a-z0-9-]+):\d{12}:certificate/[\w-]+$")


def is_certificate_arn(value: str | None) -> bool:
    return bool(value and _CERT_ARN.match(value))


def region_of(arn: str) -> str:
    match = _CERT_ARN.match(arn)
    if not match:
        raise ValueError(f"{arn!r} is not an ACM certificate ARN")
    return match.group(1)


def certificate_data(
    arn: str, domain_name: str, certificate: dict[str, Any] | None = None
) -> dict[str, str]:
    """The Fn::GetAtt attributes: the ARN, the name and the DNS validation records.

    ``ValidationRecordName/Type/Value`` are the primary name's record; ``ValidationRecords``
    is every name's, as compact JSON. ``response.build_body`` drops the largest attributes
    first should the response exceed 4096 bytes (``ValidationRecords`` with many names).
    """
    arn_key, name_key, record_name, record_type, record_value, all_records = ATTRIBUTES
    data = {arn_key: arn, name_key: domain_name}
    records = records_by_domain(certificate or {})
    primary = records.get(domain_name)
    if primary is not None:
        data |= {record_name: primary.name, record_type: primary.type, record_value: primary.value}
    listed = [
        {"DomainName": name, "Name": r.name, "Type": r.type, "Value": r.value}
        for name, r in records.items()
        if r is not None
    ]
    if listed:
        data[all_records] = json.dumps(listed, separators=(",", ":"))
    return data


def describe(clients: Clients, arn: str) -> dict[str, Any]:
    certificate: dict[str, Any] = clients.acm(region_of(arn)).describe_certificate(
        CertificateArn=arn
    )["Certificate"]
    return certificate


def describe_if_exists(clients: Clients, arn: str) -> dict[str, Any] | None:
    """The certificate, or None when ``arn`` is no certificate ARN or it is gone."""
    if not is_certificate_arn(arn):
        return None
    try:
        return describe(clients, arn)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def route53_for(clients: Clients) -> Any:
    def client(target: DnsTarget) -> Any:
        return clients.route53(target.role_arn, target.external_id)

    return client


@dataclass
class IssueCertificate:
    """Request a certificate (once), write its validation records, wait until ISSUED."""

    props: CertificateProperties
    clients: Clients
    owner: Owner
    """The request: its token makes the request idempotent, its tags mark ownership."""
    replaces: str | None = None
    """On an Update replacement, the certificate being replaced (remembered in a tag)."""
    arn: str | None = None

    @property
    def physical_id(self) -> str | None:
        return self.arn

    def step(self, memo: dict[str, Any]) -> Progress:
        self.arn = self.arn or memo.get("CertificateArn") or self._request()
        answered = is_answered(memo)
        found = describe_if_exists(self.clients, self.arn) if answered else None
        if answered and found is None:
            return Stopped(f"certificate {self.arn} was deleted while its WaitCondition waited")
        certificate = found or describe(self.clients, self.arn)
        status = certificate["Status"]
        if status == "ISSUED":
            return Done(self.arn, certificate_data(self.arn, self.props.domain_name, certificate))
        if status in TERMINAL_STATUSES:
            reason = certificate.get("FailureReason", "no FailureReason given")
            return Failed(f"ACM certificate {status}: {reason}", self.arn)
        written = bool(memo.get("RecordsWritten"))
        records = records_by_domain(certificate)
        awaited = [name for name, _ in self.props.dns_targets if records.get(name, None) is None]
        if self.props.dns_targets and not written:
            if awaited:
                return Pending(
                    "ACM has not published the DNS validation record yet for " + ", ".join(awaited),
                    {**memo, "CertificateArn": self.arn},
                )
            plan = plan_changes(records, self.props.dns_targets)
            change_records("UPSERT", plan, route53_for(self.clients))
            written = True
        memo = {**memo, "CertificateArn": self.arn, "RecordsWritten": written}
        if self.props.wait_handle and not answered and self._records_known(records):
            data = certificate_data(self.arn, self.props.domain_name, certificate)
            return Early(Done(self.arn, data), memo)
        return Pending(pending_detail(certificate, self.props), memo)

    def _records_known(self, records: dict[str, ValidationRecord | None]) -> bool:
        """12-hour mode answers once every name's DNS record can be given as an attribute."""
        if self.props.certificate_authority_arn or self.props.validation_method == "EMAIL":
            return True
        return all(records.get(name) is not None for name in self.props.names)

    def _request(self) -> str:
        props = self.props
        args: dict[str, Any] = {
            "DomainName": props.domain_name,
            "IdempotencyToken": self.owner.token,
            "KeyAlgorithm": props.key_algorithm,
        }
        if props.subject_alternative_names:
            args["SubjectAlternativeNames"] = list(props.names)
        if props.certificate_authority_arn:
            args["CertificateAuthorityArn"] = props.certificate_authority_arn
        else:
            args["ValidationMethod"] = props.validation_method
        if props.validation_domains:
            args["DomainValidationOptions"] = [
                {"DomainName": name, "ValidationDomain": domain}
                for name, domain in props.validation_domains
            ]
        options = {
            "CertificateTransparencyLoggingPreference": props.transparency,
            "Export": props.export,
        }
        if any(options.values()):
            args["Options"] = {k: v for k, v in options.items() if v}
        tags = [{"Key": k, "Value": v} for k, v in props.tags] + self.owner.tags()
        if self.replaces:
            tags.append({"Key": REPLACES_TAG, "Value": self.replaces})
        args["Tags"] = tags
        arn: str = self.clients.acm(props.region).request_certificate(**args)["CertificateArn"]
        return arn


def pending_detail(certificate: dict[str, Any], props: CertificateProperties) -> str:
    """Which names still wait, and for DNS the CNAME each needs: what a user can act on."""
    options = certificate.get("DomainValidationOptions", [])
    waiting = [o for o in options if o.get("ValidationStatus") != "SUCCESS"] or options
    names = ", ".join(o["DomainName"] for o in waiting) or props.domain_name
    status = certificate.get("Status", "PENDING_VALIDATION")
    if props.certificate_authority_arn:
        return (
            f"certificate {status} for {names}: the private CA {props.certificate_authority_arn} "
            "has not issued it yet (is the CA ACTIVE, and may this account use it?)"
        )
    if props.validation_method == "EMAIL":
        return f"certificate {status} for {names} (approve the validation e-mail)"
    records = {
        str(r) for r in records_by_domain({"DomainValidationOptions": waiting}).values() if r
    }
    cnames = "; ".join(sorted(records)) or "no validation record published yet"
    return f"certificate {status} for {names}; validation record(s) needed: {cnames}"


@dataclass
class DeleteCertificate:
    """Delete the certificate in its own region; wait while something still uses it.

    Only a certificate the provider requested for this stack is deleted (its ownership
    tags say so); any other is left alone, and the Delete succeeds saying so. With
    RemoveValidationRecords, the records this resource wrote are deleted afterwards,
    except those another certificate in the region still needs (records are per name).
    """

    arn: str
    clients: Clients
    stack_id: str
    props: CertificateProperties | None = None
    records_first: bool = False
    """A failed Update's replacement, which nothing uses: its records go before the
    certificate, so a crash in between leaves the certificate, which a retry finds by its
    tags, rather than records nothing names any more."""

    @property
    def physical_id(self) -> str | None:
        return self.arn

    def step(self, memo: dict[str, Any]) -> Progress:
        if not is_certificate_arn(self.arn):
            return Done(self.arn)
        region = region_of(self.arn)
        if not memo.get("Owned"):
            tags = tags_of(self.clients, region, self.arn)
            if tags is None:  # gone: maybe deleted by this request before it crashed
                records = memo.get("Records")
                if records is None and self.props and self.props.remove_validation_records:
                    records = self._records_to_remove()
                remove_unshared_records(self.clients, region, records or [])
                return Done(self.arn)
            if not owned_by(tags, self.stack_id):
                return Done(self.arn, reason=left_alone(self.arn, self.stack_id))
            memo = {**memo, "Owned": True}
        if self.props and self.props.remove_validation_records and "Records" not in memo:
            certificate = describe_if_exists(self.clients, self.arn)
            records = validation_records(self.clients, self.props, certificate)
            if self.records_first and not (certificate or {}).get("InUseBy"):
                remove_unshared_records(self.clients, region, records, but=self.arn)
                records = []
            memo = {**memo, "Records": records}
        try:
            self.clients.acm(region).delete_certificate(CertificateArn=self.arn)
        except ClientError as exc:
            code = error_code(exc)
            if code == "ResourceInUseException":
                users = self._in_use_by()
                return Pending(f"certificate {self.arn} is still in use by: {users}", memo)
            if code != "ResourceNotFoundException":
                raise
        remove_unshared_records(self.clients, region, memo.get("Records", []))
        return Done(self.arn)

    def _records_to_remove(self) -> list[dict[str, Any]]:
        assert self.props is not None
        certificate = describe_if_exists(self.clients, self.arn)
        return validation_records(self.clients, self.props, certificate)

    def _in_use_by(self) -> str:
        certificate = describe_if_exists(self.clients, self.arn)
        if certificate is None:
            return "nothing any more (deleted meanwhile)"
        return ", ".join(certificate.get("InUseBy", [])) or "a resource ACM did not name"


def validation_records(
    clients: Clients, props: CertificateProperties, certificate: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The validation records a certificate of ``props`` has in its zones, one per record.

    ACM names them while the certificate exists; once it is gone (a Delete retried after
    it had deleted the certificate), the zones do (``dns.find_validation_record``).
    """
    records = records_by_domain(certificate) if certificate else {}
    entries: dict[tuple[DnsTarget, str], dict[str, Any]] = {}
    for name, target in props.dns_targets:
        if certificate:
            record = records.get(name)
        else:
            route53 = route53_for(clients)(target)
            record = find_validation_record(route53, target.hosted_zone_id, name)
        if record is not None:
            entry = {"Domain": name, **dataclasses.asdict(target), **dataclasses.asdict(record)}
            entries.setdefault((target, record.name), entry)
    return list(entries.values())


def left_alone(arn: str, stack_id: str) -> str:
    """Why a certificate was not deleted or changed: the provider did not request it here."""
    logger.warning("Leaving certificate %s alone: not requested for stack %s", arn, stack_id)
    return (
        f"Certificate {arn} was left alone: its tags do not say the WaitForCertificate "
        f"provider requested it for this stack. Delete it yourself if it is yours and unused "
        f"(a certificate requested before ownership tags existed: see the upgrade notes)"
    )


@dataclass
class CleanUpFailedCreate:
    """The rollback Delete of a create-failed marker: delete what that Create left.

    The marker carries the Create's request token; a certificate whose tags name this
    stack and that token is the Create's, requested before its hop could name it (Lambda
    gave up on the hop, or the request's answer never arrived).
    """

    marker: str
    owner: Owner
    region: str
    clients: Clients
    props: CertificateProperties | None = None

    @property
    def physical_id(self) -> str | None:
        return self.marker

    def step(self, memo: dict[str, Any]) -> Progress:
        if self.props is None:
            return Done(self.marker)  # its properties were refused: it requested nothing
        found = memo.get("Found")
        if not isinstance(found, list):
            name = self.props.domain_name
            found = requested_by(self.clients, self.region, self.owner, name)
            memo = {**memo, "Found": found}
        deletes = dict(memo.get("Deletes", {}))
        for arn in found:
            task = DeleteCertificate(arn, self.clients, self.owner.stack_id, self.props)
            progress = task.step(deletes.get(arn, {}))
            if isinstance(progress, Pending):
                deletes[arn] = progress.memo
                return Pending(progress.detail, {**memo, "Deletes": deletes})
            logger.info("Deleted %s, left by the failed Create %s", arn, self.marker)
        if not found and self.props.remove_validation_records:
            # Nothing (any more): this Delete may have deleted it before it crashed.
            records = validation_records(self.clients, self.props, None)
            remove_unshared_records(self.clients, self.region, records)
        return Done(self.marker)


def _base_name(name: str) -> str:
    """``*.x`` and ``x`` share one validation record."""
    return name.removeprefix("*.").lower()


def names_in_use(clients: Clients, region: str, but: str | None = None) -> set[str]:
    """Base names of every certificate left in the region (``but`` this one), whatever its
    key type or status."""
    names: set[str] = set()
    for summary in certificate_summaries(clients, region):
        if summary["CertificateArn"] == but:
            continue
        listed = summary.get("SubjectAlternativeNameSummaries")
        if listed is None or summary.get("HasAdditionalSubjectAlternativeNames"):
            # A certificate deleted since it was listed (a parallel Delete) names nothing.
            certificate = describe_if_exists(clients, summary["CertificateArn"]) or {}
            listed = certificate.get("SubjectAlternativeNames", [])
        names.update(_base_name(n) for n in [summary.get("DomainName", ""), *listed] if n)
    return names


def remove_unshared_records(
    clients: Clients, region: str, records: list[dict[str, Any]], but: str | None = None
) -> None:
    """Delete each recorded validation record no remaining certificate (``but`` this one,
    about to go) still needs."""
    if not records:
        return
    still_needed = names_in_use(clients, region, but)
    for entry in records:
        if _base_name(entry["Domain"]) in still_needed:
            continue
        target = DnsTarget(entry["hosted_zone_id"], entry["role_arn"], entry["external_id"])
        record = ValidationRecord(entry["name"], entry["type"], entry["value"])
        try:
            change_records("DELETE", {target: [record]}, route53_for(clients))
        except ClientError as exc:
            if error_code(exc) != "InvalidChangeBatch":
                raise
