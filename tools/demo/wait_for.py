"""The demo's ``--wait-for`` story: a stack waits for an S3 object through Custom::WaitFor.

The provider is deployed as in the certificate story; then template/example-wait-for.yaml
is created with only its S3 wait switched on, and the object is uploaded
``--validation-minutes`` (virtual) later. The stack completes once the provider's
``s3`` ``ObjectExists`` waiter sees it, several hops after the Create; its Delete answers
at once.
"""

from __future__ import annotations

from typing import Any

from moto.s3.models import s3_backends

from .moto_server import ACCOUNT
from .options import ROOT, SERVICE_TIMEOUT
from .scenario import Scenario

EXAMPLE = ROOT / "template" / "example-wait-for.yaml"
BUCKET = "wait-for-demo-uploads"
KEY = "ready.flag"
BODY = b"ready"


class WaitForScenario(Scenario):
    """Deploy, create the WaitFor stack, see it complete after the upload, delete it."""

    def run(self) -> None:
        self.deploy_provider()
        if not self._ok():
            return
        create = self.create_wait_for_stack()
        if create is not None and self._ok():
            self.delete_wait_for_stack(create)

    def create_wait_for_stack(self) -> dict[str, Any] | None:
        minutes = self.options.validation_minutes
        expected = f"CREATE_COMPLETE once the object exists ({minutes:g} min)"
        with self.step("Create stack (Custom::WaitFor)", expected) as step:
            self.driver.s3.create_bucket(Bucket=BUCKET)
            self.clock.at(minutes * 60, _upload)
            self.driver.note(f"s3://{BUCKET}/{KEY} will be uploaded after {minutes:g} min")
            parameters = {
                "ProviderStackName": self.options.provider_stack,
                "BucketName": BUCKET,
                "ObjectKey": KEY,
            }
            stack_id = self.driver.create_stack(EXAMPLE, self.options.stack, parameters)
            started = self.clock.elapsed
            status = self.driver.wait_stack(stack_id, SERVICE_TIMEOUT)
            step.result = status
            request = next(
                (r for r in self.emulation.patches.cfn_requests if r["StackId"] == stack_id), None
            )
            if request is None:
                raise RuntimeError("moto's CloudFormation sent no Create")
            step.request_id = request["RequestId"]
            responses = [
                r
                for r in self.emulation.patches.cfn_responses
                if r.get("RequestId") == request["RequestId"]
            ]
            step.check(len(responses) == 1, f"{len(responses)} responses instead of exactly 1")
            response = responses[0] if responses else {}
            physical_id = str(response.get("PhysicalResourceId", ""))
            step.certificate = physical_id or None
            step.check(status == "CREATE_COMPLETE", f"stack is {status}")
            step.check(
                response.get("Status") == "SUCCESS",
                f"the response is not SUCCESS: {response.get('Reason')}",
            )
            step.check(
                physical_id.startswith("WaitFor:s3:ObjectExists:"),
                f"PhysicalResourceId {physical_id!r} does not say what was waited for",
            )
            waited = self.clock.elapsed - started
            step.check(waited >= minutes * 60, f"answered after {waited:.0f} s, before the upload")
            etag = self.driver.outputs(stack_id).get("ObjectETag")
            step.check(bool(etag), "output ObjectETag is empty")
            step.result = f"{status}, ETag {etag}"
            return {**request, "PhysicalResourceId": physical_id, "StackId": stack_id}

    def delete_wait_for_stack(self, create: dict[str, Any]) -> None:
        with self.step(
            "Delete stack (Custom::WaitFor)", "SUCCESS at once; DELETE_COMPLETE"
        ) as step:
            physical_id = create["PhysicalResourceId"]
            event = self.driver.request("Delete", create, physical_id, create["ResourceProperties"])
            response = self._send(step, event)
            step.check(response.get("Status") == "SUCCESS", "the response is not SUCCESS")
            step.check(
                response.get("PhysicalResourceId") == physical_id, "Delete changed the physical id"
            )
            status = self.driver.delete_stack(create["StackId"])
            step.result = f"{response.get('Status')}; {status}"
            step.check(status == "DELETE_COMPLETE", f"stack is {status}")
            backend = s3_backends[ACCOUNT]["global"]
            backend.delete_object(BUCKET, KEY)
            backend.delete_bucket(BUCKET)


def _upload() -> None:
    """The upload the stack waits for, straight into moto's S3 (no HTTP from the clock)."""
    s3_backends[ACCOUNT]["global"].put_object(BUCKET, KEY, BODY)
