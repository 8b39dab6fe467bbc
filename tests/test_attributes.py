"""Validation records as attributes, and CertificateExport."""

from __future__ import annotations

import json

from custom_resource.certificates.certificate import certificate_data
from custom_resource.request import parse_request
from custom_resource.response import KEPT_LONGEST, MAX_BODY_BYTES, Response, build_body
from tests.conftest import World, make_event
from tests.lifecycle_helpers import create, update_event

REQUEST = parse_request(make_event(DomainName="example.com"))


def records_of(world: World, arn: str) -> dict[str, dict[str, str]]:
    described = world.acm().describe_certificate(CertificateArn=arn)["Certificate"]
    return {o["DomainName"]: o["ResourceRecord"] for o in described["DomainValidationOptions"]}


def test_the_records_are_attributes(world: World) -> None:
    arn, _ = create(world, DomainName="example.com", SubjectAlternativeNames=["www.example.com"])

    data = world.sink.last["Data"]
    records = records_of(world, arn)
    primary = records["example.com"]
    assert (data["ValidationRecordName"], data["ValidationRecordType"]) == (
        primary["Name"],
        primary["Type"],
    )
    assert data["ValidationRecordValue"] == primary["Value"]
    listed = json.loads(data["ValidationRecords"])
    assert {r["DomainName"]: r["Name"] for r in listed} == {
        name: r["Name"] for name, r in records.items()
    }
    assert " " not in data["ValidationRecords"], "compact JSON"


def described(names: list[str]) -> dict[str, object]:
    """A DescribeCertificate answer for ``names``, records shaped as ACM writes them."""

    def record(i: int, name: str) -> dict[str, str]:
        token = f"{i:032x}"
        return {
            "Name": f"_{token}.{name}.",
            "Type": "CNAME",
            "Value": f"_{token[::-1]}.zfyfvmchrl.acm-validations.aws.",
        }

    return {
        "DomainValidationOptions": [
            {"DomainName": name, "ResourceRecord": record(i, name)} for i, name in enumerate(names)
        ]
    }


def test_with_100_names_the_response_fits_and_keeps_the_most_useful() -> None:
    names = ["example.com", *(f"name-{i:03d}.example.com" for i in range(99))]
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/" + "0" * 36
    data = certificate_data(arn, "example.com", described(names))
    assert len(json.loads(data["ValidationRecords"])) == 100

    body = json.loads(build_body(REQUEST, Response("SUCCESS", arn, data=data)))

    assert len(build_body(REQUEST, Response("SUCCESS", arn, data=data))) <= MAX_BODY_BYTES
    assert set(body["Data"]) == set(KEPT_LONGEST), "only ValidationRecords is dropped"
    assert body["Data"]["ValidationRecordName"] == data["ValidationRecordName"]


def test_a_create_with_100_names_answers_within_the_limit(world: World) -> None:
    world.lift_san_quota()
    sans = [f"name-{i:03d}.example.com" for i in range(99)]

    arn, _ = create(world, DomainName="example.com", SubjectAlternativeNames=sans)

    body = world.sink.last  # the sink refuses a body over 4096 bytes
    assert len(records_of(world, arn)) == 100
    assert set(body["Data"]) == set(KEPT_LONGEST)
    assert body["Data"]["ValidationRecordName"] == records_of(world, arn)["example.com"]["Name"]


def test_with_10_names_every_attribute_fits(world: World) -> None:
    sans = [f"name-{i}.example.com" for i in range(9)]

    create(world, DomainName="example.com", SubjectAlternativeNames=sans)

    data = world.sink.last["Data"]
    assert len(json.loads(data["ValidationRecords"])) == 10


def test_export_is_requested(world: World) -> None:
    arn, _ = create(world, DomainName="example.com", CertificateExport="ENABLED")

    assert world.requested[arn]["Options"] == {"Export": "ENABLED"}


def test_enabling_export_replaces_the_certificate(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    world.issue_after(world.clock.elapsed + 30)

    world.lam.run(update_event(arn, props, CertificateExport="ENABLED"))

    new = world.sink.last["PhysicalResourceId"]
    assert world.sink.last["Status"] == "SUCCESS" and new != arn
    assert world.requested[new]["Options"] == {"Export": "ENABLED"}


def test_disabling_export_replaces_the_certificate(world: World) -> None:
    arn, props = create(world, DomainName="example.com", CertificateExport="ENABLED")
    world.issue_after(world.clock.elapsed + 30)

    world.lam.run(update_event(arn, props, CertificateExport="DISABLED"))

    new = world.sink.last["PhysicalResourceId"]
    assert world.sink.last["Status"] == "SUCCESS" and new != arn
    assert "Options" not in world.requested[new] or world.requested[new]["Options"] == {
        "Export": "DISABLED"
    }


def test_an_unchanged_export_keeps_the_certificate(world: World) -> None:
    arn, props = create(world, DomainName="example.com", CertificateExport="ENABLED")

    world.lam.run(update_event(arn, props, Tags=[{"Key": "team", "Value": "web"}]))

    assert world.sink.last["PhysicalResourceId"] == arn
    assert world.calls_to("acm.RequestCertificate") == 1


def test_disabled_is_the_default(world: World) -> None:
    arn, props = create(world, DomainName="example.com")

    world.lam.run(update_event(arn, props, CertificateExport="DISABLED"))

    assert world.sink.last["PhysicalResourceId"] == arn
    assert world.calls_to("acm.RequestCertificate") == 1


def test_email_validation_has_no_record_attributes(world: World) -> None:
    world.issue_after(30)
    world.lam.run(make_event(DomainName="example.com", ValidationMethod="EMAIL"))

    data = world.sink.last["Data"]
    assert "ValidationRecordName" not in data and "ValidationRecords" not in data


def test_the_primary_record_outlives_larger_attributes() -> None:
    data = {
        "Arn": "arn:x",
        "ValidationRecordName": "n" * 1300,
        "ValidationRecordValue": "v" * 1300,
        "DomainName": "d" * 1400,
        "Other": "o" * 900,
    }

    body = json.loads(build_body(REQUEST, Response("SUCCESS", "arn:x", data=data)))

    assert set(body["Data"]) == {"Arn", "ValidationRecordName", "ValidationRecordValue"}
