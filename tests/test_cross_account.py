"""Cross-account DNS: records written with the credentials of an assumed role."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import boto3
import pytest

from tests.conftest import World, make_event

OTHER_ACCOUNT = "210987654321"
ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/dns-writer"


def other_account_route53(world: World) -> Any:
    creds = world.session.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="setup")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    ).client("route53", region_name="eu-west-1")


def test_records_are_written_in_another_account_through_the_role(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    route53 = other_account_route53(world)
    zone = route53.create_hosted_zone(Name="example.com", CallerReference=str(uuid.uuid4()))
    zone_id = zone["HostedZone"]["Id"].removeprefix("/hostedzone/")
    assumed: list[dict[str, Any]] = []
    world.hooks["sts.AssumeRole"] = lambda params: assumed.append(dict(params["body"]))
    world.issue_after(120)

    with caplog.at_level(logging.DEBUG):
        world.lam.run(
            make_event(
                DomainName="example.com",
                HostedZoneId=zone_id,
                Route53RoleArn=ROLE,
                Route53RoleExternalId="shared-secret",
            )
        )

    assert world.sink.last["Status"] == "SUCCESS"
    assert len(assumed) == 1
    assert assumed[0]["RoleArn"] == ROLE and assumed[0]["ExternalId"] == "shared-secret"
    sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert [r["Name"] for r in sets if r["Type"] == "CNAME"] == [
        "_d930b28be6c5927595552b219965053e.example.com."
    ]
    own = world.route53().list_hosted_zones()["HostedZones"]
    assert own == [], "the zone lives in the other account only"
    assert "shared-secret" not in json.dumps(world.sink.last)
    assert "shared-secret" not in caplog.text, "the external id is never logged"
    assert "SecretAccessKey" not in caplog.text


def test_per_name_role_from_domain_validation_options(world: World) -> None:
    route53 = other_account_route53(world)
    remote = route53.create_hosted_zone(Name="example.org", CallerReference=str(uuid.uuid4()))
    remote_id = remote["HostedZone"]["Id"].removeprefix("/hostedzone/")
    local_id = world.hosted_zone("example.com")
    world.issue_after(120)

    world.lam.run(
        make_event(
            DomainName="example.com",
            SubjectAlternativeNames=["example.org"],
            HostedZoneId=local_id,
            DomainValidationOptions=[
                {"DomainName": "example.org", "HostedZoneId": remote_id, "Route53RoleArn": ROLE}
            ],
        )
    )

    assert world.sink.last["Status"] == "SUCCESS"
    assert [r["Name"] for r in world.records(local_id)] == [
        "_d930b28be6c5927595552b219965053e.example.com."
    ]
    remote_sets = route53.list_resource_record_sets(HostedZoneId=remote_id)["ResourceRecordSets"]
    assert [r["Name"] for r in remote_sets if r["Type"] == "CNAME"] == [
        "_d930b28be6c5927595552b219965053e.example.org."
    ]
