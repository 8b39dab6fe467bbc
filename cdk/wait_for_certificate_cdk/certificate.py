"""WaitForCertificate: a Custom::WaitForCertificate resource with typed keywords."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnWaitConditionHandle, Duration, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from constructs import Construct

from ._resource import ProviderResource
from ._sources import properties
from ._values import checkable_all, seconds
from .provider import WaitForCertificateProvider


@dataclass(frozen=True)
class DomainValidationOption:
    """Per name on the certificate: its hosted zone (DNS) or validation domain (EMAIL)."""

    domain_name: str
    """The name (the domain name or one of the subject alternative names)."""
    hosted_zone: route53.IHostedZone | None = None
    """The hosted zone its validation record goes into (or ``hosted_zone_id``)."""
    hosted_zone_id: str | None = None
    validation_domain: str | None = None
    """EMAIL: the domain (the name or a parent) whose addresses get the e-mail."""
    route53_role_arn: str | None = None
    """The role to assume for this zone, when it is in another account."""

    def zone_id(self) -> str | None:
        return self.hosted_zone.hosted_zone_id if self.hosted_zone else self.hosted_zone_id


class WaitForCertificate(ProviderResource):
    """An ACM certificate, requested in any Region and validated through Route 53, that
    the stack waits for until it is ISSUED: ``certificate`` is usable by CloudFront.

    Values known at synthesis are checked with the handler's own rules and messages
    (``PropertyError``, a ``ValueError``), so a mistake fails ``cdk synth``, not the
    deployment. The provider comes along: the first certificate of a stack includes it
    (``WaitForCertificateProvider``), later ones share it; or pass ``service_token``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain_name: str,
        subject_alternative_names: Sequence[str] | None = None,
        hosted_zone: route53.IHostedZone | None = None,
        hosted_zone_id: str | None = None,
        region: str | None = None,
        validation_method: properties.ValidationMethod | None = None,
        domain_validation_options: Sequence[DomainValidationOption] | None = None,
        key_algorithm: properties.KeyAlgorithm | None = None,
        transparency_logging: properties.Transparency | None = None,
        certificate_authority_arn: str | None = None,
        tags: Mapping[str, str] | None = None,
        route53_role_arn: str | None = None,
        route53_role_external_id: str | None = None,
        remove_validation_records: bool | None = None,
        certificate_export: properties.Export | None = None,
        service_timeout: Duration | None = None,
        wait_condition_handle: CfnWaitConditionHandle | None = None,
        wait_timeout: Duration | None = None,
        service_token: str | None = None,
        provider: WaitForCertificateProvider | None = None,
    ) -> None:
        """
        :param domain_name: the certificate's name (``DomainName``), may start with ``*.``.
        :param subject_alternative_names: further names (``SubjectAlternativeNames``).
        :param hosted_zone: the Route 53 zone for every name's validation record
            (``HostedZoneId``); or give ``hosted_zone_id``. Neither: nothing is written
            to DNS, the records are attributes to create yourself.
        :param hosted_zone_id: the same as a zone id, e.g. ``Z0123456789ABC``.
        :param region: where the certificate lives (``Region``), e.g. ``us-east-1`` for
            CloudFront. Default: the stack's Region.
        :param validation_method: ``DNS`` (default) or ``EMAIL`` (``ValidationMethod``).
        :param domain_validation_options: per name, its own zone, role or validation domain.
        :param key_algorithm: ``RSA_2048`` (default), ``EC_prime256v1`` or ``EC_secp384r1``.
        :param transparency_logging: ``ENABLED`` or ``DISABLED``
            (``CertificateTransparencyLoggingPreference``).
        :param certificate_authority_arn: an ACM Private CA: a private certificate.
        :param tags: the certificate's tags (``Tags``).
        :param route53_role_arn: a role to assume for zones in another account
            (``Route53RoleArn``); the included provider is allowed to assume it.
        :param route53_role_external_id: its external id (``Route53RoleExternalId``).
        :param remove_validation_records: delete the records with the certificate
            (``RemoveValidationRecords``). Default: kept.
        :param certificate_export: ``ENABLED`` for an exportable public certificate
            (``CertificateExport``); changing it replaces the certificate.
        :param service_timeout: how long CloudFormation waits (``ServiceTimeout``),
            1 second to 1 hour (default). The provider answers FAILED shortly before.
        :param wait_condition_handle: 12-hour mode: the handle signalled once ISSUED
            (``WaitConditionHandle``); whatever needs the issued certificate then depends
            on its ``CfnWaitCondition``.
        :param wait_timeout: 12-hour mode: how long to keep waiting (``WaitTimeout``).
        :param service_token: an existing provider's ServiceToken (its stack's
            ``ServiceToken`` output): then no provider is included in this stack.
        :param provider: the included provider to use (default: the stack's own, created
            on first use).
        """
        super().__init__(scope, id)
        if hosted_zone is not None and hosted_zone_id is not None:
            raise ValueError("give hosted_zone or hosted_zone_id, not both")
        options = [_option(o) for o in domain_validation_options or ()]
        raw: dict[str, Any] = {
            "DomainName": domain_name,
            "SubjectAlternativeNames": (
                list(subject_alternative_names) if subject_alternative_names else None
            ),
            "ValidationMethod": validation_method,
            "DomainValidationOptions": options or None,
            "HostedZoneId": hosted_zone.hosted_zone_id if hosted_zone else hosted_zone_id,
            "Region": region,
            "KeyAlgorithm": key_algorithm,
            "CertificateTransparencyLoggingPreference": transparency_logging,
            "CertificateAuthorityArn": certificate_authority_arn,
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()] if tags else None,
            "Route53RoleArn": route53_role_arn,
            "Route53RoleExternalId": route53_role_external_id,
            "RemoveValidationRecords": remove_validation_records,
            "CertificateExport": certificate_export,
            "WaitConditionHandle": wait_condition_handle.ref if wait_condition_handle else None,
            "WaitTimeout": seconds(wait_timeout),
        }
        raw = {key: value for key, value in raw.items() if value is not None}
        check_properties({**raw, "ServiceTimeout": seconds(service_timeout)})

        self._add_resource(
            "Custom::WaitForCertificate",
            raw,
            service_token=service_token,
            provider=provider,
            service_timeout=service_timeout,
        )
        if self.provider is not None:
            _grant(self.provider, raw, options)
        self.certificate_arn: str = self.resource.ref
        """The certificate's ARN (``Ref``)."""
        self.certificate: acm.ICertificate = acm.Certificate.from_certificate_arn(
            self, "Certificate", self.certificate_arn
        )
        """The certificate, for CloudFront, load balancers, API Gateway..."""
        self.domain_name: str = self.resource.get_att_string("DomainName")
        """The certificate's domain name, lower case (``DomainName``)."""
        self.validation_record_name: str = self.resource.get_att_string("ValidationRecordName")
        """DNS validation: the CNAME to create for the domain name."""
        self.validation_record_type: str = self.resource.get_att_string("ValidationRecordType")
        """Its type: ``CNAME``."""
        self.validation_record_value: str = self.resource.get_att_string("ValidationRecordValue")
        """Its value."""
        self.validation_records: str = self.resource.get_att_string("ValidationRecords")
        """Every name's record as one JSON string (dropped for very many names)."""


def check_properties(raw: Mapping[str, Any]) -> properties.CertificateProperties:
    """The handler's ``parse_properties`` on what CloudFormation will send, tokens stood
    in for by valid values; raises its ``PropertyError`` listing every problem."""
    sent = checkable_all(raw)
    names = [sent["DomainName"], *sent.get("SubjectAlternativeNames", [])]
    if any(Token.is_unresolved(n) for n in [raw.get("DomainName"), *names]):
        # a name known only at deployment may be any of the options' names
        named = [o.get("DomainName") for o in sent.get("DomainValidationOptions", [])]
        sent["SubjectAlternativeNames"] = [*sent.get("SubjectAlternativeNames", []), *named]
    return properties.parse_properties(sent)


def _option(option: DomainValidationOption) -> dict[str, Any]:
    entry = {
        "DomainName": option.domain_name,
        "HostedZoneId": option.zone_id(),
        "ValidationDomain": option.validation_domain,
        "Route53RoleArn": option.route53_role_arn,
    }
    return {key: value for key, value in entry.items() if value is not None}


def _grant(
    provider: WaitForCertificateProvider, raw: Mapping[str, Any], options: list[dict[str, Any]]
) -> None:
    """Let the included provider write into this certificate's zones and assume its roles."""
    for entry in [raw, *options]:
        role = entry.get("Route53RoleArn") or raw.get("Route53RoleArn")
        if role:
            provider.allow_route53_role(role)
        elif entry.get("HostedZoneId"):
            provider.allow_hosted_zone(entry["HostedZoneId"])
