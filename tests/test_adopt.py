"""Certificates requested before ownership tags: tagged for their stack on request, after
which the stack's own Delete removes them again."""

from __future__ import annotations

from typing import Any

from custom_resource.aws import Clients
from custom_resource.certificates.ownership import RESOURCE_TAG, STACK_TAG
from release.adopt_certificates import adopt
from tests.conftest import STACK_ID, World
from tests.lifecycle_helpers import delete_event


class Stack:
    """CloudFormation's view of a consumer stack: its resources and their physical ids."""

    def __init__(self, resources: list[tuple[str, str, str]]) -> None:
        self.resources = resources

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {"Stacks": [{"StackId": STACK_ID}]}

    def get_paginator(self, name: str) -> Stack:
        assert name == "list_stack_resources"
        return self

    def paginate(self, StackName: str) -> list[dict[str, Any]]:
        summaries = [
            {"LogicalResourceId": logical, "ResourceType": kind, "PhysicalResourceId": physical}
            for logical, kind, physical in self.resources
        ]
        return [
            {"StackResourceSummaries": summaries[:1]},
            {"StackResourceSummaries": summaries[1:]},
        ]


def tags(world: World, arn: str) -> dict[str, str]:
    listed = world.acm().list_tags_for_certificate(CertificateArn=arn)["Tags"]
    return {t["Key"]: t.get("Value", "") for t in listed}


def test_a_legacy_certificate_is_adopted_then_deleted_by_its_stack(world: World) -> None:
    legacy = world.acm().request_certificate(DomainName="example.com")["CertificateArn"]
    claimed = world.acm().request_certificate(
        DomainName="example.org", Tags=[{"Key": STACK_TAG, "Value": "another stack"}]
    )["CertificateArn"]
    stack = Stack(
        [
            ("Certificate", "Custom::WaitForCertificate", legacy),
            ("Other", "Custom::WaitForCertificate", claimed),
            ("Bucket", "AWS::S3::Bucket", "my-bucket"),
        ]
    )
    clients = Clients(world.session, "eu-west-1")
    said: list[str] = []

    assert adopt("demo", stack, clients, apply=False, say=said.append) == 1
    assert STACK_TAG not in tags(world, legacy)
    assert adopt("demo", stack, clients, apply=True, say=said.append) == 1

    assert tags(world, legacy) == {STACK_TAG: STACK_ID, RESOURCE_TAG: "Certificate"}
    assert tags(world, claimed) == {STACK_TAG: "another stack"}
    assert f"{claimed}: already tagged for another stack, left as it is" in said
    world.lam.run(delete_event(legacy, {"ServiceToken": "x", "DomainName": "example.com"}))
    assert world.sink.last["Status"] == "SUCCESS"
    assert [c.arn for c in world.certificates()] == [claimed]
