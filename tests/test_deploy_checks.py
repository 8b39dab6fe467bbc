"""`make deploy`'s first check (release/check_aws.py), with fake sessions, and `make help`.

Nothing here talks to AWS: the STS client is a stand-in raising what botocore raises.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
)

from release.check_aws import NotReady, check, main

ROOT = Path(__file__).resolve().parent.parent
IDENTITY = {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/deployer"}


class FakeSession:
    def __init__(self, region: str | None, answer: Any = IDENTITY) -> None:
        self.region_name = region
        self.answer = answer
        self.calls: list[str] = []

    def client(self, service: str, region_name: str, config: Any) -> Any:
        session = self

        class Sts:
            def get_caller_identity(self) -> dict[str, str]:
                session.calls.append(region_name)
                if isinstance(session.answer, Exception):
                    raise session.answer
                return dict(session.answer)

        assert service == "sts" and config.retries["total_max_attempts"] == 1
        return Sts()


def run(region: str | None, answer: Any = IDENTITY, **environ: str) -> tuple[str, FakeSession]:
    session = FakeSession(region, answer)
    return check(None, environ, lambda _: session), session


def test_a_missing_region_is_named_before_any_call() -> None:
    with pytest.raises(NotReady, match=r"no AWS region: pass REGION=<region>") as problem:
        run(None)
    assert "aws configure set region" in str(problem.value)


def test_aws_region_alone_is_not_what_the_cli_reads() -> None:
    with pytest.raises(NotReady, match="reads AWS_DEFAULT_REGION"):
        run(None, AWS_REGION="eu-west-1")


def test_no_network_is_not_blamed_on_the_credentials() -> None:
    offline = EndpointConnectionError(endpoint_url="https://sts.eu-west-1.amazonaws.com/")
    with pytest.raises(NotReady) as problem:
        run("eu-west-1", offline)
    message = str(problem.value)
    assert message.startswith("could not connect to AWS")
    assert "The credentials were not checked" in message


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NoCredentialsError(), "no usable AWS credentials (Unable to locate credentials)"),
        (TokenRetrievalError(provider="sso", error_msg="expired"), "run `aws sso login`"),
        (
            ClientError(
                {"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetCallerIdentity"
            ),
            "AWS rejected the credentials (ExpiredToken: expired)",
        ),
        (
            ClientError({"Error": {"Code": "Throttling", "Message": "slow"}}, "GetCallerIdentity"),
            "STS refused the call (Throttling: slow)",
        ),
    ],
)
def test_credential_problems_say_what_is_wrong(error: Exception, expected: str) -> None:
    with pytest.raises(NotReady) as problem:
        run("eu-west-1", error)
    assert expected in str(problem.value)


def test_a_working_setup_names_account_identity_and_region() -> None:
    found, session = run("eu-west-1")
    assert found == f"account 123456789012 as {IDENTITY['Arn']}, region eu-west-1"
    assert session.calls == ["eu-west-1"]


def test_main_prints_one_line_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    def missing_profile(region: str | None) -> Any:
        raise ProfileNotFound(profile="nope")

    assert main(["--target", "deploy-example"], missing_profile) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("make deploy-example: The config profile (nope) could not be found")
    assert len(err.splitlines()) == 1


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.MULTILINE))
    listed = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    shown = set(re.findall(r"^  ([a-z-]+) ", listed, re.MULTILINE))
    assert shown == targets
    assert re.search(r"\.DEFAULT_GOAL := help", makefile)
