"""Update: decide once, from what exists in AWS, to keep, return to, or replace a certificate.

The first hop describes the certificate the PhysicalResourceId names and compares it with
the wanted properties (never the old/new property diff alone, which a rollback swaps):

- it matches: keep it, and bring tags, transparency logging and records up to date in
  place. This also answers the rollback of a failed replacement, whose id stayed the
  original's;
- it does not match, the stack is rolling back (UPDATE_ROLLBACK_IN_PROGRESS), and the
  certificate it replaced (named by its ``WaitForCertificate:Replaces`` tag) still exists,
  is ISSUED and matches: return to that one; CloudFormation then deletes the replacement.
  A forward update back to an old certificate's names gets a new certificate instead: an
  old one kept by UpdateReplacePolicy Retain is no longer the stack's to adopt;
- otherwise: request a replacement and wait for it.

The decision is the first step, and travels in the relay state (``UpdatePlan``): later
steps and hops carry it out without deciding again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from botocore.exceptions import ClientError

from ..aws import Clients, is_access_denied
from ..progress import Done, Early, Failed, Pending, Progress, Task
from ..request import CfnRequest
from .certificate import (
    TERMINAL_STATUSES,
    IssueCertificate,
    certificate_data,
    describe,
    describe_if_exists,
    is_certificate_arn,
    region_of,
    route53_for,
)
from .dns import change_records, plan_changes, records_by_domain
from .ownership import REPLACES_TAG, TAG_PREFIX, Owner, owned_by, tags_of
from .properties import CertificateProperties, PropertyError, parse_properties

logger = logging.getLogger(__name__)

Action = Literal["keep", "return", "replace"]
PLAN_KEY = "Plan"
ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"


@dataclass(frozen=True)
class UpdatePlan:
    """What this Update does, decided on its first hop.

    ``keep``/``return``: update ``arn`` in place and answer it; ``replace``: request a new
    certificate replacing ``arn`` (the certificate the stack holds now).
    """

    action: Action
    arn: str

    def to_memo(self) -> dict[str, Any]:
        return {PLAN_KEY: {"Action": self.action, "Arn": self.arn}}

    @classmethod
    def from_memo(cls, memo: dict[str, Any]) -> UpdatePlan | None:
        raw = memo.get(PLAN_KEY)
        if not isinstance(raw, dict) or raw.get("Action") not in ("keep", "return", "replace"):
            return None
        return cls(cast(Action, raw["Action"]), str(raw.get("Arn", "")))


@dataclass
class UpdateCertificate:
    """Decide on the first step (a step, so throttling is retried like any other), then
    carry the plan out; the plan stays in the memo for every later step and hop."""

    request: CfnRequest
    props: CertificateProperties
    clients: Clients
    owner: Owner
    inner: Task | None = None

    @property
    def physical_id(self) -> str | None:
        return self.inner.physical_id if self.inner else self.request.physical_resource_id

    @property
    def created(self) -> str | None:
        """The certificate this request requested, if any: the only one it may delete."""
        return self.inner.arn if isinstance(self.inner, IssueCertificate) else None

    def step(self, memo: dict[str, Any]) -> Progress:
        plan = UpdatePlan.from_memo(memo)
        if plan is None:
            plan = decide(self.request, self.props, self.clients)
            logger.info("Update plan: %s %s", plan.action, plan.arn)
        reused = self._reused_handle(plan)
        if reused:
            return Failed(reused, self.request.physical_resource_id)
        self.inner = self.inner or self._carry_out(plan)
        progress = self.inner.step({**memo, **plan.to_memo()})
        if isinstance(progress, Pending | Early):
            return replace(progress, memo={**progress.memo, **plan.to_memo()})
        return progress

    def _reused_handle(self, plan: UpdatePlan) -> str | None:
        """A WaitCondition handle serves one wait: a replacement needs a new one."""
        handle = self.props.wait_handle
        old = (self.request.old_properties or {}).get("WaitConditionHandle")
        if plan.action != "replace" or handle is None or str(old).strip() != handle:
            return None
        return (
            "WaitConditionHandle: this Update replaces the certificate, and a WaitCondition "
            "handle serves one wait only; give the resource a new handle (a new "
            "AWS::CloudFormation::WaitConditionHandle and WaitCondition, with new logical ids)"
        )

    def _carry_out(self, plan: UpdatePlan) -> Task:
        if plan.action == "replace":
            return IssueCertificate(self.props, self.clients, self.owner, replaces=plan.arn or None)
        try:
            old = parse_properties(self.request.old_properties or {})
        except PropertyError:
            old = None
        kept = old if plan.action == "keep" else None
        return UpdateInPlace(plan.arn, kept, self.props, self.clients)


def decide(request: CfnRequest, props: CertificateProperties, clients: Clients) -> UpdatePlan:
    """Keep or return to a certificate only if this stack owns it (its tags say so): one
    the provider did not request here is never changed, a new one replaces it."""
    current = request.physical_resource_id or ""
    tags = _tags_if_certificate(clients, current)
    if tags is None or not owned_by(tags, request.stack_id):
        return UpdatePlan("replace", current)
    described = describe_if_exists(clients, current)
    if described is not None and matches(described, props, clients.region):
        return UpdatePlan("keep", current)
    previous = replaced_certificate(clients, tags.get(REPLACES_TAG, ""), request.stack_id, props)
    if previous and stack_status(clients, request.stack_id) == ROLLING_BACK:
        return UpdatePlan("return", previous)
    return UpdatePlan("replace", current)


def _tags_if_certificate(clients: Clients, arn: str) -> dict[str, str] | None:
    return tags_of(clients, region_of(arn), arn) if is_certificate_arn(arn) else None


def matches(certificate: dict[str, Any], props: CertificateProperties, home: str) -> bool:
    """Whether the certificate is what ``props`` ask for, in all it cannot change in place.

    CertificateExport is among those: ACM's model lists ``Export`` in
    UpdateCertificateOptions, but ACM documents that it cannot change once the certificate
    is created, so a change requests a replacement (as the native resource does).
    SANs compare as a set; ACM writes key algorithms with a hyphen (``RSA-2048``) where
    requests use an underscore.
    """
    arn = certificate.get("CertificateArn", "")
    domain = str(certificate.get("DomainName", "")).lower()
    names = {str(n).lower() for n in certificate.get("SubjectAlternativeNames", [domain])}
    options = certificate.get("DomainValidationOptions", [])
    methods = {o["ValidationMethod"] for o in options if o.get("ValidationMethod")}
    mail = {
        str(o["DomainName"]).lower(): str(o.get("ValidationDomain", o["DomainName"])).lower()
        for o in options
    }
    chosen = dict(props.validation_domains)
    key_algorithm = str(certificate.get("KeyAlgorithm", props.key_algorithm)).replace("-", "_")
    return (
        certificate.get("Status") not in TERMINAL_STATUSES
        and region_of(arn) == (props.region or home)
        and domain == props.domain_name
        and names == set(props.names)
        and key_algorithm == props.key_algorithm
        and certificate.get("Options", {}).get("Export", "DISABLED") == (props.export or "DISABLED")
        and certificate.get("CertificateAuthorityArn") == props.certificate_authority_arn
        and (props.certificate_authority_arn is not None or methods <= {props.validation_method})
        and (
            props.validation_method != "EMAIL"
            or mail == {name: chosen.get(name, name) for name in props.names}
        )
    )


def replaced_certificate(
    clients: Clients, previous: str, stack_id: str, props: CertificateProperties
) -> str | None:
    """``previous`` (named by the replacement's tag) if it is this stack's, ISSUED, and
    what ``props`` ask for."""
    tags = _tags_if_certificate(clients, previous)
    if tags is None or not owned_by(tags, stack_id):
        return None
    described = describe_if_exists(clients, previous)
    if described is None or described.get("Status") != "ISSUED":
        return None
    return previous if matches(described, props, clients.region) else None


def stack_status(clients: Clients, stack_id: str) -> str | None:
    """The stack's status, or None when the function may not read it (it then replaces).

    Only a definite refusal falls back: throttling, a 5xx, a network fault or any other
    error propagates, so the decision step is retried (or the Update fails naming the
    error) instead of a passing fault deciding "replace" in the middle of a rollback.
    """
    try:
        region = stack_id.split(":")[3]
    except IndexError:
        logger.warning("The StackId %r names no region, so no rollback is assumed", stack_id)
        return None
    try:
        stacks = clients.client("cloudformation", region).describe_stacks(StackName=stack_id)[
            "Stacks"
        ]
    except ClientError as exc:
        if not is_access_denied(exc):
            raise
        logger.warning("May not read the stack's status, so no rollback is assumed: %s", exc)
        return None
    return str(stacks[0]["StackStatus"]) if stacks else None


@dataclass
class UpdateInPlace:
    """Bring tags, transparency logging and validation records up to the new properties.

    ``old`` is the properties the certificate had (None: unknown, rewrite every record).
    """

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
        return Done(self.arn, certificate_data(self.arn, self.new.domain_name, certificate))

    def _update_tags(self, acm: Any) -> None:
        listed = acm.list_tags_for_certificate(CertificateArn=self.arn).get("Tags", [])
        current = {
            t["Key"]: t.get("Value", "") for t in listed if not t["Key"].startswith(TAG_PREFIX)
        }
        wanted = dict(self.new.tags)
        stale = [{"Key": k, "Value": v} for k, v in current.items() if k not in wanted]
        changed = [{"Key": k, "Value": v} for k, v in wanted.items() if current.get(k) != v]
        if stale:
            acm.remove_tags_from_certificate(CertificateArn=self.arn, Tags=stale)
        if changed:
            acm.add_tags_to_certificate(CertificateArn=self.arn, Tags=changed)
