"""The provider, template/provider.yaml itself, included in a CDK stack.

The template is included as it is (``CfnInclude``): function, last-resort responder, roles,
log groups, asynchronous-invocation settings, alarm, ``RecursiveLoop``. Only two things
change: each function's ``Code`` (a local zip for ``aws cloudformation package``) becomes
a CDK asset of the same package, and the template's parameters become typed keywords, so
the including stack has no CloudFormation parameters of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import IStableAnyProducer, IStableListProducer, Lazy, Stack, Token
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import cloudformation_include as cfn_include
from constructs import Construct

from ._sources import BUILD_DIR, TEMPLATE, function_zip, version
from ._template import refs, substituted, write_applied

SERVICE_TOKEN_OUTPUT = "ServiceToken"
"""The template's output that gives the ServiceToken: whatever it names (the function's
ARN, or an alias's), certificates use."""
SINGLETON_ID = "WaitForCertificateProvider"
"""The id under a stack of the provider that certificates share."""
FUNCTION_TYPE = "AWS::Lambda::Function"
DEPLOY_TIME = "(known at deployment)"
"""What a token (``role.role_arn``) stands for in the template's conditions: they may
not refer to resources, and an entry, whatever it resolves to, makes a list non-empty."""


@jsii.implements(IStableListProducer)
class _Collected:
    """A list that grows until synthesis: what the resources using the provider need.

    A value may be a token (``role.role_arn`` of the same app): it is kept as the CDK
    encodes it, one entry per token, and resolved with the rest of the template."""

    def __init__(self, initial: Sequence[str]) -> None:
        self.values: list[str] = list(initial)

    def add(self, value: str) -> None:
        if value not in self.values:
            self.values.append(value)

    def produce(self) -> list[str] | None:
        return list(self.values)

    def literal(self) -> list[str]:
        """The list as a condition may read it: each token stood in for."""
        return [DEPLOY_TIME if Token.is_unresolved(v) else v for v in self.values]


@jsii.implements(IStableAnyProducer)
class _Condition:
    """A condition of the template on the collected lists (``MayAssumeWaitForRoles``: is
    WaitForRoleArns empty?), evaluated on the lists as they are at synthesis."""

    def __init__(self, expression: Any, lists: dict[str, _Collected]) -> None:
        self.expression = expression
        self.lists = lists

    def produce(self) -> Any:
        return substituted(self.expression, {n: c.literal() for n, c in self.lists.items()})


class WaitForCertificateProvider(Construct):
    """The Custom::WaitForCertificate provider: the whole of template/provider.yaml.

    Certificates create one per stack on first use (``WaitForCertificateProvider.of``) and
    share it. Create one yourself, with the id ``WaitForCertificateProvider`` directly under
    the stack, to set its options; or pass it to certificates as ``provider=``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        hosted_zones: Sequence[route53.IHostedZone] = (),
        route53_role_arns: Sequence[str] = (),
        log_retention_days: int = 30,
        log_encryption_key: kms.IKey | None = None,
        reserved_concurrency: int | None = None,
        alarm_enabled: bool = True,
        alarm_topic: sns.ITopic | None = None,
        log_level: str = "INFO",
        wait_for_role_arns: Sequence[str] = (),
        wait_for_policy_arns: Sequence[str] = (),
    ) -> None:
        """
        :param hosted_zones: zones (of this account) the function may write validation
            records into, besides those of the certificates that use this provider
            (added automatically). None at all: no hosted zone (the template's
            HostedZoneArns).
        :param route53_role_arns: roles in other accounts the function may assume, besides
            the ``route53_role_arn`` of the certificates that use it (added
            automatically). None: no role may be assumed (Route53RoleArns).
        :param log_retention_days: how long both log groups keep their logs, one of the
            values CloudWatch Logs allows (1, 3, 5, 7, 14, 30, 60, 90, ... 3653; the
            template's LogRetentionInDays).
        :param log_encryption_key: a KMS key for both log groups; its policy must let
            CloudWatch Logs use it (LogKmsKeyArn). Default: CloudWatch Logs' own keys.
        :param reserved_concurrency: executions reserved for the function, which is also
            how many certificates can wait at once (ReservedConcurrency). Default: none.
        :param alarm_enabled: create the alarm for last-resort answers and failed hops.
        :param alarm_topic: the SNS topic that alarm notifies (AlarmTopicArn).
        :param log_level: DEBUG, INFO, WARNING or ERROR (LogLevel).
        :param wait_for_role_arns: roles a ``Custom::WaitFor`` may name in its RoleArn,
            besides the ``role_arn`` of the ``WaitFor``s that use this provider (added
            automatically). None: no role may be assumed (WaitForRoleArns).
        :param wait_for_policy_arns: managed policies of the role the provider assumes for
            a ``Custom::WaitFor`` without RoleArn (WaitForPolicyArns). None: no such role.
        """
        super().__init__(scope, id)
        self._lists = {
            "HostedZoneArns": _Collected([zone.hosted_zone_arn for zone in hosted_zones]),
            "Route53RoleArns": _Collected(route53_role_arns),
            "WaitForRoleArns": _Collected(wait_for_role_arns),
        }
        """The template's lists that the resources using this provider add to: they stay
        parameters of the included template, filled in at synthesis."""
        options: dict[str, Any] = {
            "LogRetentionInDays": log_retention_days,
            "LogKmsKeyArn": log_encryption_key.key_arn if log_encryption_key else "",
            "ReservedConcurrency": "" if reserved_concurrency is None else reserved_concurrency,
            "AlarmEnabled": "true" if alarm_enabled else "false",
            "AlarmTopicArn": alarm_topic.topic_arn if alarm_topic else "",
            "WaitForPolicyArns": list(wait_for_policy_arns),
        }
        path = BUILD_DIR / f"provider-{self.node.addr}.json"
        applied = write_applied(TEMPLATE, options, path)
        self.template = cfn_include.CfnInclude(
            self,
            "Template",
            template_file=str(path),
            preserve_logical_ids=False,
            parameters={
                **{name: Lazy.list(values) for name, values in self._lists.items()},
                "LogLevel": log_level,  # also in a Fn::Sub, which CfnInclude substitutes
            },
        )
        for name, expression in applied.get("Conditions", {}).items():
            if refs(expression) and refs(expression) <= set(self._lists):
                condition = self.template.get_condition(name)
                condition.expression = Lazy.any(_Condition(expression, self._lists))
        code = s3_assets.Asset(self, "Code", path=str(function_zip()))
        self.functions = [
            self._with_code(logical_id, code) for logical_id in _functions(self.template)
        ]
        # What `make release` writes into the template it ships: a new package hash changes
        # the function version's Description, so each deploy of new code publishes a new
        # version and moves the ServiceToken's alias to it.
        release = self.template.get_mapping("Release")
        release.set_value("Provider", "Version", version.provider_version())
        release.set_value("Provider", "CodeSha256", code.asset_hash)
        output = self.template.get_output(SERVICE_TOKEN_OUTPUT)
        output.export_name = None  # the stack's own: nothing to export, nothing to lock
        self.service_token: str = Token.as_string(output.value)
        """What certificates set as their ServiceToken."""

    @classmethod
    def of(cls, scope: Construct) -> WaitForCertificateProvider:
        """The provider of ``scope``'s stack, created on first use."""
        stack = Stack.of(scope)
        found = stack.node.try_find_child(SINGLETON_ID)
        if found is None:
            return cls(stack, SINGLETON_ID)
        if not isinstance(found, WaitForCertificateProvider):
            raise TypeError(f"{stack.node.path}/{SINGLETON_ID} is not a WaitForCertificateProvider")
        return found

    def allow_hosted_zone(self, hosted_zone_id: str) -> None:
        """Let the function write validation records into this zone of its account."""
        arn = Stack.of(self).format_arn(
            service="route53",
            region="",
            account="",
            resource="hostedzone",
            resource_name=hosted_zone_id.removeprefix("/hostedzone/"),
        )
        self._lists["HostedZoneArns"].add(arn)

    def allow_route53_role(self, role_arn: str) -> None:
        """Let the function assume this role (of another account) for its zones there."""
        self._lists["Route53RoleArns"].add(role_arn)

    def allow_wait_for_role(self, role_arn: str) -> None:
        """Let the function assume this role for the calls of a ``Custom::WaitFor``."""
        self._lists["WaitForRoleArns"].add(role_arn)

    def _with_code(self, logical_id: str, code: s3_assets.Asset) -> lambda_.CfnFunction:
        function = self.template.get_resource(logical_id)
        assert isinstance(function, lambda_.CfnFunction)
        function.code = lambda_.CfnFunction.CodeProperty(
            s3_bucket=code.s3_bucket_name, s3_key=code.s3_object_key
        )
        return function


def _functions(template: cfn_include.CfnInclude) -> list[str]:
    """Every function of the template, by its logical id there."""
    outputs = template.node.try_find_child("$Outputs")
    return [
        child.node.id
        for child in template.node.children
        if child is not outputs and getattr(child, "cfn_resource_type", None) == FUNCTION_TYPE
    ]


__all__ = ["SERVICE_TOKEN_OUTPUT", "SINGLETON_ID", "WaitForCertificateProvider"]
