"""The synthesized custom resource, sent through the handler on the local emulation."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from tests.cdk.apps import new_stack, service_token_output, site, template
from tests.conftest import World, make_event


def test_the_synthesized_certificate_is_issued_and_answered_success(world: World) -> None:
    zone_id = world.hosted_zone("example.com")
    stack = new_stack()
    certificates = site(stack, zone_id=zone_id)
    synthesized = template(stack)
    resources = synthesized["Resources"]
    resource = certificates["site"].resource.node.default_child
    assert isinstance(resource, cdk.CfnElement)
    site_id = stack.get_logical_id(resource)
    properties: dict[str, Any] = dict(resources[site_id]["Properties"])

    assert properties.pop("ServiceToken") == service_token_output(synthesized)
    world.issue_after(120, region="us-east-1")
    world.lam.run(make_event(**properties))  # the emulated function stands for that ARN

    [answer] = world.sink.bodies
    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    [cert] = world.certificates("us-east-1")
    assert cert.status == "ISSUED"
    assert answer["PhysicalResourceId"] == cert.arn
    described = world.acm("us-east-1").describe_certificate(CertificateArn=cert.arn)
    assert set(described["Certificate"]["SubjectAlternativeNames"]) == {
        "www.example.com",
        "example.com",
    }
    assert world.records(zone_id), "the validation records were written to the zone"
