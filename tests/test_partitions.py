"""Every AWS partition's S3 hosts are answered; any other host is refused loudly."""

from __future__ import annotations

import botocore.loaders
import pytest

from custom_resource.checks import wait_handle_problem
from custom_resource.partitions import DNS_SUFFIXES
from custom_resource.response import UnsafeResponseURLError, check_response_url
from tests.conftest import World, make_event

EUSC_RESPONSE_URL = (
    "https://cloudformation-custom-resource-response-euscdeeast1.s3.eusc-de-east-1.amazonaws.eu/"
    "arn%3Aaws-eusc%3Acloudformation/response?X-Amz-Signature=secret-signature"
)
EUSC_HANDLE = (
    "https://cloudformation-waitcondition-eusc-de-east-1.s3.eusc-de-east-1.amazonaws.eu/"
    "arn%3Aaws-eusc%3Acloudformation/Handle?X-Amz-Signature=s3cret"
)


def test_every_partition_botocore_knows_is_accepted() -> None:
    partitions = botocore.loaders.create_loader().load_data("partitions")["partitions"]
    suffixes = {p["outputs"]["dnsSuffix"] for p in partitions}
    assert suffixes <= set(DNS_SUFFIXES), f"a partition is missing: {suffixes - set(DNS_SUFFIXES)}"


@pytest.mark.parametrize(
    "host",
    [
        "cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
        "cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn",
        "cloudformation-custom-resource-response-euscdeeast1.s3.eusc-de-east-1.amazonaws.eu",
        "cloudformation-custom-resource-response-usisoeast1.s3.us-iso-east-1.c2s.ic.gov",
        "cloudformation-custom-resource-response-usisobeast1.s3.us-isob-east-1.sc2s.sgov.gov",
    ],
)
def test_response_urls_of_every_partition_are_accepted(host: str) -> None:
    check_response_url(f"https://{host}/arn/response?X-Amz-Signature=s")


@pytest.mark.parametrize(
    "host",
    [
        "s3.amazonaws.eu.example.com",
        "s3.amazonaws.example",
        "s3-amazonaws.eu",
        "evil-s3.example.com",
        "bucket.s3.eusc-de-east-1.amazonaws.eux",
    ],
)
def test_other_hosts_are_refused(host: str) -> None:
    with pytest.raises(UnsafeResponseURLError):
        check_response_url(f"https://{host}/arn/response?X-Amz-Signature=s")
    assert wait_handle_problem(f"https://{host}/arn/Handle?X-Amz-Signature=s")


def test_a_request_of_the_european_sovereign_cloud_is_answered(world: World) -> None:
    world.issue_after(60)
    event = {**make_event(DomainName="example.com"), "ResponseURL": EUSC_RESPONSE_URL}

    world.lam.run(event)

    assert world.sink.urls == [EUSC_RESPONSE_URL]
    assert world.sink.last["Status"] == "SUCCESS"


def test_a_handle_of_the_european_sovereign_cloud_is_signalled(world: World) -> None:
    assert wait_handle_problem(EUSC_HANDLE) is None
    world.issue_after(3600)
    event = make_event(DomainName="example.com", WaitConditionHandle=EUSC_HANDLE)

    world.lam.run(event, max_invocations=20)

    assert world.sink.last["Status"] == "SUCCESS"
    assert world.signals.urls == [EUSC_HANDLE]
    assert world.signals.bodies[-1]["Status"] == "SUCCESS"
