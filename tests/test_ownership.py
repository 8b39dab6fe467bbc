"""Ownership: the provider acts only on certificates it requested for the requesting stack,
and finds by their tags what a request left when no hop lived to name it."""

from __future__ import annotations

from typing import Any

from custom_resource.certificates.ownership import (
    REPLACES_TAG,
    REQUEST_TAG,
    RESOURCE_TAG,
    STACK_TAG,
    Owner,
    marker_token,
)
from custom_resource.certificates.properties import MAX_USER_TAGS
from custom_resource.lifecycle import physical_id_for
from custom_resource.progress import Failed
from custom_resource.request import RELAY_KEY, parse_request
from tests.conftest import STACK_ID, World, error_answer, make_event
from tests.lifecycle_helpers import (
    crash_once,
    create,
    delete_event,
    deliver_until_done,
    destination_record,
    update_event,
)
from tests.test_responder import answer, hop_payload


def all_tags(world: World, arn: str) -> dict[str, str]:
    listed = world.acm().list_tags_for_certificate(CertificateArn=arn)["Tags"]
    return {t["Key"]: t.get("Value", "") for t in listed}


def foreign_certificate(world: World, domain: str = "example.com", **tags: str) -> str:
    """A certificate someone else requested: another team, by hand, another stack."""
    args: dict[str, Any] = {"DomainName": domain, "ValidationMethod": "DNS"}
    if tags:
        args["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    arn: str = world.acm().request_certificate(**args)["CertificateArn"]
    return arn


def mutations(world: World, since: int) -> list[str]:
    """The ACM calls after ``since`` that change or delete a certificate."""
    changing = ("Delete", "AddTags", "RemoveTags", "UpdateCertificateOptions")
    return [
        c for c in world.calls[since:] if c.startswith("acm.") and any(m in c for m in changing)
    ]


def test_a_requested_certificate_names_its_stack_resource_and_request(world: World) -> None:
    event = make_event(DomainName="example.com", Tags=[{"Key": "team", "Value": "web"}])
    world.lam.run(event)
    arn = world.sink.last["PhysicalResourceId"]

    owner = Owner.of(STACK_ID, event["LogicalResourceId"], event["RequestId"])
    assert all_tags(world, arn) == {
        "team": "web",
        STACK_TAG: STACK_ID,
        RESOURCE_TAG: event["LogicalResourceId"],
        REQUEST_TAG: owner.token,
    }


def test_a_replacement_also_names_the_certificate_it_replaced(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    update = update_event(arn, props, DomainName="example.org")
    world.issue_after(world.clock.elapsed + 30)
    world.lam.run(update)
    new_arn = world.sink.last["PhysicalResourceId"]

    tags = all_tags(world, new_arn)
    assert tags[REPLACES_TAG] == arn
    assert tags[REQUEST_TAG] == Owner.of(STACK_ID, "Certificate", update["RequestId"]).token


def test_a_delete_leaves_a_foreign_certificate_and_its_records_alone(world: World) -> None:
    zone = world.hosted_zone()
    arn, props = create(world, DomainName="example.com", HostedZoneId=zone)
    other = foreign_certificate(world, "example.com", owner="another-team")
    since = len(world.calls)

    props = {**props, "RemoveValidationRecords": "true"}
    world.lam.run(delete_event(other, props))

    assert world.sink.last["Status"] == "SUCCESS"
    assert f"Certificate {other} was left alone" in world.sink.last["Reason"]
    assert {c.arn for c in world.certificates()} == {arn, other}
    assert len(world.records(zone)) == 1
    assert mutations(world, since) == []


def test_a_certificate_of_another_stack_is_left_alone_too(world: World) -> None:
    other = foreign_certificate(world, **{STACK_TAG: STACK_ID.replace("demo", "other")})

    world.lam.run(delete_event(other, {"ServiceToken": "x", "DomainName": "example.com"}))

    assert world.sink.last["Status"] == "SUCCESS"
    assert other in {c.arn for c in world.certificates()}


def test_an_update_of_a_foreign_certificate_replaces_it_without_changing_it(world: World) -> None:
    other = foreign_certificate(world, owner="another-team")
    props = make_event(DomainName="example.com")["ResourceProperties"]
    since = len(world.calls)
    world.issue_after(world.clock.elapsed + 30)

    update = update_event(other, props, Tags=[{"Key": "v", "Value": "2"}])
    world.lam.run(update)

    new_arn = world.sink.last["PhysicalResourceId"]
    assert world.sink.last["Status"] == "SUCCESS" and new_arn != other
    assert all_tags(world, other) == {"owner": "another-team"}
    assert mutations(world, since) == []


def test_a_rollback_never_returns_to_a_foreign_certificate(world: World) -> None:
    """A replacement whose Replaces tag names a certificate this stack does not own."""
    other = foreign_certificate(world, owner="another-team")
    arn, props = create(world, DomainName="example.org")
    world.acm().add_tags_to_certificate(
        CertificateArn=arn, Tags=[{"Key": REPLACES_TAG, "Value": other}]
    )
    world.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
    world.issue_after(world.clock.elapsed + 30)
    world.cert(other).status = "ISSUED"

    world.lam.run(update_event(arn, props, DomainName="example.com"))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] not in (arn, other)


def test_a_hop_one_give_up_of_a_create_is_cleaned_up_by_its_rollback_delete(
    world: World,
) -> None:
    """Lambda gave up on the first hop (no relay state names the certificate): the
    responder answers the marker, whose rollback Delete finds the certificate by tags."""
    zone = world.hosted_zone()
    event = make_event(DomainName="example.com", HostedZoneId=zone, RemoveValidationRecords="true")
    world.lam.invoke(event)  # hop 1 requested the certificate and wrote its record
    world.lam.queue.clear()  # ... and then Lambda gave up on the event
    assert len(world.certificates()) == 1 and len(world.records(zone)) == 1

    answer(world, destination_record(event))
    marker = world.sink.last["PhysicalResourceId"]
    assert world.sink.last["Status"] == "FAILED" and marker_token(marker) is not None

    world.lam.run(delete_event(marker, event["ResourceProperties"]))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.certificates() == []
    assert world.records(zone) == []


def test_a_marker_delete_removes_only_its_own_request_certificate(world: World) -> None:
    event = make_event(DomainName="example.com")
    world.lam.invoke(event)
    world.lam.queue.clear()
    [mine] = world.certificates()
    other_request, _ = create(world, DomainName="example.com")
    foreign = foreign_certificate(world)
    marker = physical_id_for(parse_request(event), Failed("gave up"))

    world.lam.run(delete_event(marker, event["ResourceProperties"]))

    assert {c.arn for c in world.certificates()} == {other_request, foreign}
    assert mine.arn not in {c.arn for c in world.certificates()}


def test_an_older_marker_is_acknowledged_without_any_call(world: World) -> None:
    props = make_event(DomainName="example.com")["ResourceProperties"]
    since = len(world.calls)

    world.lam.run(delete_event("Certificate-create-failed-0123456789ab", props))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.calls[since:] == []


def test_a_hop_one_give_up_of_an_update_deletes_its_replacement(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    world.issue_after(10**9)
    update = update_event(arn, props, DomainName="example.org")
    world.lam.invoke(update)  # hop 1 requested the replacement ...
    world.lam.queue.clear()  # ... and Lambda gave up on the original event
    assert len(world.certificates()) == 2

    answer(world, destination_record(update))

    body = world.sink.last
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", arn)
    assert "was deleted" in body["Reason"]
    assert [c.arn for c in world.certificates()] == [arn]


def test_an_update_hop_of_another_provider_version_deletes_its_replacement(
    world: World,
) -> None:
    arn, props = create(world, DomainName="example.com")
    world.issue_after(10**9)
    payload = hop_payload(world, update_event(arn, props, DomainName="example.org"))
    world.lam.queue.clear()
    replacement = next(c.arn for c in world.certificates() if c.arn != arn)
    payload[RELAY_KEY]["Version"] = 99

    world.lam.run(payload)

    body = world.sink.last
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", arn)
    assert "another version" in body["Reason"]
    assert f"the replacement certificate {replacement} was deleted" in body["Reason"]
    assert [c.arn for c in world.certificates()] == [arn]


def test_user_tags_leave_room_for_the_provider_tags(world: World) -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(MAX_USER_TAGS + 1)]
    world.lam.run(make_event(DomainName="example.com", Tags=tags))

    assert world.sink.last["Status"] == "FAILED"
    assert (
        f"Tags: has {MAX_USER_TAGS + 1} entries; at most {MAX_USER_TAGS}"
        in (world.sink.last["Reason"])
    )
    assert world.certificates() == []


def test_at_most_user_tags_are_accepted_in_a_replacement_too(world: World) -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(MAX_USER_TAGS)]
    arn, props = create(world, DomainName="example.com", Tags=tags)
    world.issue_after(world.clock.elapsed + 30)
    world.lam.run(update_event(arn, props, DomainName="example.org"))

    new_arn = world.sink.last["PhysicalResourceId"]
    assert world.sink.last["Status"] == "SUCCESS" and new_arn != arn
    assert len(all_tags(world, new_arn)) == 50


def test_the_provider_tag_prefix_is_reserved(world: World) -> None:
    world.lam.run(make_event(DomainName="example.com", Tags=[{"Key": STACK_TAG, "Value": "x"}]))

    assert world.sink.last["Status"] == "FAILED"
    assert "reserved for the provider's own tags" in world.sink.last["Reason"]


def test_a_zone_the_role_may_not_change_is_named_with_the_parameter_to_set(world: World) -> None:
    zone = world.hosted_zone()
    world.hooks["route53.ChangeResourceRecordSets"] = lambda _: error_answer(
        "AccessDenied", "User is not authorized to perform route53:ChangeResourceRecordSets", 403
    )
    world.lam.run(make_event(DomainName="example.com", HostedZoneId=zone))

    reason = world.sink.last["Reason"]
    assert world.sink.last["Status"] == "FAILED"
    assert f"may not change records in hosted zone {zone}" in reason
    assert f"route53:::hostedzone/{zone} to the provider stack's HostedZoneArns" in reason


def test_a_marker_delete_retried_after_deleting_the_certificate_still_removes_its_record(
    world: World,
) -> None:
    zone = world.hosted_zone()
    event = make_event(DomainName="example.com", HostedZoneId=zone, RemoveValidationRecords="true")
    world.lam.invoke(event)
    world.lam.queue.clear()  # Lambda gave up on the Create after its first hop
    marker = physical_id_for(parse_request(event), Failed("gave up"))
    crash_once(world, "acm.DeleteCertificate", after=True)

    assert deliver_until_done(world, delete_event(marker, event["ResourceProperties"])) == 1

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.certificates() == []
    assert world.records(zone) == []
