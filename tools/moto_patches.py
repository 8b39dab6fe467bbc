"""Every change the local run makes to moto 5.2.1, in one place, undone on exit.

moto emulates the APIs but not the parts of AWS that act on their own; the patches
below supply exactly those parts and nothing else (see FACTS.md, "moto"):

1. ResponseURL host. moto builds a custom resource's ResponseURL from
   ``settings.moto_server_host()`` (``http://host.docker.internal``, for a Lambda
   container) and port 5000. Ours must reach the server on 127.0.0.1 and its real port.
2. Lambda runs code. Without Docker moto never runs a function: every invocation
   (CloudFormation's own, and the Invoke API, synchronous or ``Event``) is handed to the
   local runner instead. CloudFormation sends property values as strings; moto passes
   the template's raw values, so its requests are converted here.
3. CloudFormation hears FAILED, and ``Ref`` is the PhysicalResourceId. moto ignores a
   FAILED response (the stack would wait forever) and answers ``Ref`` with a name it
   made up. A FAILED Create now puts the stack in ROLLBACK_IN_PROGRESS (or CREATE_FAILED
   with rollback disabled); SUCCESS records the PhysicalResourceId the provider sent.
4. ACM failures. moto only ever turns a pending certificate ISSUED, keeps no
   FailureReason and never refuses DeleteCertificate. Here a certificate can be made to
   fail validation, carries its FailureReason, and DeleteCertificate raises
   ResourceInUseException while ``in_use_by`` is non-empty; a simulated user lets go
   lazily, on the first read after its release time (as moto issues certificates).
5. ``settings.ACM_VALIDATION_WAIT``: how long a certificate stays PENDING_VALIDATION.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from moto import settings
from moto.acm.models import AWSCertificateManagerBackend, CertBundle
from moto.awslambda.models import LambdaFunction
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.exceptions import AWSError
from moto.core.utils import utcnow

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
        validation_wait: float,
        fail_validation: str | None = None,
    ) -> None:
        self.port = port
        self.dispatch = dispatch
        self.validation_wait = validation_wait
        self.fail_validation = fail_validation
        """A FailureReason (e.g. CAA_ERROR): pending certificates fail instead of issuing."""
        self.cfn_requests: list[dict[str, Any]] = []
        """Every request moto's CloudFormation sent to a custom resource, in order."""
        self.cfn_responses: list[dict[str, Any]] = []
        """Every response body moto's CloudFormation received, in order."""
        self._release_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._saved: list[tuple[Any, str, Any]] = []

    def occupy(self, arn: str, users: list[str], seconds: float, backend: Any) -> None:
        """Mark a certificate in use by ``users`` until ``seconds`` from now."""
        backend.get_certificate(arn).in_use_by = list(users)
        with self._lock:
            self._release_at[arn] = time.monotonic() + seconds

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

        # 3. CloudFormation acts on FAILED and keeps the PhysicalResourceId.
        original_process = CloudFormationResponse.process_cfn_response

        def process_cfn_response(response: Any) -> Any:
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

        # 4. ACM: validation failure, FailureReason, in use.
        original_check, original_describe = CertBundle.check, CertBundle.describe
        original_delete = AWSCertificateManagerBackend.delete_certificate

        def check(cert: Any) -> None:
            waited = (utcnow() - cert.created_at).total_seconds()
            if (
                patches.fail_validation
                and cert.status == "PENDING_VALIDATION"
                and waited > settings.ACM_VALIDATION_WAIT
            ):
                cert.status, cert.failure_reason = "FAILED", patches.fail_validation
            original_check(cert)
            patches._release_if_due(cert)

        def describe(cert: Any) -> dict[str, Any]:
            described: dict[str, Any] = original_describe(cert)
            if getattr(cert, "failure_reason", None):
                described["Certificate"]["FailureReason"] = cert.failure_reason
            return described

        def delete_certificate(backend: Any, arn: str) -> None:
            cert = backend._certificates.get(arn)
            if cert is not None:
                patches._release_if_due(cert)
                if cert.in_use_by:
                    raise ResourceInUseError(f"Certificate {arn} is in use.")
            original_delete(backend, arn)

        self._set(CertBundle, "check", check)
        self._set(CertBundle, "describe", describe)
        self._set(AWSCertificateManagerBackend, "delete_certificate", delete_certificate)

        # 5. How long certificates stay pending.
        self._set(settings, "ACM_VALIDATION_WAIT", self.validation_wait)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._saved:
            owner, name, value = self._saved.pop()
            setattr(owner, name, value)

    def _set(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def _release_if_due(self, cert: Any) -> None:
        with self._lock:
            due = self._release_at.get(cert.arn)
            if due is not None and time.monotonic() >= due:
                cert.in_use_by = []
                del self._release_at[cert.arn]


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
