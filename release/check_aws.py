"""Before a deployment: is there a region, can AWS be reached, are the credentials valid?

``make deploy`` and ``make deploy-example`` run ``python -m release.check_aws`` first, so
a missing setting stops them with one line saying what is wrong, not a traceback half
way through. STS answers on a global endpoint, so a working ``sts get-caller-identity``
proves nothing about the region: the region is checked on its own, first. A network
failure is told apart from a credential problem (without network, the credentials were
never checked).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

PROBE = Config(connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 1})
"""One quick attempt: the check should fail fast, not hang on a dead network."""
REJECTED = frozenset(
    {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "AccessDenied"}
)

SessionFactory = Callable[[str | None], Any]


class NotReady(Exception):
    """The AWS CLI cannot deploy from here; the message says why and what to do."""


def region_of(session: Any, environ: Mapping[str, str]) -> str:
    """The region the AWS CLI will use, or NotReady naming how to set one."""
    region: str | None = session.region_name
    if region:
        return region
    if environ.get("AWS_REGION"):
        raise NotReady(
            f"AWS_REGION={environ['AWS_REGION']} is set, but the AWS CLI (version 1) reads "
            "AWS_DEFAULT_REGION: export AWS_DEFAULT_REGION, or pass REGION=<region>"
        )
    raise NotReady(
        "no AWS region: pass REGION=<region> (e.g. REGION=eu-west-1), export "
        "AWS_DEFAULT_REGION, or run `aws configure set region <region>`"
    )


def identity(session: Any, region: str) -> str:
    """Who the credentials are, by one STS call; NotReady saying what went wrong."""
    try:
        caller = session.client("sts", region_name=region, config=PROBE).get_caller_identity()
    except ConnectionError as exc:
        raise NotReady(
            f"could not connect to AWS ({exc}); check the network or proxy, and that "
            f"{region!r} is a region name. The credentials were not checked."
        ) from None
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise NotReady(
            f"no usable AWS credentials ({exc}): set AWS_PROFILE, run `aws configure` "
            "or `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except (SSOError, TokenRetrievalError) as exc:
        raise NotReady(f"the SSO session cannot be used ({exc}): run `aws sso login`") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        what = "AWS rejected the credentials" if code in REJECTED else "STS refused the call"
        raise NotReady(f"{what} ({code}: {message})") from None
    except BotoCoreError as exc:
        raise NotReady(f"the AWS CLI's configuration cannot be used: {exc}") from None
    return f"account {caller['Account']} as {caller['Arn']}, region {region}"


def default_session(region: str | None) -> Any:
    return boto3.session.Session(region_name=region)


def check(
    region: str | None,
    environ: Mapping[str, str] = os.environ,
    session_factory: SessionFactory = default_session,
) -> str:
    """What the deployment will run as; NotReady when it cannot run."""
    try:
        session = session_factory(region)
    except ProfileNotFound as exc:
        raise NotReady(f"{exc}: fix AWS_PROFILE or ~/.aws/config") from None
    return identity(session, region_of(session, environ))


def main(
    argv: Sequence[str] | None = None, session_factory: SessionFactory = default_session
) -> int:
    parser = argparse.ArgumentParser(prog="python -m release.check_aws", description=__doc__)
    parser.add_argument("--region", help="the region to deploy to (default: the CLI's own)")
    parser.add_argument("--target", default="deploy", help="the make target, for messages")
    args = parser.parse_args(argv)
    try:
        found = check(args.region, os.environ, session_factory)
        print(f"make {args.target}: deploying with {found}")
    except NotReady as exc:
        print(f"make {args.target}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
