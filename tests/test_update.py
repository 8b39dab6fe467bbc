"""Update: in place, replacement, no change, rollback."""

from __future__ import annotations

from typing import Any

import pytest

from custom_resource.certificates.ownership import REPLACES_TAG, TAG_PREFIX
from tests.conftest import World, error_answer
from tests.lifecycle_helpers import create, rollback_of, update_event


def tags_of(world: World, arn: str, region: str = "eu-west-1") -> dict[str, str]:
    """The certificate's tags, the provider's ownership tags aside."""
    listed = world.acm(region).list_tags_for_certificate(CertificateArn=arn)["Tags"]
    return {
        t["Key"]: t.get("Value", "")
        for t in listed
        if t["Key"] == REPLACES_TAG or not t["Key"].startswith(TAG_PREFIX)
    }


def only_reads(calls: list[str]) -> bool:
    """Describe and list calls only: the certificate was compared, nothing was changed."""
    return bool(calls) and all(".Describe" in c or ".List" in c for c in calls)


def test_tags_added_changed_and_removed_in_place(world: World) -> None:
    arn, props = create(
        world,
        DomainName="example.com",
        Tags=[
            {"Key": "keep", "Value": "1"},
            {"Key": "change", "Value": "a"},
            {"Key": "drop", "Value": "x"},
        ],
    )
    tags = [
        {"Key": "keep", "Value": "1"},
        {"Key": "change", "Value": "b"},
        {"Key": "new", "Value": "n"},
    ]
    world.lam.run(update_event(arn, props, Tags=tags))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == arn
    assert world.sink.last["Data"]["Arn"] == arn
    assert tags_of(world, arn) == {"keep": "1", "change": "b", "new": "n"}
    assert len(world.certificates()) == 1


def test_transparency_preference_changes_in_place(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn, props = create(world, DomainName="example.com")
    seen: list[dict[str, Any]] = []

    def update_options(params: dict[str, Any]) -> Any:  # moto lacks this API
        import json

        seen.append(json.loads(params["body"]))
        world.cert(arn).cert_options = json.loads(params["body"])["Options"]
        return type("Ok", (), {"status_code": 200})(), {"ResponseMetadata": {}}

    world.hooks["acm.UpdateCertificateOptions"] = update_options
    world.lam.run(update_event(arn, props, CertificateTransparencyLoggingPreference="DISABLED"))

    assert seen == [
        {"CertificateArn": arn, "Options": {"CertificateTransparencyLoggingPreference": "DISABLED"}}
    ]
    assert world.sink.last["PhysicalResourceId"] == arn
    assert world.sink.last["Status"] == "SUCCESS"
    assert len(world.certificates()) == 1


def test_changed_hosted_zone_writes_records_there_and_keeps_the_certificate(world: World) -> None:
    old_zone, new_zone = world.hosted_zone("example.com"), world.hosted_zone("example.com")
    arn, props = create(world, DomainName="example.com", HostedZoneId=old_zone)
    assert len(world.records(old_zone)) == 1 and world.records(new_zone) == []

    world.lam.run(update_event(arn, props, HostedZoneId=new_zone))

    assert world.sink.last["PhysicalResourceId"] == arn
    assert [r["Name"] for r in world.records(new_zone)] == [
        "_d930b28be6c5927595552b219965053e.example.com."
    ]
    assert len(world.certificates()) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"DomainName": "example.org"},
        {"SubjectAlternativeNames": ["www.example.com"]},
        {"ValidationMethod": "EMAIL"},
        {"KeyAlgorithm": "EC_prime256v1"},
        {"Region": "us-east-1"},
        {
            "CertificateAuthorityArn": (
                "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/abc-1"
            )
        },
    ],
    ids=lambda change: next(iter(change)),
)
def test_other_changes_request_a_replacement(world: World, change: dict[str, Any]) -> None:
    arn, props = create(world, DomainName="example.com")
    region = change.get("Region", "eu-west-1")
    world.issue_after(world.clock.elapsed + 20 * 60, region)
    before = world.calls_to("acm.RequestCertificate")

    invocations = world.lam.run(update_event(arn, props, **change))

    new_arn = world.sink.last["PhysicalResourceId"]
    assert world.sink.last["Status"] == "SUCCESS"
    assert new_arn != arn and f":{region}:" in new_arn
    assert world.sink.last["Data"]["Arn"] == new_arn
    assert world.calls_to("acm.RequestCertificate") == before + 1
    assert world.cert(arn) is not None, "the old certificate is left for CloudFormation's cleanup"
    assert tags_of(world, new_arn, region)[REPLACES_TAG] == arn
    if "CertificateAuthorityArn" not in change:
        assert len(invocations) >= 2, "the replacement was waited for through the relay"


def test_replacement_token_differs_from_the_original(world: World) -> None:
    import json

    tokens: list[str] = []
    world.hooks["acm.RequestCertificate"] = lambda params: tokens.append(
        json.loads(params["body"])["IdempotencyToken"]
    )
    arn, props = create(world, DomainName="example.com")
    world.issue_after(world.clock.elapsed + 60)
    world.lam.run(update_event(arn, props, DomainName="example.org"))

    assert len(tokens) == 2 and tokens[0] != tokens[1]
    assert all(len(t) <= 32 and t.isalnum() for t in tokens)


def test_san_order_and_duplicates_are_not_a_change(world: World) -> None:
    arn, props = create(
        world, DomainName="example.com", SubjectAlternativeNames=["a.example.com", "b.example.com"]
    )
    calls = len(world.calls)

    world.lam.run(
        update_event(
            arn, props, SubjectAlternativeNames=["b.example.com", "a.example.com", "b.example.com"]
        )
    )

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == arn
    assert only_reads(world.calls[calls:]), "no effective change changes nothing in AWS"


def test_no_effective_change_succeeds_at_once(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    calls, elapsed = len(world.calls), world.clock.elapsed

    world.lam.run(update_event(arn, props, ServiceTimeout="1200"))

    assert world.sink.last == {**world.sink.last, "Status": "SUCCESS", "PhysicalResourceId": arn}
    data = world.sink.last["Data"]
    assert {k: data[k] for k in ("Arn", "DomainName")} == {"Arn": arn, "DomainName": "example.com"}
    assert only_reads(world.calls[calls:]) and world.clock.elapsed == elapsed


def test_in_place_update_rollback_restores_tags(world: World) -> None:
    arn, props = create(world, DomainName="example.com", Tags=[{"Key": "v", "Value": "1"}])
    update = update_event(arn, props, Tags=[{"Key": "v", "Value": "2"}])
    world.lam.run(update)
    world.lam.run(rollback_of(update, arn))

    assert world.sink.last["PhysicalResourceId"] == arn
    assert tags_of(world, arn) == {"v": "1"}


def test_replacement_rollback_returns_the_original_certificate(world: World) -> None:
    arn, props = create(world, DomainName="example.com", Tags=[{"Key": "v", "Value": "1"}])
    world.issue_after(world.clock.elapsed + 60)
    update = update_event(arn, props, DomainName="example.org")
    world.lam.run(update)
    new_arn = world.sink.last["PhysicalResourceId"]
    requested = world.calls_to("acm.RequestCertificate")

    world.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")  # another resource's update failed
    world.lam.run(rollback_of(update, new_arn))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == arn
    assert world.calls_to("acm.RequestCertificate") == requested
    assert {c.arn for c in world.certificates()} == {arn, new_arn}, "new one left for cleanup"


def test_failed_replacement_is_deleted_and_the_old_id_kept(world: World) -> None:
    arn, props = create(world, DomainName="example.com")

    def fail_the_replacement() -> None:
        for cert in world.certificates():
            if cert.arn != arn:
                cert.status = "FAILED"

    world.clock.at(world.clock.elapsed + 120, fail_the_replacement)
    world.lam.run(update_event(arn, props, DomainName="example.org"))

    body = world.sink.last
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == arn
    assert "replacement certificate" in body["Reason"] and "was deleted" in body["Reason"]
    assert [c.arn for c in world.certificates()] == [arn]


def test_update_with_bad_properties_fails_keeping_the_id(world: World) -> None:
    arn, props = create(world, DomainName="example.com")
    world.lam.run(update_event(arn, props, KeyAlgorithm="RSA_1024"))

    assert world.sink.last["Status"] == "FAILED"
    assert world.sink.last["PhysicalResourceId"] == arn
    assert "KeyAlgorithm" in world.sink.last["Reason"]
    assert len(world.certificates()) == 1


def refused_first(world: World, operation: str, times: int, code: str, status: int) -> list[str]:
    """``operation`` answers ``code`` its first ``times`` calls, then as before."""
    then = world.hooks.get(operation)
    refusals: list[str] = []

    def hook(params: dict[str, Any]) -> Any:
        if len(refusals) < times:
            refusals.append(code)
            return error_answer(code, "refused for the test", status)
        return then(params) if then else None

    world.hooks[operation] = hook
    return refusals


def replaced_then_rolled_back(world: World) -> tuple[str, str, dict[str, Any]]:
    """Create A, replace it by B (SUCCESS): return A, B and the Update to roll back."""
    arn, props = create(world, DomainName="example.com")
    world.issue_after(world.clock.elapsed + 60)
    update = update_event(arn, props, DomainName="example.org")
    world.lam.run(update)
    return arn, world.sink.last["PhysicalResourceId"], update


@pytest.mark.parametrize(
    ("operation", "code", "status"),
    [
        ("cloudformation.DescribeStacks", "Throttling", 400),
        ("cloudformation.DescribeStacks", "ServiceUnavailable", 503),
        ("acm.ListTagsForCertificate", "ThrottlingException", 400),
    ],
)
def test_a_transient_error_deciding_a_rollback_is_retried_not_a_replacement(
    world: World, operation: str, code: str, status: int
) -> None:
    arn, new_arn, update = replaced_then_rolled_back(world)
    requested = world.calls_to("acm.RequestCertificate")
    world.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
    refusals = refused_first(world, operation, 2, code, status)

    world.lam.run(rollback_of(update, new_arn))

    assert refusals == [code, code]
    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] == arn, "returned to the original"
    assert world.calls_to("acm.RequestCertificate") == requested, "no third certificate"


def test_a_stack_the_function_may_not_read_is_assumed_not_rolling_back(world: World) -> None:
    arn, new_arn, update = replaced_then_rolled_back(world)
    world.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
    refused_first(world, "cloudformation.DescribeStacks", 100, "AccessDenied", 403)
    world.issue_after(world.clock.elapsed + 60)

    world.lam.run(rollback_of(update, new_arn))

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.sink.last["PhysicalResourceId"] not in (arn, new_arn), "a new certificate"
