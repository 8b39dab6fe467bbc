"""Custom::WaitFor: any botocore waiter, or inline acceptors, on the certificate's engine.

The waits run on moto's S3 and ECS through the local Lambda, on virtual time.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from custom_resource.waiters.waiter import verdict
from custom_resource.waiters.waiter_properties import (
    RESOURCE_TYPE,
    expected_value,
    input_shape,
    parse_wait_for,
)
from tests.conftest import FUNCTION_ARN, WAIT_HANDLE, World, error_answer, make_event
from tests.lifecycle_helpers import delete_event, update_event

MINUTES = 60
HOURS = 3600
ROLE = "arn:aws:iam::123456789012:role/waiter"
BUCKET = "uploads"


def wait_for(request_type: str = "Create", **props: Any) -> dict[str, Any]:
    """A WaitFor request; properties as CloudFormation sends them (strings)."""
    event = make_event(request_type, **props)
    event["ResourceType"] = RESOURCE_TYPE
    event["LogicalResourceId"] = "UploadArrived"
    return event


def object_exists(**extra: Any) -> dict[str, Any]:
    props = {
        "Service": "s3",
        "Waiter": "ObjectExists",
        "Parameters": {"Bucket": BUCKET, "Key": "ready.flag"},
        "RoleArn": ROLE,
        "Outputs": {"ETag": "ETag", "Size": "ContentLength"},
    }
    return {**props, **extra}


def s3(world: World) -> Any:
    return world.session.client("s3")


def appears_at(world: World, seconds: float, key: str = "ready.flag", **put: Any) -> None:
    """The object is uploaded once ``seconds`` of virtual time have passed."""
    s3(world).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )

    uploaded: list[str] = []

    def upload(params: dict[str, Any]) -> None:
        if world.clock.elapsed >= seconds and not uploaded:
            uploaded.append(key)
            s3(world).put_object(Bucket=BUCKET, Key=key, Body=b"ready", **put)

    for operation in ("s3.HeadObject", "s3.GetObjectTagging"):
        world.hooks[operation] = upload


def test_an_object_that_appears_after_40_minutes_answers_success_within_a_minute(
    world: World,
) -> None:
    appears_at(world, 40 * MINUTES)

    invocations = world.lam.run(wait_for(**object_exists()), max_invocations=20)

    [response] = world.sink.bodies
    assert response["Status"] == "SUCCESS", response
    assert 40 * MINUTES <= world.sink.times[0] - world.clock.start < 41 * MINUTES
    assert len(invocations) >= 3, "several hops"
    assert response["PhysicalResourceId"].startswith("WaitFor:s3:ObjectExists:")
    assert response["Data"] == {"ETag": '"' + _md5(b"ready") + '"', "Size": "5"}
    assert world.calls_to("AssumeRole") >= 1


def _md5(body: bytes) -> str:
    import hashlib

    return hashlib.md5(body).hexdigest()


def test_the_physical_id_is_the_same_on_every_hop_and_retry(world: World) -> None:
    appears_at(world, 0)
    event = wait_for(**object_exists())
    world.lam.run(event)
    world.lam.run(event)

    first, again = world.sink.bodies
    assert first["PhysicalResourceId"] == again["PhysicalResourceId"]


def acceptor(state: str, matcher: str, expected: str, argument: str | None = None) -> Any:
    """An acceptor as a template writes it (capitalised keys, string values)."""
    written = {"State": state, "Matcher": matcher, "Argument": argument, "Expected": expected}
    return {k: v for k, v in written.items() if v is not None}


def tagging_acceptors() -> dict[str, Any]:
    return {
        "Service": "s3",
        "Operation": "GetObjectTagging",
        "Parameters": {"Bucket": BUCKET, "Key": "job"},
        "RoleArn": ROLE,
        "Delay": "10",
        "Acceptors": [
            acceptor("success", "pathAny", "done", "TagSet[].Value"),
            acceptor("failure", "pathAny", "failed", "TagSet[].Value"),
            acceptor("retry", "error", "NoSuchKey"),
        ],
    }


def test_a_failure_acceptor_answers_failed_within_a_minute_naming_what_it_saw(
    world: World,
) -> None:
    appears_at(world, 25 * MINUTES, key="job", Tagging="status=failed")

    world.lam.run(wait_for(**tagging_acceptors()), max_invocations=20)

    [response] = world.sink.bodies
    assert response["Status"] == "FAILED"
    assert 25 * MINUTES <= world.sink.times[0] - world.clock.start < 26 * MINUTES
    reason = response["Reason"]
    assert "failure acceptor" in reason and "pathAny" in reason and "TagSet[].Value" in reason
    assert '"failed"' in reason and 'seen: ["failed"]' in reason, reason
    assert response["PhysicalResourceId"].startswith("WaitFor:s3:GetObjectTagging:")


def test_inline_acceptors_succeed(world: World) -> None:
    appears_at(world, 3 * MINUTES, key="job", Tagging="status=done")

    world.lam.run(wait_for(**tagging_acceptors()))

    assert world.sink.last["Status"] == "SUCCESS"


def test_the_deadline_answers_failed_with_the_last_state_observed(world: World) -> None:
    appears_at(world, 10 * HOURS)

    world.lam.run(wait_for(**object_exists(ServiceTimeout="1200")))

    [response] = world.sink.bodies
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("Gave up after")
    assert "s3 waiter ObjectExists" in response["Reason"]
    assert (
        "a retry acceptor matched (matcher status, expected 404; seen: 404)" in (response["Reason"])
    )
    assert world.sink.times[0] - world.clock.start <= 1200


def test_an_error_no_acceptor_covers_fails_at_once(world: World) -> None:
    props: dict[str, Any] = {
        "Service": "ecs",
        "Waiter": "services_stable",
        "Parameters": {"cluster": "missing", "services": ["web"]},
        "RoleArn": ROLE,
    }
    world.lam.run(wait_for(**props))

    [response] = world.sink.bodies
    assert response["Status"] == "FAILED"
    assert "ClusterNotFoundException" in response["Reason"]
    assert "no acceptor covers" in response["Reason"]
    assert world.calls_to("DescribeServices") == 1


def test_throttling_is_retried_with_backoff(world: World) -> None:
    appears_at(world, 0)
    upload = world.hooks["s3.HeadObject"]
    throttled = [error_answer("SlowDown", "Please reduce your request rate", 503)] * 4

    def throttle(params: dict[str, Any]) -> Any:
        upload(params)
        return throttled.pop() if throttled else None

    world.hooks["s3.HeadObject"] = throttle

    world.lam.run(wait_for(**object_exists()))

    assert world.sink.last["Status"] == "SUCCESS"
    assert not throttled


def test_the_role_is_assumed_with_the_external_id(world: World) -> None:
    appears_at(world, 0)
    bodies: list[dict[str, Any]] = []
    world.hooks["sts.AssumeRole"] = lambda params: bodies.append(params["body"])

    world.lam.run(wait_for(**object_exists(RoleExternalId="shared-secret")))

    assert world.sink.last["Status"] == "SUCCESS"
    [body] = bodies
    assert body["ExternalId"] == "shared-secret" and body["RoleArn"] == ROLE


def refused(world: World, props: dict[str, Any]) -> str:
    """Run a WaitFor that must be refused before any call; return its Reason."""
    world.lam.run(wait_for(**props))
    response = world.sink.last
    assert response["Status"] == "FAILED"
    assert not world.calls
    return str(response["Reason"])


def test_without_a_role_it_fails_naming_what_is_missing(world: World) -> None:
    props = object_exists()
    del props["RoleArn"]

    reason = refused(world, props)

    assert "RoleArn: is required" in reason and "WaitForPolicyArns" in reason


def test_the_operators_role_serves_a_wait_without_role_arn(world: World) -> None:
    appears_at(world, 0)
    operator_role = "arn:aws:iam::123456789012:role/provider-wait-for"
    world.runtime.settings = replace(world.runtime.settings, wait_for_role_arn=operator_role)
    bodies: list[dict[str, Any]] = []
    world.hooks["sts.AssumeRole"] = lambda params: bodies.append(params["body"])
    props = object_exists()
    del props["RoleArn"]

    world.lam.run(wait_for(**props))

    assert world.sink.last["Status"] == "SUCCESS"
    assert bodies[0]["RoleArn"] == operator_role


def test_a_role_that_cannot_be_assumed_fails_with_what_to_check(world: World) -> None:
    world.hooks["sts.AssumeRole"] = lambda params: error_answer("AccessDenied", "not allowed", 403)

    world.lam.run(wait_for(**object_exists()))

    response = world.sink.last
    assert response["Status"] == "FAILED"
    assert f"Could not assume {ROLE}" in response["Reason"]
    assert "WaitForRoleArns" in response["Reason"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"Service": "s4"}, "Service: 's4' is not a boto3 service (did you mean 's3'?)"),
        ({"Waiter": "ObjectExist"}, "(did you mean 'ObjectExists'?)"),
        ({"Parameters": {"Bucket": "b", "Kee": "k"}}, "Parameters.Kee: unknown parameter"),
        ({"Parameters": {"Bucket": "b"}}, "Parameters.Key: is required by the operation"),
        ({"Delay": "0"}, "Delay: '0' is not a whole number from 1 to 300"),
        ({"Region": "Mars"}, "Region: 'Mars' is not an AWS region"),
        ({"Outputs": {"E-Tag": "ETag"}}, "Outputs.E-Tag: an attribute name is letters"),
        ({"Outputs": {"ETag": "ETag["}}, "Outputs.ETag: 'ETag[' is not a JMESPath expression"),
        ({"RoleArn": "waiter"}, "RoleArn: 'waiter' is not an IAM role ARN"),
        ({"Waiters": "ObjectExists"}, "Waiters: unknown property (did you mean 'Waiter'?)"),
        ({"WaitTimeout": "600"}, "WaitTimeout: is only used with WaitConditionHandle"),
        ({"Operation": "HeadObject"}, "give either Waiter, or Operation with Acceptors"),
    ],
)
def test_bad_properties_fail_before_any_call(
    world: World, change: dict[str, Any], expected: str
) -> None:
    reason = refused(world, object_exists(**change))

    assert expected in reason, reason


@pytest.mark.parametrize(
    ("acceptor", "expected"),
    [
        ({"State": "done"}, "Acceptors[0].State: 'done' is not one of success, failure, retry"),
        ({"Matcher": "pathAl"}, "(did you mean 'pathAll'?)"),
        ({"Matcher": "status", "Expected": "OK"}, "is not an HTTP status code"),
        ({"Argument": None}, "Acceptors[0].Argument: must be a JMESPath expression"),
        ({"Expect": "x"}, "Acceptors[0].Expect: unknown key (did you mean 'Expected'?)"),
    ],
)
def test_bad_acceptors_fail_before_any_call(
    world: World, acceptor: dict[str, Any], expected: str
) -> None:
    props = tagging_acceptors()
    first = {**props["Acceptors"][0], **acceptor}
    props["Acceptors"] = [{k: v for k, v in first.items() if v is not None}]

    reason = refused(world, props)

    assert expected in reason, reason


def test_an_operation_that_writes_is_refused_unless_allowed(world: World) -> None:
    props = {**tagging_acceptors(), "Operation": "PutObjectTagging"}
    props["Parameters"] = {**props["Parameters"], "Tagging": {"TagSet": []}}

    reason = refused(world, props)

    assert "PutObjectTagging is not read-only" in reason and "AllowWriteOperation" in reason


def test_delete_answers_at_once_without_any_call(world: World) -> None:
    world.lam.run(delete_event("WaitFor:s3:ObjectExists:0123", object_exists()) | _typed())

    response = world.sink.last
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == "WaitFor:s3:ObjectExists:0123"
    assert not world.calls


def _typed() -> dict[str, Any]:
    return {"ResourceType": RESOURCE_TYPE, "LogicalResourceId": "UploadArrived"}


def test_an_update_waits_again_only_when_what_it_waits_for_changed(world: World) -> None:
    appears_at(world, 0)
    props = {k: v for k, v in object_exists().items() if k != "Outputs"}
    world.lam.run(wait_for(**props))
    created = world.sink.last
    old = wait_for(**props)["ResourceProperties"]
    world.calls.clear()

    slower = update_event(created["PhysicalResourceId"], old, Delay="30")
    world.lam.run(slower | _typed())
    kept = world.sink.last
    assert kept["Status"] == "SUCCESS" and not world.calls
    assert kept["PhysicalResourceId"] == created["PhysicalResourceId"]

    other = update_event(
        created["PhysicalResourceId"], old, Parameters={"Bucket": BUCKET, "Key": "x"}
    )
    world.clock.advance(60)
    s3(world).put_object(Bucket=BUCKET, Key="x", Body=b"later")
    world.lam.run(other | _typed())
    waited = world.sink.last
    assert waited["Status"] == "SUCCESS" and world.calls_to("HeadObject") >= 1
    assert waited["PhysicalResourceId"] != created["PhysicalResourceId"]


def test_an_update_of_timing_only_rereads_the_outputs(world: World) -> None:
    appears_at(world, 0)
    world.lam.run(wait_for(**object_exists()))
    created = world.sink.last
    old = wait_for(**object_exists())["ResourceProperties"]

    world.lam.run(update_event(created["PhysicalResourceId"], old, ServiceTimeout="600") | _typed())

    again = world.sink.last
    assert again["Status"] == "SUCCESS" and again["Data"] == created["Data"]
    assert again["PhysicalResourceId"] == created["PhysicalResourceId"]


def test_the_12_hour_mode_answers_at_once_and_signals_the_end(world: World) -> None:
    appears_at(world, 5 * HOURS)
    event = wait_for(**object_exists(WaitConditionHandle=WAIT_HANDLE))

    world.lam.run(event, max_invocations=200)

    [response] = world.sink.bodies
    assert response["Status"] == "SUCCESS"
    assert world.sink.times[0] - world.clock.start < 2 * MINUTES
    [signal] = world.signals.bodies
    assert signal["Status"] == "SUCCESS"
    assert signal["UniqueId"] == response["PhysicalResourceId"]
    assert json.loads(signal["Data"]) == {"ETag": '"' + _md5(b"ready") + '"', "Size": "5"}
    assert "s3 waiter ObjectExists: success" in signal["Reason"]
    assert 5 * HOURS <= world.signals.times[0] - world.clock.start < 5 * HOURS + 2 * MINUTES


def test_the_12_hour_mode_signals_failure_at_the_wait_timeout(world: World) -> None:
    appears_at(world, 20 * HOURS)
    event = wait_for(**object_exists(WaitConditionHandle=WAIT_HANDLE, WaitTimeout="7200"))

    world.lam.run(event, max_invocations=200)

    assert world.sink.last["Status"] == "SUCCESS"
    [signal] = world.signals.bodies
    assert signal["Status"] == "FAILURE" and "WaitTimeout" in signal["Reason"]
    assert "seen: 404" in signal["Reason"]
    assert world.signals.times[0] - world.clock.start <= 2 * HOURS


def test_the_12_hour_mode_signals_at_once_when_already_true(world: World) -> None:
    appears_at(world, 0)

    world.lam.run(wait_for(**object_exists(WaitConditionHandle=WAIT_HANDLE)))

    assert world.sink.last["Status"] == "SUCCESS"
    [signal] = world.signals.bodies
    assert signal["Status"] == "SUCCESS"


@pytest.mark.parametrize(
    ("text", "matcher", "typed"),
    [
        ("200", "status", 200),
        ("true", "path", True),
        ("False", "error", False),
        ("3", "pathAll", 3),
        ("-1", "path", -1),
        ('"3"', "path", "3"),
        ('"true"', "pathAny", "true"),
        ("404", "error", "404"),
        ("ACTIVE", "pathAll", "ACTIVE"),
        (3, "path", 3),
    ],
)
def test_expected_as_cloudformation_sends_it_is_typed_as_botocore_compares_it(
    text: Any, matcher: str, typed: Any
) -> None:
    value = expected_value(text, matcher)
    assert value == typed and type(value) is type(typed)


def test_typed_expected_values_match_typed_responses() -> None:
    def accepts(matcher: str, expected: str, response: dict[str, Any], argument: str = "") -> bool:
        written = acceptor("success", matcher, expected, argument or None)
        props = parse_wait_for(
            {**tagging_acceptors(), "ServiceToken": FUNCTION_ARN, "Acceptors": [written]}
        )
        return verdict(props.config().acceptors, response) == "success"

    status = {"ResponseMetadata": {"HTTPStatusCode": 200}}
    assert accepts("status", "200", status)
    assert accepts("path", "true", {"Ready": True}, "Ready")
    assert not accepts("path", "true", {"Ready": "true"}, "Ready")
    assert accepts("path", '"true"', {"Ready": "true"}, "Ready")
    assert accepts("pathAll", "3", {"Counts": [3, 3]}, "Counts")
    assert accepts("error", "true", {"Error": {"Code": "Any"}})


def test_an_acceptor_that_cannot_be_evaluated_fails_with_a_reason(world: World) -> None:
    appears_at(world, 0, key="job", Tagging="status=done")
    props = tagging_acceptors()
    props["Acceptors"] = [acceptor("success", "path", "true", "length(Missing) > `0`")]

    world.lam.run(wait_for(**props))

    response = world.sink.last
    assert response["Status"] == "FAILED"
    assert (
        "an acceptor cannot be evaluated" in response["Reason"]
        and "length()" in (response["Reason"])
    )


def test_the_input_shape_is_the_named_operations_by_either_form() -> None:
    """What the CDK construct types its stand-ins for tokens by: the operation's input
    shape, through a waiter or an operation in either case; None for an unknown one."""
    by_waiter = input_shape({"Service": "EC2", "Waiter": "instance_running"})
    assert by_waiter is not None and by_waiter.name == "DescribeInstancesRequest"
    assert by_waiter.members["DryRun"].type_name == "boolean"
    by_operation = input_shape({"Service": "s3", "Operation": "head_object", "Acceptors": []})
    assert by_operation is not None and by_operation.name == "HeadObjectRequest"
    assert input_shape({"Service": "s3", "Waiter": "ObjectExist"}) is None
    assert input_shape({"Service": "nope", "Operation": "HeadObject", "Acceptors": []}) is None


def test_botocore_lowercase_acceptor_keys_are_accepted_too() -> None:
    capitalised = parse_wait_for({**tagging_acceptors(), "ServiceToken": FUNCTION_ARN})
    lowercase = [
        {key.lower(): value for key, value in entry.items()}
        for entry in tagging_acceptors()["Acceptors"]
    ]
    props = {**tagging_acceptors(), "ServiceToken": FUNCTION_ARN, "Acceptors": lowercase}

    assert parse_wait_for(props).acceptors == capitalised.acceptors


def test_outputs_beyond_the_response_size_are_trimmed_largest_first(world: World) -> None:
    appears_at(world, 0)
    whole = {f"Whole{i}": "@" for i in range(6)}

    world.lam.run(wait_for(**object_exists(Outputs={"ETag": "ETag", **whole})))

    response = world.sink.last
    assert response["Status"] == "SUCCESS"
    assert len(json.dumps(response).encode()) <= 4096
    assert response["Data"]["ETag"] == '"' + _md5(b"ready") + '"'
    assert set(response["Data"]) < {"ETag", *whole}
