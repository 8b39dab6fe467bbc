"""Regression tests: the sequences CloudFormation and Lambda really produce.

Each test is named after the behaviour it guards; each failed on the provider before the
Update decision was made from what exists in AWS.
"""

from __future__ import annotations

from typing import Any

from moto import mock_aws

from custom_resource.aws import (
    ASSUMED_ROLE_SECONDS,
    CALL_WORST_CASE_SECONDS,
    CLIENT_CONFIG,
    HOP_CALL_RESERVE_SECONDS,
    ROLE_REFRESH_SECONDS,
)
from custom_resource.certificates.certificate import pending_detail
from custom_resource.certificates.properties import parse_properties
from custom_resource.certificates.update import matches
from custom_resource.relay_state import RELAY_KEY
from custom_resource.request import signed_at
from custom_resource.settings import Settings
from tests.conftest import (
    FUNCTION_ARN,
    RESPONSE_URL,
    World,
    build_world,
    error_answer,
    make_event,
    signed_url,
)
from tests.lifecycle_helpers import (
    Crash,
    create,
    delete_event,
    deliver_until_done,
    rollback_of,
    update_event,
)
from tests.test_cross_account import ROLE, other_account_route53


def fail_new_certificates(world: World, keep: set[str], after: float) -> None:
    """Certificates other than ``keep`` turn FAILED ``after`` seconds from now."""

    def fail() -> None:
        for cert in world.certificates():
            if cert.arn not in keep:
                cert.status = "FAILED"

    world.clock.at(world.clock.elapsed + after, fail)


# 1. The rollback of a failed replacement


def test_rollback_of_a_failed_replacement_keeps_the_original_and_requests_nothing(
    world: World,
) -> None:
    arn, props = create(world, DomainName="example.com")
    fail_new_certificates(world, keep={arn}, after=120)
    update = update_event(arn, props, DomainName="example.org")
    world.lam.run(update)
    assert world.sink.last["Status"] == "FAILED"
    assert world.sink.last["PhysicalResourceId"] == arn
    requested = world.calls_to("acm.RequestCertificate")

    world.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
    world.lam.run(rollback_of(update, arn))  # the failed resource keeps the old id

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == arn
    assert world.calls_to("acm.RequestCertificate") == requested
    assert [c.arn for c in world.certificates()] == [arn]


# 2. A failed return to the original


def test_a_failed_rollback_never_deletes_the_certificate_it_returns_to(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    world.issue_after(world.clock.elapsed + 60)
    update = update_event(arn, props, DomainName="example.org")
    world.lam.run(update)
    replacement = world.sink.last["PhysicalResourceId"]

    def denied_on_the_original(params: dict[str, Any]) -> Any:
        if arn in str(params.get("body")):
            return error_answer("AccessDeniedException", "not allowed", 403)
        return None

    world.hooks["acm.ListTagsForCertificate"] = denied_on_the_original
    world.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
    world.lam.run(rollback_of(update, replacement))

    body = world.sink.last
    assert body["Status"] == "FAILED" and "AccessDenied" in body["Reason"]
    assert body["PhysicalResourceId"] == replacement, "the stack still holds the replacement"
    assert {c.arn for c in world.certificates()} == {arn, replacement}
    assert world.calls_to("acm.DeleteCertificate") == 0


def test_a_failed_replacement_deletes_only_the_certificate_it_requested(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    fail_new_certificates(world, keep={arn}, after=120)

    world.lam.run(update_event(arn, props, DomainName="example.org"))

    assert world.sink.last["PhysicalResourceId"] == arn
    assert [c.arn for c in world.certificates()] == [arn]
    assert world.calls_to("acm.DeleteCertificate") == 1


# 3. Forward updates are not rollbacks; the decision is made once


def test_forward_update_back_to_a_retained_certificates_names_requests_a_new_one(
    world: World,
) -> None:
    arn, props = create(world, DomainName="example.com")
    world.issue_after(world.clock.elapsed + 60)
    update = update_event(arn, props, DomainName="example.org")
    world.lam.run(update)
    replacement = world.sink.last["PhysicalResourceId"]
    # UpdateReplacePolicy Retain: CloudFormation never deletes the original.

    world.stack_status("UPDATE_IN_PROGRESS")
    world.issue_after(world.clock.elapsed + 60)
    world.lam.run(update_event(replacement, update["ResourceProperties"], DomainName="example.com"))

    answered = world.sink.last["PhysicalResourceId"]
    assert world.sink.last["Status"] == "SUCCESS"
    assert answered not in (arn, replacement), "the retained certificate is not adopted"
    assert len(world.certificates()) == 3


def test_the_update_decision_is_made_on_the_first_hop_and_carried(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    world.issue_after(world.clock.elapsed + 40 * 60)
    world.stack_status("UPDATE_IN_PROGRESS")
    lists, stacks = world.calls_to("ListTagsForCertificate"), world.calls_to("DescribeStacks")

    invocations = world.lam.run(update_event(arn, props, DomainName="example.org"))

    assert len(invocations) >= 3
    assert world.calls_to("ListTagsForCertificate") == lists + 1
    assert world.calls_to("DescribeStacks") == stacks
    assert world.sink.last["Status"] == "SUCCESS" and world.sink.last["PhysicalResourceId"] != arn


def test_a_throttled_update_decision_is_retried_like_any_step(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    refused: list[float] = []

    def throttled_at_first(params: dict[str, Any]) -> Any:
        if len(refused) < 2:
            refused.append(world.clock())
            return error_answer("ThrottlingException", "Rate exceeded")
        return None

    world.hooks["acm.DescribeCertificate"] = throttled_at_first
    world.lam.run(update_event(arn, props, Tags=[{"Key": "v", "Value": "2"}]))

    assert len(refused) == 2
    assert world.sink.last["Status"] == "SUCCESS" and world.sink.last["PhysicalResourceId"] == arn


def test_later_hops_follow_the_carried_plan(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    world.issue_after(world.clock.elapsed + 40 * 60)
    world.lam.queue.append(update_event(arn, props, DomainName="example.org"))
    world.lam.invoke(world.lam.queue.pop(0))

    [hop2] = world.lam.queue
    assert hop2[RELAY_KEY]["Memo"]["Plan"] == {"Action": "replace", "Arn": arn}
    calls = len(world.calls)
    world.lam.run(world.lam.queue.pop(0))
    assert "acm.ListTagsForCertificate" not in world.calls[calls:]


def test_a_key_algorithm_as_acm_spells_it_matches_the_request() -> None:
    props = parse_properties({"ServiceToken": FUNCTION_ARN, "DomainName": "example.com"})
    described = {
        "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["example.com"],
        "KeyAlgorithm": "RSA-2048",
        "Status": "ISSUED",
        "DomainValidationOptions": [{"DomainName": "example.com", "ValidationMethod": "DNS"}],
    }
    assert matches(described, props, "eu-west-1")
    assert not matches({**described, "KeyAlgorithm": "EC-prime256v1"}, props, "eu-west-1")
    assert not matches({**described, "Status": "EXPIRED"}, props, "eu-west-1")
    assert not matches(described, props, "us-east-1")


# 4. Assumed-role credentials in a warm environment


def cross_account_world(world: World) -> tuple[str, list[dict[str, Any]]]:
    """A zone in another account, whose role insists on the external id ``right``."""
    zone = other_account_route53(world).create_hosted_zone(
        Name="example.com", CallerReference="cross-account"
    )["HostedZone"]["Id"]
    assumed: list[dict[str, Any]] = []

    def assume(params: dict[str, Any]) -> Any:
        assumed.append(dict(params["body"]))
        if params["body"].get("ExternalId") != "right":
            return error_answer("AccessDenied", "not authorized to perform sts:AssumeRole", 403)
        return None

    world.hooks["sts.AssumeRole"] = assume
    return zone.removeprefix("/hostedzone/"), assumed


def cross_account_create(world: World, zone: str, external_id: str) -> dict[str, Any]:
    world.issue_after(world.clock.elapsed + 60)
    world.lam.run(
        make_event(
            DomainName="example.com",
            HostedZoneId=zone,
            Route53RoleArn=ROLE,
            Route53RoleExternalId=external_id,
        )
    )
    return world.sink.last


def test_a_cached_role_is_not_reused_for_another_external_id(world: World) -> None:
    zone, assumed = cross_account_world(world)
    assert cross_account_create(world, zone, "right")["Status"] == "SUCCESS"
    writes = world.calls_to("route53.ChangeResourceRecordSets")

    body = cross_account_create(world, zone, "wrong")

    assert body["Status"] == "FAILED" and "AccessDenied" in body["Reason"]
    assert [a["ExternalId"] for a in assumed] == ["right", "wrong"]
    assert world.calls_to("route53.ChangeResourceRecordSets") == writes
    assert "wrong" not in body["Reason"], "the external id is never echoed"


def test_a_role_is_assumed_again_before_its_credentials_expire(world: World) -> None:
    zone, assumed = cross_account_world(world)
    cross_account_create(world, zone, "right")
    cross_account_create(world, zone, "right")
    assert len(assumed) == 1, "fresh credentials are reused by the warm environment"

    world.clock.advance(ASSUMED_ROLE_SECONDS - ROLE_REFRESH_SECONDS)
    assert cross_account_create(world, zone, "right")["Status"] == "SUCCESS"
    assert len(assumed) == 2


# 5. The deadline's anchor


def never_issued(world: World) -> dict[str, Any]:
    """A Create signed now whose certificate is never issued; ServiceTimeout 3600."""
    event = make_event(DomainName="example.com", ServiceTimeout="3600")
    event["ResponseURL"] = signed_url(world.clock())
    return event


def test_a_retried_first_hop_answers_within_service_timeout_of_the_signing_time(
    world: World,
) -> None:
    event = never_issued(world)
    world.clock.at(13 * 60, lambda: _crash_next_describe(world))

    assert deliver_until_done(world, event) == 1

    [body] = world.sink.bodies
    assert body["Status"] == "FAILED" and "Gave up" in body["Reason"]
    assert body["PhysicalResourceId"] == world.certificates()[0].arn
    assert world.sink.times[0] - world.clock.start <= 3600 - 60


def test_a_first_hop_delivered_late_keeps_the_requests_deadline(world: World) -> None:
    event = never_issued(world)
    world.clock.advance(20 * 60)  # Lambda delivered the event 20 minutes late

    world.lam.run(event)

    assert world.sink.times[0] - world.clock.start <= 3600 - 60
    assert world.sink.last["Status"] == "FAILED"


def test_a_first_hop_delivered_after_the_deadline_requests_nothing(world: World) -> None:
    event = never_issued(world)
    world.clock.advance(3600)

    world.lam.run(event)

    assert world.sink.last["Status"] == "FAILED" and "nothing was done" in world.sink.last["Reason"]
    assert world.certificates() == [] and world.calls_to("RequestCertificate") == 0


def test_the_signing_time_is_read_from_sigv4_and_sigv2_urls() -> None:
    assert signed_at(signed_url(1_800_000_000.0)) == 1_800_000_000.0
    assert signed_at(RESPONSE_URL.replace("?", "?Expires=1800007200&")) == 1_800_000_000.0
    assert signed_at(RESPONSE_URL) is None
    assert signed_at(RESPONSE_URL.replace("?", "?X-Amz-Date=yesterday&")) is None


def _crash_next_describe(world: World) -> None:
    def crash(_: Any) -> None:
        world.hooks.pop("acm.DescribeCertificate")
        raise Crash("the first hop died")

    world.hooks["acm.DescribeCertificate"] = crash


# 6. Every call bounded by the time left


def test_worst_case_of_one_call_and_the_hand_off_fits_in_the_margin() -> None:
    retries = CLIENT_CONFIG.retries or {}
    attempts = retries["total_max_attempts"]
    per_attempt = CLIENT_CONFIG.connect_timeout + CLIENT_CONFIG.read_timeout
    backoff = sum(2**attempt for attempt in range(1, attempts))  # botocore's standard mode
    assert attempts * per_attempt + backoff <= CALL_WORST_CASE_SECONDS
    assert HOP_CALL_RESERVE_SECONDS == 2 * CALL_WORST_CASE_SECONDS
    assert Settings().handoff_margin_seconds >= HOP_CALL_RESERVE_SECONDS


def test_no_call_starts_that_could_outlast_the_hop(world: World) -> None:
    world.issue_after(20 * 60)

    def slow_request() -> None:  # the first request took almost the whole hop
        world.after_hooks.pop("acm.RequestCertificate")
        world.clock.advance(900 - HOP_CALL_RESERVE_SECONDS - world.clock.elapsed + 1)

    world.after_hooks["acm.RequestCertificate"] = slow_request
    invocations = world.lam.run(make_event(DomainName="example.com"))

    assert invocations[0].handed_off
    assert invocations[0].ended_at - invocations[0].started_at <= 900
    assert world.calls[:2] == ["acm.RequestCertificate", "lambda.Invoke"]
    assert [b["Status"] for b in world.sink.bodies] == ["SUCCESS"]
    assert len(world.certificates()) == 1


def test_a_function_timeout_too_short_for_any_call_answers_failed_naming_it() -> None:
    with mock_aws():
        world = build_world(budget_seconds=Settings().handoff_margin_seconds - 1)
        world.lam.run(make_event(DomainName="example.com"))
    body = world.sink.last
    assert body["Status"] == "FAILED" and "timeout is too short" in body["Reason"]
    assert world.calls_to("RequestCertificate") == 0


# 7. Delete after a parallel Delete


def test_record_cleanup_ignores_a_certificate_deleted_meanwhile(world: World) -> None:
    zone = world.hosted_zone()
    arn, props = create(world, DomainName="example.com", HostedZoneId=zone)
    props = {**props, "RemoveValidationRecords": "true"}
    other = world.acm().request_certificate(DomainName="www.example.com")["CertificateArn"]

    def gone(params: dict[str, Any]) -> Any:
        if other in str(params.get("body")):
            return error_answer("ResourceNotFoundException", f"{other} not found")
        return None

    world.hooks["acm.DescribeCertificate"] = gone
    world.lam.run(delete_event(arn, props))

    assert world.sink.last["Status"] == "SUCCESS", world.sink.last
    assert [c.arn for c in world.certificates()] == [other]
    assert world.records(zone) == []


# 8. Private CA


def test_a_pending_private_certificate_names_its_ca_not_an_email() -> None:
    ca = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/abc-1"
    props = parse_properties(
        {"ServiceToken": FUNCTION_ARN, "DomainName": "example.com", "CertificateAuthorityArn": ca}
    )
    detail = pending_detail({"Status": "PENDING_VALIDATION"}, props)
    assert ca in detail and "e-mail" not in detail
