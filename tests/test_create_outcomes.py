"""Create: ACM failures, the deadline, and the Route 53 records."""

from __future__ import annotations

from typing import Any

import pytest
from moto.acm.models import CertBundle

from tests.conftest import World, make_event


@pytest.mark.parametrize(
    ("status", "reason"),
    [("FAILED", "CAA_ERROR"), ("VALIDATION_TIMED_OUT", None), ("REVOKED", None)],
)
def test_acm_terminal_status_sends_failed_with_reason_and_arn(
    world: World, status: str, reason: str | None
) -> None:
    world.clock.at(20 * 60, lambda: world.set_status(status, reason=reason))
    world.lam.run(make_event(DomainName="example.com"))

    [cert] = world.certificates()
    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == cert.arn
    assert status in body["Reason"]
    assert (reason or "no FailureReason given") in body["Reason"]


def test_deadline_sends_failed_before_service_timeout_naming_the_cname(world: World) -> None:
    invocations = world.lam.run(
        make_event(DomainName="example.com", SubjectAlternativeNames=["www.example.com"])
    )

    [cert] = world.certificates()
    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == cert.arn
    assert world.sink.times[0] - world.clock.start < 3600
    assert "still pending" in body["Reason"]
    assert "_d930b28be6c5927595552b219965053e.example.com." in body["Reason"]
    assert "_d930b28be6c5927595552b219965053e.www.example.com." in body["Reason"]
    assert "acm-validations.aws" in body["Reason"]
    assert len(invocations) <= 6


def test_short_service_timeout_shortens_the_deadline(world: World) -> None:
    invocations = world.lam.run(make_event(DomainName="example.com", ServiceTimeout="300"))

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED"
    assert 270 <= world.sink.times[0] - world.clock.start < 300
    assert len(invocations) == 1


def test_records_written_once_for_name_and_wildcard(world: World) -> None:
    zone = world.hosted_zone("example.com")
    world.issue_after(10 * 60)
    world.lam.run(
        make_event(
            DomainName="example.com",
            SubjectAlternativeNames=["*.example.com", "www.example.com"],
            HostedZoneId=zone,
        )
    )

    records = world.records(zone)
    names = sorted(r["Name"] for r in records)
    assert names == [
        "_d930b28be6c5927595552b219965053e.example.com.",
        "_d930b28be6c5927595552b219965053e.www.example.com.",
    ]
    assert all(r["ResourceRecords"][0]["Value"].endswith(".acm-validations.aws.") for r in records)
    assert world.sink.last["Status"] == "SUCCESS"


def test_per_name_zones_from_domain_validation_options(world: World) -> None:
    first = world.hosted_zone("example.com")
    second = world.hosted_zone("example.org")
    world.issue_after(60)
    world.lam.run(
        make_event(
            DomainName="example.com",
            SubjectAlternativeNames=["example.org"],
            DomainValidationOptions=[
                {"DomainName": "example.com", "HostedZoneId": first},
                {"DomainName": "example.org", "HostedZoneId": second},
            ],
        )
    )

    assert [r["Name"] for r in world.records(first)] == [
        "_d930b28be6c5927595552b219965053e.example.com."
    ]
    assert [r["Name"] for r in world.records(second)] == [
        "_d930b28be6c5927595552b219965053e.example.org."
    ]


def test_no_records_without_a_zone(world: World) -> None:
    zone = world.hosted_zone("example.com")
    world.issue_after(60)
    world.lam.run(make_event(DomainName="example.com"))

    assert world.records(zone) == []
    assert world.sink.last["Status"] == "SUCCESS"


def test_records_awaited_while_acm_has_not_published_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = world.hosted_zone("example.com")
    describe = CertBundle.describe

    def records_late(self: CertBundle) -> dict[str, Any]:
        described: dict[str, Any] = describe(self)
        if world.clock.elapsed < 20:
            for option in described["Certificate"]["DomainValidationOptions"]:
                option.pop("ResourceRecord")
        return described

    monkeypatch.setattr(CertBundle, "describe", records_late)
    world.issue_after(120)
    world.lam.run(make_event(DomainName="example.com", HostedZoneId=zone))

    assert len(world.certificates()) == 1
    assert len(world.records(zone)) == 1
    assert world.sink.last["Status"] == "SUCCESS"
