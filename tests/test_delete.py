"""Delete and the rollback sequences CloudFormation really sends."""

from __future__ import annotations

from tests.conftest import World, make_event
from tests.lifecycle_helpers import crash_once, create, delete_event, deliver_until_done


def test_an_id_that_is_not_a_certificate_arn_succeeds_without_aws_calls(world: World) -> None:
    calls = len(world.calls)
    world.lam.run(delete_event("demo-Certificate-1AB2C3D4", {"DomainName": "example.com"}))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == "demo-Certificate-1AB2C3D4"
    assert world.calls[calls:] == []


def test_deletes_the_certificate(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    world.lam.run(delete_event(arn, props))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == arn
    assert world.certificates() == []


def test_certificate_already_gone_succeeds(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    world.acm().delete_certificate(CertificateArn=arn)
    world.lam.run(delete_event(arn, props))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == arn


def test_deleted_in_its_own_region(world: World) -> None:
    arn, props = create(world, DomainName="cdn.example.com", Region="us-east-1")
    assert world.certificates("us-east-1")
    world.lam.run(delete_event(arn, props))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.certificates("us-east-1") == []


def test_in_use_certificate_is_retried_across_hops_until_released(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    distribution = "arn:aws:cloudfront::123456789012:distribution/E1ABCDEF"
    world.in_use(arn, [distribution])
    world.release_after(world.clock.elapsed + 25 * 60, arn)

    invocations = world.lam.run(delete_event(arn, props))

    assert len(invocations) >= 2, "the wait spanned at least one re-invocation"
    assert world.sink.last["Status"] == "SUCCESS"
    assert world.certificates() == []
    assert world.calls_to("acm.DeleteCertificate") > 2


def test_in_use_until_the_deadline_fails_naming_the_users(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    users = [
        "arn:aws:cloudfront::123456789012:distribution/E1ABCDEF",
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/1",
    ]
    world.in_use(arn, users)
    started = world.clock.now

    world.lam.run(delete_event(arn, {**props, "ServiceTimeout": "900"}))

    body = world.sink.last
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == arn
    assert all(user in body["Reason"] for user in users)
    assert world.sink.times[-1] - started < 900
    assert len(world.certificates()) == 1


def test_rollback_after_failed_create_with_certificate_removes_it(world: World) -> None:
    world.clock.at(60, lambda: world.set_status("FAILED", reason="CAA_ERROR"))
    create_event = make_event(DomainName="example.com")
    world.lam.run(create_event)
    failed = world.sink.last
    assert failed["Status"] == "FAILED"

    world.lam.run(delete_event(failed["PhysicalResourceId"], create_event["ResourceProperties"]))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.certificates() == []


def test_rollback_after_create_failed_before_any_certificate(world: World) -> None:
    create_event = make_event(DomainName="not a domain")
    world.lam.run(create_event)
    failed = world.sink.last
    assert failed["Status"] == "FAILED" and world.certificates() == []
    calls = len(world.calls)

    world.lam.run(delete_event(failed["PhysicalResourceId"], create_event["ResourceProperties"]))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == failed["PhysicalResourceId"]
    assert world.calls[calls:] == []


def test_validation_records_are_kept_by_default(world: World) -> None:
    zone = world.hosted_zone()
    arn, props = create(world, DomainName="example.com", HostedZoneId=zone)
    world.lam.run(delete_event(arn, props))

    assert world.certificates() == []
    assert len(world.records(zone)) == 1


def test_opt_in_removes_records_no_other_certificate_uses(world: World) -> None:
    zone = world.hosted_zone()
    arn, props = create(
        world,
        DomainName="example.com",
        SubjectAlternativeNames=["*.example.com", "www.example.com"],
        HostedZoneId=zone,
        RemoveValidationRecords="true",
    )
    world.acm().request_certificate(DomainName="www.example.com", ValidationMethod="DNS")
    assert len(world.records(zone)) == 2

    world.lam.run(delete_event(arn, props))

    assert world.sink.last["Status"] == "SUCCESS"
    assert [r["Name"] for r in world.records(zone)] == [
        "_d930b28be6c5927595552b219965053e.www.example.com."
    ], "the record shared with the other www certificate is kept"


def test_opt_in_removal_waits_for_release_first(world: World) -> None:
    zone = world.hosted_zone()
    arn, props = create(
        world, DomainName="example.com", HostedZoneId=zone, RemoveValidationRecords="true"
    )
    world.in_use(arn, ["arn:aws:cloudfront::123456789012:distribution/E1"])
    world.release_after(world.clock.elapsed + 20 * 60, arn)

    world.lam.run(delete_event(arn, props))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.certificates() == [] and world.records(zone) == []


def test_a_delete_retried_after_deleting_its_certificate_still_removes_the_records(
    world: World,
) -> None:
    """The invocation died right after DeleteCertificate; Lambda's retry finds the
    certificate gone, so ACM cannot name its records any more: the zone does."""
    zone = world.hosted_zone()
    unrelated = {
        "Name": "_0123456789abcdef0123456789abcdef.other.example.com.",
        "Type": "CNAME",
        "TTL": 300,
        "ResourceRecords": [{"Value": "_x.acm-validations.aws."}],
    }
    world.route53().change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": unrelated}]},
    )
    arn, props = create(
        world,
        DomainName="example.com",
        SubjectAlternativeNames=["*.example.com"],
        HostedZoneId=zone,
        RemoveValidationRecords="true",
    )
    assert len(world.records(zone)) == 2
    crash_once(world, "acm.DeleteCertificate", after=True)

    assert deliver_until_done(world, delete_event(arn, props)) == 1

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.certificates() == []
    assert [r["Name"] for r in world.records(zone)] == [unrelated["Name"]], (
        "only the record of this certificate's names goes"
    )
