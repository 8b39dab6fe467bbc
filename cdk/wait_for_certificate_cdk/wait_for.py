"""WaitFor: a Custom::WaitFor resource (any botocore waiter, or your own acceptors) with
typed keywords, served by the same provider as WaitForCertificate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import CfnWaitConditionHandle, Duration, Token
from constructs import Construct

from ._resource import ProviderResource
from ._sources import waiter_properties
from ._values import checkable, checkable_all, seconds
from .provider import WaitForCertificateProvider

RESOURCE_TYPE: str = waiter_properties.RESOURCE_TYPE


@dataclass(frozen=True)
class Acceptor:
    """One acceptor in the format of botocore's waiters-2.json: the first that matches a
    poll's response decides (``success`` ends the wait, ``failure`` fails it)."""

    state: Literal["success", "failure", "retry"]
    matcher: Literal["path", "pathAll", "pathAny", "status", "error"]
    expected: str | int | bool
    """Compared as the handler types it: ``True``/``200`` as the boolean/number; a string
    that looks like one (``"true"``, ``"200"``) only in double quotes: ``'"true"'``."""
    argument: str | None = None
    """The JMESPath expression, for the path matchers only."""

    def as_property(self) -> dict[str, Any]:
        entry = {
            "State": self.state,
            "Matcher": self.matcher,
            "Argument": self.argument,
            "Expected": self.expected,
        }
        return {key: value for key, value in entry.items() if value is not None}


class WaitFor(ProviderResource):
    """Keeps the stack waiting until a condition holds, as a botocore waiter describes it:
    an S3 object exists, an ECS service is stable, a distribution is deployed...

    Like ``WaitForCertificate``: values known at synthesis are checked with the handler's
    own ``parse_wait_for`` (waiter, operation and parameter names against botocore's
    models), so a mistake fails ``cdk synth`` with the deployment's message; the stack's
    provider is shared with its certificates, or pass ``service_token``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: str,
        waiter: str | None = None,
        operation: str | None = None,
        acceptors: Sequence[Acceptor | Mapping[str, Any]] | None = None,
        parameters: Mapping[str, Any] | None = None,
        delay: Duration | int | None = None,
        region: str | None = None,
        role_arn: str | None = None,
        role_external_id: str | None = None,
        outputs: Mapping[str, str] | None = None,
        allow_write_operation: bool | None = None,
        service_timeout: Duration | None = None,
        wait_condition_handle: CfnWaitConditionHandle | None = None,
        wait_timeout: Duration | None = None,
        service_token: str | None = None,
        provider: WaitForCertificateProvider | None = None,
    ) -> None:
        """
        :param service: a boto3 service name (``Service``): ``s3``, ``ecs``, ...
        :param waiter: one of its botocore waiters (``Waiter``), ``ObjectExists`` or
            ``object_exists``; or give ``operation`` and ``acceptors``.
        :param operation: the operation your acceptors judge (``Operation``).
        :param acceptors: 1 to 20 acceptors (``Acceptors``), at least one ``success``:
            ``Acceptor``s, or dicts with botocore's keys.
        :param parameters: the operation's parameters (``Parameters``), checked against
            its input shape.
        :param delay: between polls (``Delay``), 1 to 300 seconds; a ``Duration`` or
            whole seconds. Default: the waiter's own (15 s with your acceptors).
        :param region: where to call the service (``Region``). Default: the provider's.
        :param role_arn: the role the provider assumes for the calls (``RoleArn``); the
            included provider is allowed to assume it (its ``wait_for_role_arns``, a token
            of the same app too). With ``service_token`` nothing is added: the role must
            be in that provider stack's WaitForRoleArns.
        :param role_external_id: its external id (``RoleExternalId``).
        :param outputs: ``{name: JMESPath}`` read from the response that succeeded
            (``Outputs``), up to 20; each is an attribute (``attribute(name)``).
        :param allow_write_operation: poll an operation that is not read-only
            (``AllowWriteOperation``). Default: refused.
        :param service_timeout: how long CloudFormation waits (``ServiceTimeout``),
            1 second to 1 hour (default).
        :param wait_condition_handle: 12-hour mode: the handle signalled at the end
            (``WaitConditionHandle``), with the outputs as its Data.
        :param wait_timeout: 12-hour mode: how long to keep waiting (``WaitTimeout``).
        :param service_token: an existing provider's ServiceToken: then no provider is
            included in this stack.
        :param provider: the included provider to use (default: the stack's own, shared
            with its certificates).
        """
        super().__init__(scope, id)
        raw: dict[str, Any] = {
            "Service": service,
            "Waiter": waiter,
            "Operation": operation,
            "Acceptors": (
                [a.as_property() if isinstance(a, Acceptor) else dict(a) for a in acceptors]
                if acceptors is not None
                else None
            ),
            "Parameters": dict(parameters) if parameters is not None else None,
            "Delay": seconds(delay) if isinstance(delay, Duration) else delay,
            "Region": region,
            "RoleArn": role_arn,
            "RoleExternalId": role_external_id,
            "Outputs": dict(outputs) if outputs is not None else None,
            "AllowWriteOperation": allow_write_operation,
            "WaitConditionHandle": wait_condition_handle.ref if wait_condition_handle else None,
            "WaitTimeout": seconds(wait_timeout),
        }
        raw = {key: value for key, value in raw.items() if value is not None}
        self.properties = check_wait_for({**raw, "ServiceTimeout": seconds(service_timeout)})
        """What the handler makes of the properties (tokens stood in for)."""
        self._outputs = None if Token.is_unresolved(outputs) else set(outputs or ())

        self._add_resource(
            RESOURCE_TYPE,
            raw,
            service_token=service_token,
            provider=provider,
            service_timeout=service_timeout,
        )
        if self.provider is not None and role_arn:
            self.provider.allow_wait_for_role(role_arn)
        self.ref: str = self.resource.ref
        """The PhysicalResourceId (``WaitFor:<service>:<waiter or operation>:<digest>``)."""

    def attribute(self, name: str) -> str:
        """The value ``outputs[name]`` read (``Fn::GetAtt``): a string as is, anything
        else as compact JSON, nothing found as an empty string."""
        if self._outputs is not None and name not in self._outputs:
            declared = ", ".join(sorted(self._outputs)) or "none"
            raise ValueError(f"{name!r} is not one of this WaitFor's outputs ({declared})")
        return self.resource.get_att_string(name)

    def get_att(self, name: str) -> str:
        """``attribute(name)``, under the name CloudFormation gives it."""
        return self.attribute(name)


def check_wait_for(raw: Mapping[str, Any]) -> waiter_properties.WaitForProperties:
    """The handler's ``parse_wait_for`` on what CloudFormation will send, tokens stood in
    for by valid values; raises its ``PropertyError`` listing every problem.

    In ``Parameters`` a token's stand-in has the type botocore's model gives its member
    (``"true"`` for a boolean, ``[]`` for a list...): one stand-in for every type would
    fail some (``"1"`` is not a boolean)."""
    sent = checkable_all(raw)
    shape = waiter_properties.input_shape(sent) if "Parameters" in raw else None
    if shape is not None:
        sent["Parameters"] = _checkable_parameter("Parameters", raw["Parameters"], shape)
    return waiter_properties.parse_wait_for(sent)


_STAND_INS: dict[str, Any] = {"boolean": "true", "list": [], "map": {}}
"""A token's stand-in by its member's type in botocore's model; any other: ``"1"``
(a string, or a number as CloudFormation sends it)."""


def _checkable_parameter(key: str, value: Any, shape: Any) -> Any:
    """``value`` made checkable along ``shape``, a token stood in for by its type's value;
    where the value does not fit the shape, the handler says so (``checkable``)."""
    if Token.is_unresolved(value):
        return _stand_in(shape)
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {
            k: _checkable_parameter(k, v, members[k]) if k in members else checkable(k, v)
            for k, v in value.items()
        }
    if kind == "list" and isinstance(value, list):
        return [_checkable_parameter(key, v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _checkable_parameter(k, v, shape.value) for k, v in value.items()}
    return checkable(key, value)


def _stand_in(shape: Any) -> Any:
    if shape.type_name == "structure":  # what it requires, each stood in for in turn
        return {name: _stand_in(shape.members[name]) for name in shape.required_members}
    return _STAND_INS.get(shape.type_name, "1")
