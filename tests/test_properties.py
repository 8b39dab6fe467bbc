"""Property parsing: good input typed, bad input FAILED before any AWS call."""

from __future__ import annotations

from typing import Any

import pytest

from custom_resource import lifecycle
from custom_resource.certificates.properties import DnsTarget, parse_properties
from custom_resource.checks import PropertyError
from tests.conftest import FUNCTION_ARN, WAIT_HANDLE, World, make_event
from tests.lifecycle_helpers import create, delete_event

ZONE = "Z0123456789ABCDEFGHIJ"
ROLE = "arn:aws:iam::210987654321:role/dns-writer"


def parse(**props: Any) -> Any:
    return parse_properties({"ServiceToken": FUNCTION_ARN, **props})


def test_strings_are_parsed_into_typed_values() -> None:
    props = parse(
        DomainName="Example.COM",
        SubjectAlternativeNames=["www.example.com", "*.example.com", "www.example.com"],
        HostedZoneId=f"/hostedzone/{ZONE}",
        Region="us-east-1",
        KeyAlgorithm="EC_prime256v1",
        CertificateTransparencyLoggingPreference="DISABLED",
        Tags=[{"Key": "team", "Value": "web"}],
        ServiceTimeout="1800",
        RemoveValidationRecords="true",
    )
    assert props.domain_name == "example.com"
    assert props.subject_alternative_names == ("www.example.com", "*.example.com")
    assert props.names == ("example.com", "www.example.com", "*.example.com")
    assert props.target_for("*.example.com") == DnsTarget(ZONE)
    assert props.region == "us-east-1"
    assert props.key_algorithm == "EC_prime256v1"
    assert props.transparency == "DISABLED"
    assert props.tags == (("team", "web"),)
    assert props.service_timeout == 1800
    assert props.remove_validation_records is True


def test_defaults() -> None:
    props = parse(DomainName="example.com")
    assert props.validation_method == "DNS"
    assert props.key_algorithm == "RSA_2048"
    assert props.service_timeout == 3600
    assert props.dns_targets == () and props.region is None
    assert props.remove_validation_records is False


def test_per_name_zone_and_role_override_the_shorthand() -> None:
    props = parse(
        DomainName="example.com",
        SubjectAlternativeNames=["example.org"],
        HostedZoneId=ZONE,
        DomainValidationOptions=[
            {"DomainName": "example.org", "HostedZoneId": "ZORG", "Route53RoleArn": ROLE}
        ],
        Route53RoleExternalId="secret-id",
    )
    assert props.target_for("example.com") == DnsTarget(ZONE, None, "secret-id")
    assert props.target_for("example.org") == DnsTarget("ZORG", ROLE, "secret-id")


def test_partitions_other_than_aws_are_accepted() -> None:
    props = parse(
        ServiceToken="arn:aws-cn:lambda:cn-north-1:123456789012:function:wfc",
        DomainName="example.cn",
        CertificateAuthorityArn=(
            "arn:aws-us-gov:acm-pca:us-gov-west-1:123456789012:certificate-authority/abc-123"
        ),
    )
    assert props.certificate_authority_arn is not None


BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    ({"DomainName": None}, "DomainName: is required"),
    ({"DomainName": "localhost"}, "DomainName: 'localhost' is not a fully qualified"),
    ({"DomainName": "a" * 250 + ".com"}, "DomainName: must be 1 to 253 characters"),
    ({"DomainName": "example.com."}, "DomainName: 'example.com.' must not end with a dot"),
    ({"DomainName": "bad_name.example.com"}, "DomainName: 'bad_name.example.com' is not"),
    ({"DomainName": ["example.com"]}, "DomainName: must be a string, got list"),
    ({"Color": "blue"}, "Color: unknown property"),
    ({"SubjectAlternativeNames": "www.example.com"}, "SubjectAlternativeNames: must be a list"),
    ({"SubjectAlternativeNames": ["-x.example.com"]}, "SubjectAlternativeNames[0]: '-x.exam"),
    (
        {"SubjectAlternativeNames": [f"n{i}.example.com" for i in range(101)]},
        "SubjectAlternativeNames: has 101 entries; at most 100",
    ),
    ({"ValidationMethod": "HTTP"}, "ValidationMethod: 'HTTP' is not one of DNS, EMAIL"),
    ({"KeyAlgorithm": "RSA_4096"}, "KeyAlgorithm: 'RSA_4096' is not one of RSA_2048"),
    ({"Region": "Europe"}, "Region: 'Europe' is not an AWS region"),
    ({"HostedZoneId": "zone with spaces"}, "HostedZoneId: 'zone with spaces' is not a Route 53"),
    ({"ServiceTimeout": "7200"}, "ServiceTimeout: '7200' is not a whole number from 1 to 3600"),
    ({"ServiceTimeout": "ten"}, "ServiceTimeout: 'ten' is not a whole number"),
    (
        {"CertificateTransparencyLoggingPreference": "yes"},
        "CertificateTransparencyLoggingPreference: 'yes' is not one of ENABLED, DISABLED",
    ),
    ({"CertificateAuthorityArn": "my-ca"}, "CertificateAuthorityArn: must be 20 to 2048"),
    ({"Tags": [{"Key": "aws:owner", "Value": "x"}]}, "Tags[0].Key: 'aws:owner' starts with 'aws:'"),
    ({"Tags": [{"Key": "a", "Value": "1"}] * 2}, "Tags[1].Key: 'a' appears twice"),
    ({"Tags": [{"Key": f"k{i}", "Value": ""} for i in range(51)]}, "Tags: has 51 entries"),
    ({"Tags": [{"Name": "x"}]}, "Tags[0].Name: unknown key"),
    (
        {"DomainValidationOptions": [{"DomainName": "other.com", "HostedZoneId": "Z1"}]},
        "DomainValidationOptions[0].DomainName: 'other.com' is not the DomainName",
    ),
    ({"ValidationMethod": "EMAIL", "HostedZoneId": "Z1"}, "HostedZoneId: hosted zones are only"),
    ({"RemoveValidationRecords": "yes"}, "RemoveValidationRecords: 'yes' is not 'true' or"),
    ({"Route53RoleArn": "arn:aws:iam::1:user/x", "HostedZoneId": "Z1"}, "Route53RoleArn: 'arn"),
    ({"Route53RoleExternalId": "abc"}, "Route53RoleExternalId: is only used with Route53Role"),
    ({"ServiceToken": None}, "ServiceToken: is required"),
]


@pytest.mark.parametrize(("props", "expected"), BAD_INPUTS, ids=[e for _, e in BAD_INPUTS])
def test_bad_input_is_rejected_naming_the_property(props: dict[str, Any], expected: str) -> None:
    raw = {"ServiceToken": FUNCTION_ARN, "DomainName": "example.com", **props}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(PropertyError) as caught:
        parse_properties(raw)
    assert expected in str(caught.value)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(PropertyError) as caught:
        parse(DomainName="nodot", KeyAlgorithm="DSA", Region="mars")
    assert len(caught.value.problems) == 3


VIA_HANDLER = BAD_INPUTS[:18]


@pytest.mark.parametrize(("props", "expected"), VIA_HANDLER, ids=[e for _, e in VIA_HANDLER])
def test_bad_input_through_the_handler_fails_without_requesting(
    world: World, props: dict[str, Any], expected: str
) -> None:
    event = make_event(DomainName="example.com")
    event["ResourceProperties"].update(props)
    event["ResourceProperties"] = {
        k: v for k, v in event["ResourceProperties"].items() if v is not None
    }

    world.lam.run(event)

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert expected in body["Reason"]
    assert body["PhysicalResourceId"].startswith("Certificate-create-failed-")
    assert world.certificates() == [] and world.certificates("us-east-1") == []
    assert world.calls == [], "no AWS call is made for bad input"


def test_a_bad_external_id_is_not_echoed() -> None:
    with pytest.raises(PropertyError) as caught:
        parse(
            DomainName="example.com",
            HostedZoneId="Z1",
            Route53RoleArn=ROLE,
            Route53RoleExternalId="s3cret value!",
        )
    assert "Route53RoleExternalId: the value is not 2-1224 characters" in str(caught.value)
    assert "s3cret" not in str(caught.value)


NOT_WHOLE_NUMBERS = ["²", "①", "٣", "3600.0", "9" * 5000, " ", "-5", "0x10"]
"""Unicode digits that ``str.isdigit`` accepts but ``int`` refuses (or reads), and others."""


@pytest.mark.parametrize("key", ["ServiceTimeout", "WaitTimeout"])
@pytest.mark.parametrize("value", NOT_WHOLE_NUMBERS, ids=lambda v: repr(v[:8]))
def test_numbers_other_than_ascii_digits_are_rejected_naming_the_property(
    key: str, value: str
) -> None:
    with pytest.raises(PropertyError) as caught:
        parse(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE, **{key: value})
    [problem] = caught.value.problems
    assert problem.startswith(f"{key}: ") and "is not a whole number" in problem
    assert len(problem) < 200


def test_a_create_with_a_unicode_digit_timeout_fails_and_its_rollback_deletes(
    world: World,
) -> None:
    event = make_event(DomainName="example.com", WaitConditionHandle=WAIT_HANDLE, WaitTimeout="²")

    world.lam.run(event)
    failed = world.sink.last
    world.lam.run(delete_event(failed["PhysicalResourceId"], event["ResourceProperties"]))

    assert failed["Status"] == "FAILED" and failed["Reason"].startswith("Invalid properties: ")
    assert "WaitTimeout: '²' is not a whole number" in failed["Reason"]
    assert world.sink.last["Status"] == "SUCCESS", "the rollback Delete succeeds"
    assert world.certificates() == []


def test_a_delete_deletes_whatever_its_properties_raise(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = world.hosted_zone()
    arn, props = create(world, DomainName="example.com", HostedZoneId=zone)

    def broken(raw: Any) -> Any:
        raise RuntimeError("a parser bug")

    monkeypatch.setattr(lifecycle, "parse_properties", broken)
    world.lam.run(delete_event(arn, {**props, "RemoveValidationRecords": "true"}))

    assert world.sink.last == {**world.sink.last, "Status": "SUCCESS", "PhysicalResourceId": arn}
    assert world.certificates() == []
    assert len(world.records(zone)) == 1, "without properties, the records are kept"
