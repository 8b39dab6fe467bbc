"""Plays CloudFormation against the emulation: deploy the real templates, send requests.

Stacks are created through moto's CloudFormation (which sends the Create itself). moto
sends no Update or Delete to a custom resource, so those are built here exactly as
CloudFormation builds them and delivered the way it delivers them: an asynchronous
(``Event``) invocation through Lambda's Invoke API, with a ResponseURL of the local
``ResponseRecorder``. Waiting for an answer is waiting on the virtual clock, up to the
resource's ServiceTimeout as CloudFormation does.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from moto.cloudformation.parsing import get_model_map

from release import build_zip
from tools.emulator import VirtualClock, load_template

from .moto_server import Emulation
from .responses import ResponseRecorder
from .timeline import Timeline, short_arn

ARTIFACT_BUCKET = "wait-for-certificate-artifacts"
ARTIFACT_KEY = "wait-for-certificate.zip"
IN_PROGRESS = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})


def unemulated_types(template: dict[str, Any]) -> list[str]:
    """Resource types moto's CloudFormation skips (they exist in AWS, not here)."""
    types = {r["Type"] for r in template.get("Resources", {}).values()}
    return sorted(t for t in types if not t.startswith("Custom::") and t not in get_model_map())


def function_package() -> bytes:
    """The function's zip as ``make build`` makes it (what ``aws cloudformation package``
    uploads), from this environment's crhelper: no network."""
    with tempfile.TemporaryDirectory(prefix="wfc-demo-") as folder:
        return build_zip.build(Path(folder) / ARTIFACT_KEY, from_environment=True).read_bytes()


class StackDriver:
    def __init__(
        self,
        emulation: Emulation,
        recorder: ResponseRecorder,
        timeline: Timeline,
        clock: VirtualClock,
    ) -> None:
        self.emulation = emulation
        self.recorder = recorder
        self.timeline = timeline
        self.clock = clock
        session = emulation.session()
        self.cloudformation = session.client("cloudformation")
        self.lambda_ = session.client("lambda")
        self.s3 = session.client("s3")
        self.acm = session.client("acm")
        self.route53 = session.client("route53")

    def note(self, what: str, status: str = "", request_type: str = "stack") -> None:
        self.timeline.add(request_type, None, status, what, "stack")

    # Stacks, through moto's CloudFormation.

    def deploy_provider(self, template_path: Path, stack_name: str) -> str:
        """Package and deploy the provider template; return its exported ServiceToken."""
        template = load_template(template_path)
        self.s3.create_bucket(Bucket=ARTIFACT_BUCKET)
        self.s3.put_object(Bucket=ARTIFACT_BUCKET, Key=ARTIFACT_KEY, Body=function_package())
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Lambda::Function" and isinstance(
                resource["Properties"].get("Code"), str
            ):
                resource["Properties"]["Code"] = {
                    "S3Bucket": ARTIFACT_BUCKET,
                    "S3Key": ARTIFACT_KEY,
                }
        stack_id = self.cloudformation.create_stack(
            StackName=stack_name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"]
        )["StackId"]
        status = self.stack_status(stack_id)
        if status != "CREATE_COMPLETE":
            raise RuntimeError(f"provider stack {stack_name} is {status}")
        exports = {
            e["Name"]: e["Value"] for e in self.cloudformation.list_exports().get("Exports", [])
        }
        token = exports.get(f"{stack_name}-ServiceToken")
        if not token:
            raise RuntimeError(f"provider stack {stack_name} exports no {stack_name}-ServiceToken")
        self.note(f"provider stack {stack_name} deployed, ServiceToken {token}", status)
        skipped = unemulated_types(template)
        if skipped:
            self.note("not emulated by moto, skipped: " + ", ".join(skipped), status)
        return str(token)

    def create_stack(self, template_path: Path, stack_name: str, parameters: dict[str, str]) -> str:
        stack_id: str = self.cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(load_template(template_path)),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )["StackId"]
        self.note(f"create_stack {stack_name}", self.stack_status(stack_id))
        return stack_id

    def stack_status(self, stack_id: str) -> str:
        """Through ListStacks: moto's DescribeStacks re-creates the resources of a deleted
        stack whose outputs it has not resolved yet (a custom resource: a new Create)."""
        for page in self.cloudformation.get_paginator("list_stacks").paginate():
            for summary in page["StackSummaries"]:
                if summary["StackId"] == stack_id:
                    return str(summary["StackStatus"])
        raise KeyError(f"no stack {stack_id}")

    def outputs(self, stack_id: str) -> dict[str, str]:
        [stack] = self.cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def wait_stack(self, stack_id: str, timeout: float) -> str:
        """Wait (virtual time) while the stack is being created; return its status then."""
        stack = self.emulation.stack(stack_id)
        self.clock.wait_until(lambda: stack.status not in IN_PROGRESS, timeout)
        status = self.stack_status(stack_id)
        self.note(f"stack {stack_id.split('/')[1]} is {status}", status)
        return status

    def delete_stack(self, stack_id: str) -> str:
        self.cloudformation.delete_stack(StackName=stack_id)
        status = self.stack_status(stack_id)
        self.note(f"delete_stack {stack_id.split('/')[1]}", status)
        return status

    # Requests CloudFormation would send, delivered as it delivers them.

    def request(
        self,
        request_type: str,
        create: dict[str, Any],
        physical_id: str,
        properties: dict[str, Any],
        old_properties: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An Update or Delete of the resource whose Create request was ``create``."""
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": create["ServiceToken"],
            "ResponseURL": self.recorder.url_for(request_id, self.clock()),
            "StackId": create["StackId"],
            "RequestId": request_id,
            "LogicalResourceId": create["LogicalResourceId"],
            "PhysicalResourceId": physical_id,
            "ResourceType": create["ResourceType"],
            "ResourceProperties": properties,
        }
        if old_properties is not None:
            event["OldResourceProperties"] = old_properties
        return event

    def send(self, event: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Invoke the function asynchronously with ``event``; wait (virtual time, at most
        ``timeout``) for its response."""
        self.note(
            f"CloudFormation sends {event['RequestType']} for "
            f"{short_arn(event['PhysicalResourceId'])} (asynchronous invoke)",
            request_type=event["RequestType"],
        )
        answer = self.lambda_.invoke(
            FunctionName=event["ServiceToken"],
            InvocationType="Event",
            Payload=json.dumps(event).encode(),
        )
        if answer["StatusCode"] != 202:
            raise RuntimeError(f"Lambda answered {answer['StatusCode']} to an Event invoke")
        key = event["RequestId"]
        self.clock.wait_until(lambda: self.recorder.response(key) is not None, timeout)
        return self.recorder.response(key)

    def hosted_zone(self, name: str) -> str:
        zone = self.route53.create_hosted_zone(Name=name, CallerReference=str(uuid.uuid4()))
        return str(zone["HostedZone"]["Id"]).removeprefix("/hostedzone/")

    def tags(self, arn: str) -> dict[str, str]:
        tags = self.acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
        return {t["Key"]: t.get("Value", "") for t in tags}
