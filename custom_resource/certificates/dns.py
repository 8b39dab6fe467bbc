"""DNS validation records: read them from ACM's description, write them to Route 53.

A record depends only on the name (``*.x`` and ``x`` share one) and the account, so
writes are UPSERTs de-duplicated by record name, one change batch per hosted zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..aws import error_code
from .properties import DnsTarget

TTL_SECONDS = 300


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
