"""Hand certificates requested before ownership tags existed to the provider.

Providers before 1.0.0 did not tag the certificates they requested, and the provider now
changes or deletes only certificates whose tags name the requesting stack: the Delete of
such a certificate succeeds but leaves it in place. Run with your own credentials, this
tags the certificates that a consumer stack's ``Custom::WaitForCertificate`` resources
hold, so that the stack's own Update and Delete manage them again. It never touches a
certificate another stack's tags claim, and shows what it would do unless ``--apply``.

    python -m release.adopt_certificates --stack my-site [--region eu-west-1] [--apply]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

import boto3

from custom_resource.aws import Clients
from custom_resource.certificates.certificate import is_certificate_arn, region_of
from custom_resource.certificates.ownership import RESOURCE_TAG, STACK_TAG, tags_of

RESOURCE_TYPE = "Custom::WaitForCertificate"


def adopt(
    stack: str, cloudformation: Any, clients: Clients, apply: bool, say: Callable[[str], None]
) -> int:
    """Tag (or, without ``apply``, list) the stack's untagged certificates; return how many."""
    stack_id: str = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    adopted = 0
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page.get("StackResourceSummaries", []):
            arn = resource.get("PhysicalResourceId", "")
            if resource.get("ResourceType") != RESOURCE_TYPE or not is_certificate_arn(arn):
                continue
            tags = tags_of(clients, region_of(arn), arn)
            if tags is None:
                say(f"{arn}: gone")
            elif STACK_TAG in tags:
                owner = "this stack" if tags[STACK_TAG] == stack_id else tags[STACK_TAG]
                say(f"{arn}: already tagged for {owner}, left as it is")
            else:
                logical_id = resource["LogicalResourceId"]
                if apply:
                    clients.acm(region_of(arn)).add_tags_to_certificate(
                        CertificateArn=arn,
                        Tags=[
                            {"Key": STACK_TAG, "Value": stack_id},
                            {"Key": RESOURCE_TAG, "Value": logical_id},
                        ],
                    )
                say(f"{arn}: {'tagged' if apply else 'would tag'} for {logical_id}")
                adopted += 1
    return adopted


def main(argv: Sequence[str] | None = None, session: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="adopt_certificates", description=__doc__)
    parser.add_argument("--stack", required=True, help="the consumer stack's name or id")
    parser.add_argument("--region", help="the consumer stack's region")
    parser.add_argument("--apply", action="store_true", help="tag (default: only list)")
    args = parser.parse_args(argv)
    session = session or boto3.session.Session(region_name=args.region)
    clients = Clients(session, args.region)
    count = adopt(args.stack, clients.client("cloudformation"), clients, args.apply, print)
    if not args.apply and count:
        print(f"{count} certificate(s) to tag: run again with --apply")
    return 0


if __name__ == "__main__":
    sys.exit(main())
