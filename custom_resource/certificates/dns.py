"""DNS validation records: read them from ACM's description, write them to Route 53.

A record depends only on the name (``*.x`` and ``x`` share one) and the account, so
writes are UPSERTs de-duplicated by record name, one change batch per hosted zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..aws import error_code
from .properties import DnsTarget

TTL_SECONDS = 300
ACM_VALUE_SUFFIX = ".acm-validations.aws."
"""Where every DNS validation record of ACM points."""
MAX_RECORD_PAGES = 3
"""Pages of a hosted zone read when looking for a name's validation record."""


@dataclass(frozen=True)
class ValidationRecord:
    name: str
    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.type} {self.name} -> {self.value}"


def records_by_domain(certificate: dict[str, Any]) -> dict[str, ValidationRecord | None]:
    """Each name's validation record, or None while ACM has not published it yet."""
    records: dict[str, ValidationRecord | None] = {}
    for option in certificate.get("DomainValidationOptions", []):
        raw = option.get("ResourceRecord")
        records[option["DomainName"]] = (
            ValidationRecord(raw["Name"], raw["Type"], raw["Value"]) if raw else None
        )
    return records


def plan_changes(
    records: dict[str, ValidationRecord | None], targets: Iterable[tuple[str, DnsTarget]]
) -> dict[DnsTarget, list[ValidationRecord]]:
    """Group the records to write by hosted zone, one record per record name and zone."""
    plan: dict[DnsTarget, dict[str, ValidationRecord]] = {}
    for name, target in targets:
        record = records.get(name)
        if record is not None:
            plan.setdefault(target, {})[record.name] = record
    return {target: list(by_name.values()) for target, by_name in plan.items()}


Route53For = Callable[[DnsTarget], Any]
"""Returns a Route 53 client able to change the target's zone (maybe an assumed role)."""


def change_records(
    action: str, plan: dict[DnsTarget, list[ValidationRecord]], route53_for: Route53For
) -> None:
    """UPSERT or DELETE the planned records, one change batch per hosted zone."""
    for target, records in plan.items():
        route53 = route53_for(target)  # an assumed role's refusal speaks for itself
        try:
            _change(route53, action, target, records)
        except ClientError as exc:
            if error_code(exc) not in ("AccessDenied", "AccessDeniedException"):
                raise
            raise PermissionError(_denied(target)) from exc


def _denied(target: DnsTarget) -> str:
    if target.role_arn:
        return (
            f"the role {target.role_arn} may not change records in hosted zone "
            f"{target.hosted_zone_id}: check its policy (it must allow "
            "route53:ChangeResourceRecordSets on that zone)"
        )
    return (
        f"the provider may not change records in hosted zone {target.hosted_zone_id}: add "
        f"arn:<partition>:route53:::hostedzone/{target.hosted_zone_id} to the provider "
        "stack's HostedZoneArns parameter and update it (or give Route53RoleArn for a zone "
        "in another account)"
    )


def _change(route53: Any, action: str, target: DnsTarget, records: list[ValidationRecord]) -> None:
    route53.change_resource_record_sets(
        HostedZoneId=target.hosted_zone_id,
        ChangeBatch={
            "Comment": "ACM DNS validation (WaitForCertificate)",
            "Changes": [
                {
                    "Action": action,
                    "ResourceRecordSet": {
                        "Name": record.name,
                        "Type": record.type,
                        "TTL": TTL_SECONDS,
                        "ResourceRecords": [{"Value": record.value}],
                    },
                }
                for record in records
            ],
        },
    )


def find_validation_record(route53: Any, zone_id: str, name: str) -> ValidationRecord | None:
    """The name's ACM validation record as it stands in the zone, or None.

    What a Delete removes when its certificate is gone already (a retried Delete that had
    deleted it just before it crashed): ACM can no longer say which record it was, but the
    record's shape can, ``_<32 hex digits>.<name>.`` pointing into ACM's validation domain.
    Route 53 lists a zone in the order of the names' labels from the right, so the records
    under ``<name>`` that start with ``_`` come first from ``_.<name>.`` on.
    """
    base = name.removeprefix("*.").rstrip(".").lower()
    shape = re.compile(rf"^_[0-9a-f]{{32}}\.{re.escape(base)}\.$")
    ask: dict[str, Any] = {"HostedZoneId": zone_id, "StartRecordName": f"_.{base}."}
    for _ in range(MAX_RECORD_PAGES):
        page = route53.list_resource_record_sets(**ask)
        for found in page.get("ResourceRecordSets", []):
            values = [r.get("Value", "") for r in found.get("ResourceRecords", [])]
            value = values[0] if len(values) == 1 else ""
            name_ok = shape.match(str(found.get("Name", "")).lower())
            if found.get("Type") == "CNAME" and name_ok and value.endswith(ACM_VALUE_SUFFIX):
                return ValidationRecord(found["Name"], "CNAME", value)
        if not page.get("IsTruncated"):
            return None
        ask = {**ask, "StartRecordName": page["NextRecordName"]}
        if page.get("NextRecordType"):
            ask["StartRecordType"] = page["NextRecordType"]
    return None
