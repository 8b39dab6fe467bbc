"""Every change the local run makes to moto 5.2.1, in one place, undone on exit.

moto emulates the APIs but not the parts of AWS that act on their own; the patches
below supply exactly those parts and nothing else:

1. ResponseURL host. moto builds a custom resource's ResponseURL from
   ``settings.moto_server_host()`` (``http://host.docker.internal``, for a Lambda
   container) and port 5000. Ours must reach the server on 127.0.0.1 and its real port.
2. Lambda runs code. Without Docker moto never runs a function: every invocation
   (CloudFormation's own, and the Invoke API, synchronous or ``Event``) is handed to the
   emulator's Lambda instead. moto's CloudFormation invokes from a thread of its own; here
   that call is made inline, so the Create is accepted before ``create_stack`` returns
   (no race with the virtual clock). CloudFormation sends property values as strings;
   moto passes the template's raw values, so its requests are converted here.
3. CloudFormation hears FAILED, and ``Ref`` is the PhysicalResourceId. moto ignores a
   FAILED response (the stack would wait forever) and answers ``Ref`` with a name it
   made up. A FAILED Create now puts the stack in ROLLBACK_IN_PROGRESS (or CREATE_FAILED
   with rollback disabled); SUCCESS records the PhysicalResourceId the provider sent.
   Every response is checked against the protocol (``tools.emulator.protocol``).
4. ACM on the virtual clock. moto turns a certificate ISSUED after a real-time wait,
   keeps no FailureReason and never refuses DeleteCertificate. Here a certificate is
   validated (or fails, with its FailureReason) ``validation_wait`` virtual seconds after
   its request, and DeleteCertificate raises ResourceInUseException while ``in_use_by``
   is non-empty (``occupy`` lets go on the clock).
5. Versions and aliases in CloudFormation. moto publishes an ``AWS::Lambda::Version``
   but has no ``Version`` attribute for it, and no ``AWS::Lambda::Alias`` at all: here
   ``Fn::GetAtt <version>.Version`` is its number and an alias is created with
   CreateAlias (``Ref``: its ARN, the provider's ServiceToken).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import moto.cloudformation.custom_model
import moto.cloudformation.parsing
from moto import settings
from moto.acm.models import AWSCertificateManagerBackend, CertBundle
from moto.awslambda.models import LambdaFunction, LambdaVersion, lambda_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.exceptions import AWSError

from tools.emulator import ProtocolError, VirtualClock, check_put

Dispatch = Callable[[str, dict[str, Any], str], Any]
"""Runs a function: (function ARN, event, invocation type) -> its result (sync) or None."""


class ResourceInUseError(AWSError):
    TYPE = "ResourceInUseException"


class MotoPatches:
    """Apply the patches on ``__enter__`` and restore moto on ``__exit__``."""

    def __init__(
        self,
        port: int,
        dispatch: Dispatch,
        clock: VirtualClock,
        validation_wait: float,
        fail_validation: str | None = None,
    ) -> None:
        self.port = port
        self.dispatch = dispatch
        self.clock = clock
        self.validation_wait = validation_wait
        """Virtual seconds from a certificate's request to its validation."""
        self.fail_validation = fail_validation
        """A FailureReason (e.g. CAA_ERROR): pending certificates fail instead of issuing."""
        self.cfn_requests: list[dict[str, Any]] = []
        """Every request moto's CloudFormation sent to a custom resource, in order."""
        self.cfn_responses: list[dict[str, Any]] = []
        """Every response body moto's CloudFormation received, in order."""
        self.violations: list[str] = []
        """Responses CloudFormation would have rejected."""
        self._requested_at: dict[str, float] = {}
        self._saved: list[tuple[Any, str, Any]] = []

    def occupy(self, arn: str, users: list[str], seconds: float, backend: Any) -> None:
        """Mark a certificate in use by ``users`` for ``seconds`` of virtual time."""
        cert = backend.get_certificate(arn)
        cert.in_use_by = list(users)
        self.clock.at(self.clock.elapsed + seconds, lambda: setattr(cert, "in_use_by", []))

    def __enter__(self) -> MotoPatches:
        patches = self

        # 1. ResponseURL on loopback.
        self._set(settings, "moto_server_host", lambda: "http://127.0.0.1")
        self._set(settings, "moto_server_port", lambda: str(patches.port))

        # 2. Lambda invocations go to the local runner.
        def invoke(fn: Any, body: str, request_headers: Any, response_headers: Any) -> Any:
            event = json.loads(body) if body else {}
            from_cloudformation = isinstance(request_headers, dict) and not request_headers
            if from_cloudformation:  # moto's CustomModel calls fn.invoke(body, {}, {})
                kind = "Event"  # CloudFormation invokes custom resources asynchronously
                event["ResourceProperties"] = as_cloudformation_sends(
                    event.get("ResourceProperties", {})
                )
                patches.cfn_requests.append(event)
            else:
                kind = request_headers.get("X-Amz-Invocation-Type") or "RequestResponse"
            result = patches.dispatch(fn.function_arn, event, kind)
            return "" if kind == "Event" else json.dumps(result)

        self._set(LambdaFunction, "invoke", invoke)
        inline = SimpleNamespace(Thread=_InlineThread)
        self._set(moto.cloudformation.custom_model, "threading", inline)

        # 3. CloudFormation acts on FAILED and keeps the PhysicalResourceId.
        original_process = CloudFormationResponse.process_cfn_response

        def process_cfn_response(response: Any) -> Any:
            raw = response.body if isinstance(response.body, bytes) else response.body.encode()
            try:
                check_put(raw, response.headers.get("Content-Type"))
            except ProtocolError as exc:
                patches.violations.append(str(exc))
            body = json.loads(response.body or "{}")
            patches.cfn_responses.append(body)
            stack = response.cloudformation_backend.get_stack(body.get("StackId"))
            resource = stack.get_custom_resource(body.get("LogicalResourceId"))
            if body.get("Status") == "SUCCESS" and body.get("PhysicalResourceId"):
                resource.resource_name = body["PhysicalResourceId"]
                stack.output_map = stack._create_output_map()  # outputs are cached
            elif body.get("Status") == "FAILED" and stack.status == "CREATE_IN_PROGRESS":
                reason = f"{body.get('LogicalResourceId')}: {body.get('Reason')}"
                resource.resource_name = body.get("PhysicalResourceId") or resource.resource_name
                stack.status = "CREATE_FAILED" if stack.disable_rollback else "ROLLBACK_IN_PROGRESS"
                stack._add_stack_event(stack.status, resource_status_reason=reason)
                return 200, {"status": 200}, "{}"
            return original_process(response)

        self._set(CloudFormationResponse, "process_cfn_response", process_cfn_response)

        # 4. ACM on the virtual clock: validation or failure, FailureReason, in use.
        original_check, original_describe = CertBundle.check, CertBundle.describe
        original_request = AWSCertificateManagerBackend.request_certificate
        original_delete = AWSCertificateManagerBackend.delete_certificate

        def request_certificate(backend: Any, *args: Any, **kwargs: Any) -> str:
            arn: str = original_request(backend, *args, **kwargs)
            patches._requested_at.setdefault(arn, patches.clock.elapsed)
            return arn

        def check(cert: Any) -> None:
            requested = patches._requested_at.get(cert.arn, patches.clock.elapsed)
            due = patches.clock.elapsed - requested >= patches.validation_wait
            if cert.status == "PENDING_VALIDATION" and due:
                if patches.fail_validation:
                    cert.status, cert.failure_reason = "FAILED", patches.fail_validation
                else:
                    cert.status = "ISSUED"
            original_check(cert)

        def describe(cert: Any) -> dict[str, Any]:
            described: dict[str, Any] = original_describe(cert)
            if getattr(cert, "failure_reason", None):
                described["Certificate"]["FailureReason"] = cert.failure_reason
            return described

        def delete_certificate(backend: Any, arn: str) -> None:
            cert = backend._certificates.get(arn)
            if cert is not None and cert.in_use_by:
                raise ResourceInUseError(f"Certificate {arn} is in use.")
            original_delete(backend, arn)

        self._set(CertBundle, "check", check)
        self._set(CertBundle, "describe", describe)
        self._set(AWSCertificateManagerBackend, "request_certificate", request_certificate)
        self._set(AWSCertificateManagerBackend, "delete_certificate", delete_certificate)
        self._set(settings, "ACM_VALIDATION_WAIT", 10**9)  # moto's real-time issuing: never

        # 5. Versions and aliases in CloudFormation.
        self._set(LambdaVersion, "has_cfn_attr", classmethod(lambda cls, attr: attr == "Version"))
        self._set(LambdaVersion, "get_cfn_attribute", _version_attribute)
        models = moto.cloudformation.parsing.get_model_map
        self._set(
            moto.cloudformation.parsing,
            "get_model_map",
            lambda: {**models(), AliasModel.cloudformation_type(): AliasModel},
        )
        return self

    def __exit__(self, *exc: object) -> None:
        while self._saved:
            owner, name, value = self._saved.pop()
            if value is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, value)

    def _set(self, owner: Any, name: str, value: Any) -> None:
        """Set ``owner.name`` until ``__exit__`` (which removes it again if it was absent)."""
        self._saved.append((owner, name, vars(owner).get(name, _ABSENT)))
        setattr(owner, name, value)


_ABSENT = object()


def _version_attribute(version: LambdaVersion, name: str) -> str:
    if name != "Version":
        raise KeyError(f"AWS::Lambda::Version has no attribute {name} here")
    return str(version.version)


class AliasModel:
    """``AWS::Lambda::Alias`` for moto's CloudFormation: CreateAlias; ``Ref`` is its ARN."""

    def __init__(self, arn: str) -> None:
        self.physical_resource_id = arn

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> AliasModel:
        props = cloudformation_json["Properties"]
        alias = lambda_backends[account_id][region_name].create_alias(
            props["Name"],
            props["FunctionName"],
            str(props["FunctionVersion"]),
            props.get("Description", ""),
            None,  # type: ignore[arg-type]  # no routing configuration (moto's hint says str)
        )
        return cls(alias.arn)

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """The function's deletion takes its aliases with it."""


class _InlineThread:
    """moto's CloudFormation starts a thread to invoke a custom resource's function: run
    the call at once instead (an ``Event`` invoke only queues the event)."""

    def __init__(self, target: Callable[..., Any], args: tuple[Any, ...] = ()) -> None:
        self.target, self.args = target, args

    def start(self) -> None:
        self.target(*self.args)


def as_cloudformation_sends(value: Any) -> Any:
    """CloudFormation passes every property value to a custom resource as a string."""
    if isinstance(value, dict):
        return {k: as_cloudformation_sends(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_cloudformation_sends(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value
