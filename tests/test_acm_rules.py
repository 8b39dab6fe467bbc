"""ACM's rules: limits, patterns and enums come from botocore's model.

Each bad case breaks one constraint of the model (or one rule ACM documents) and must be
rejected naming the property; each edge case sits exactly at a limit and must pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custom_resource.certificates.acm_rules import MAX_DOMAIN_NAME_OCTETS, acm_rules
from custom_resource.certificates.properties import MAX_USER_TAGS, parse_properties
from custom_resource.checks import PropertyError
from tests.conftest import FUNCTION_ARN, World, make_event

RULES = acm_rules()
HANDLE = (
    "https://cloudformation-waitcondition-eu-west-1.s3.eu-west-1.amazonaws.com/"
    "arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack/demo/id/Handle"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-Signature=s3cret"
)


def name_of_length(length: int, suffix: str = ".example.com") -> str:
    """A valid name of exactly ``length`` characters, in labels of at most 63."""
    labels, left = [], length - len(suffix)
    while left > 0:
        size = min(63, left - 1) if left > 64 else left
        labels.append("a" * size)
        left -= size + 1
    return ".".join(labels) + suffix


def bad_names() -> list[tuple[str, str]]:
    """Names that break one part of ACM's DomainNameString (length or pattern)."""
    too_long = name_of_length(RULES.domain.max + 1)
    return [
        (too_long, f"must be 1 to {RULES.domain.max} characters"),
        ("", "must be 1 to"),
        ("-www.example.com", "is not a fully qualified domain name"),
        ("www-.example.com", "is not a fully qualified domain name"),
        ("a" * 64 + ".example.com", "is not a fully qualified domain name"),
        ("bad_name.example.com", "is not a fully qualified domain name"),
        ("localhost", "is not a fully qualified domain name"),
        ("www.example.c", "top-level label 'c' is shorter than 2"),
        ("www.*.example.com", "is not a fully qualified domain name"),
        ("www..example.com", "is not a fully qualified domain name"),
        ("example.com.", "must not end with a dot"),
        ("exämple.com", "is not a fully qualified domain name"),
        ("ex ample.com", "is not a fully qualified domain name"),
    ]


GAP = "…"
"""In an expected message: any text (the rejected value) may stand here."""


def rejected(props: dict[str, Any], expected: str) -> str:
    """The rejection of ``props`` (added to a valid resource), checked against ``expected``."""
    raw = {"ServiceToken": FUNCTION_ARN, "DomainName": "example.com", **props}
    with pytest.raises(PropertyError) as caught:
        parse_properties(raw)
    message = str(caught.value)
    head, _, tail = expected.partition(GAP)
    assert head in message and tail in message[message.index(head) :], message
    return message


def cases() -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    for name, problem in bad_names():
        found.append(({"DomainName": name}, f"DomainName: {GAP}{problem}"))
        found.append(
            ({"SubjectAlternativeNames": [name]}, f"SubjectAlternativeNames[0]: {GAP}{problem}")
        )
    domain_65 = name_of_length(MAX_DOMAIN_NAME_OCTETS + 1)
    ca = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/abc"
    found += [
        ({"DomainName": domain_65}, "DomainName: is 65 octets; ACM allows at most 64"),
        (
            {"SubjectAlternativeNames": [f"n{i}.example.com" for i in range(RULES.max_names + 1)]},
            f"SubjectAlternativeNames: has {RULES.max_names + 1} entries",
        ),
        (
            {
                "DomainValidationOptions": [
                    {"DomainName": "example.com"} for _ in range(RULES.max_validation_options + 1)
                ]
            },
            f"DomainValidationOptions: has {RULES.max_validation_options + 1} entries",
        ),
        ({"ValidationMethod": "HTTP"}, "ValidationMethod: 'HTTP' is not one of DNS, EMAIL"),
        ({"ValidationMethod": "dns"}, "ValidationMethod: 'dns' is not one of"),
        ({"KeyAlgorithm": "RSA_4096"}, "KeyAlgorithm: 'RSA_4096' is not one of"),
        ({"KeyAlgorithm": "EC_secp521r1"}, "KeyAlgorithm: 'EC_secp521r1' is not one of"),
        ({"KeyAlgorithm": "rsa_2048"}, "KeyAlgorithm: 'rsa_2048' is not one of"),
        ({"CertificateTransparencyLoggingPreference": "ON"}, "CertificateTransparencyLogging"),
        ({"CertificateExport": "TRUE"}, "CertificateExport: 'TRUE' is not one of ENABLED"),
        ({"CertificateExport": "enabled"}, "CertificateExport: 'enabled' is not one of"),
        ({"CertificateAuthorityArn": "arn:aws:acm-pca"}, "CertificateAuthorityArn: must be 20"),
        ({"CertificateAuthorityArn": ca + "x" * 2048}, "CertificateAuthorityArn: must be 20"),
        ({"CertificateAuthorityArn": ca + "é"}, "CertificateAuthorityArn: does not match"),
        (
            {"CertificateAuthorityArn": ca.replace("acm-pca", "acm")},
            "CertificateAuthorityArn: does not match ACM's PcaArn pattern",
        ),
        (
            {"Tags": [{"Key": f"k{i}", "Value": ""} for i in range(MAX_USER_TAGS + 1)]},
            f"Tags: has {MAX_USER_TAGS + 1} entries; at most {MAX_USER_TAGS}",
        ),
        ({"Tags": [{"Key": "k" * (RULES.tag_key.max + 1)}]}, "Tags[0].Key: must be 1 to 128"),
        ({"Tags": [{"Key": ""}]}, "Tags[0].Key: must be 1 to 128"),
        (
            {"Tags": [{"Key": "k", "Value": "v" * (RULES.tag_value.max + 1)}]},
            "Tags[0].Value: must be 0 to 256",
        ),
        ({"Tags": [{"Key": "cost#center", "Value": "x"}]}, "Tags[0].Key: does not match"),
        ({"Tags": [{"Key": "team", "Value": "web!"}]}, "Tags[0].Value: does not match"),
        ({"Tags": [{"Key": "line\nbreak", "Value": "x"}]}, "Tags[0].Key: does not match"),
        ({"Tags": [{"Key": "AWS:owner", "Value": "x"}]}, "Tags[0].Key: 'AWS:owner' starts with"),
        (
            {
                "ValidationMethod": "EMAIL",
                "DomainValidationOptions": [
                    {"DomainName": "example.com", "ValidationDomain": "other.com"}
                ],
            },
            "DomainValidationOptions[0].ValidationDomain: 'other.com' is neither",
        ),
        (
            {
                "ValidationMethod": "EMAIL",
                "DomainValidationOptions": [
                    {"DomainName": "example.com", "ValidationDomain": "www.example.com"}
                ],
            },
            "DomainValidationOptions[0].ValidationDomain: 'www.example.com' is neither",
        ),
        ({"WaitConditionHandle": HANDLE.replace("https", "http")}, "WaitConditionHandle: the"),
        (
            {"WaitConditionHandle": HANDLE.replace("cloudformation-waitcondition", "my-bucket")},
            "WaitConditionHandle: the value is not https on CloudFormation's wait-condition",
        ),
        (
            {"WaitConditionHandle": HANDLE.replace(".s3.eu-west-1.", ".s3.us-east-1.")},
            "WaitConditionHandle: the value names two different regions",
        ),
        ({"WaitConditionHandle": HANDLE.split("?")[0]}, "WaitConditionHandle: the value is not"),
        (
            {"WaitConditionHandle": HANDLE, "WaitTimeout": "43201"},
            "WaitTimeout: '43201' is not a whole number from 1 to 43200",
        ),
        ({"WaitConditionHandle": HANDLE, "WaitTimeout": "0"}, "WaitTimeout: '0' is not a whole"),
        ({"WaitTimeout": "600"}, "WaitTimeout: is only used with WaitConditionHandle"),
    ]
    return found


BAD = cases()


def test_there_are_at_least_40_bad_cases() -> None:
    assert len(BAD) >= 40


@pytest.mark.parametrize(("props", "expected"), BAD, ids=[e[:60] for _, e in BAD])
def test_a_broken_acm_rule_is_rejected_naming_the_property(
    props: dict[str, Any], expected: str
) -> None:
    assert "s3cret" not in rejected(props, expected), "a handle is never echoed"


@pytest.mark.parametrize(("props", "expected"), BAD[::8], ids=[e[:60] for _, e in BAD[::8]])
def test_through_the_handler_nothing_is_requested(
    world: World, props: dict[str, Any], expected: str
) -> None:
    event = make_event(DomainName="example.com")
    event["ResourceProperties"].update(props)

    world.lam.run(event)

    [body] = world.sink.bodies
    head, _, tail = expected.partition(GAP)
    assert body["Status"] == "FAILED" and head in body["Reason"] and tail in body["Reason"]
    assert world.calls == []


EDGES: list[dict[str, Any]] = [
    {"DomainName": name_of_length(MAX_DOMAIN_NAME_OCTETS)},
    {"SubjectAlternativeNames": [name_of_length(RULES.domain.max)]},
    {"SubjectAlternativeNames": ["a" * 63 + ".io"]},
    {"DomainName": "*.example.io"},
    {"SubjectAlternativeNames": [f"n{i}.example.com" for i in range(RULES.max_names)]},
    {"Tags": [{"Key": f"k{i}", "Value": ""} for i in range(MAX_USER_TAGS)]},
    {"Tags": [{"Key": "k" * RULES.tag_key.max, "Value": "v" * RULES.tag_value.max}]},
    {"Tags": [{"Key": "Kostenstelle Ü", "Value": "a_b.c:d/e=f+g-h@1"}]},
    {"Tags": [{"Key": "k"}]},
    {"CertificateAuthorityArn": "arn:a:acm-pca:b:1:c/d" + "e" * (RULES.ca_arn.min - 21)},
    {"CertificateAuthorityArn": "arn:aws:acm-pca:x:1:" + "c" * (RULES.ca_arn.max - 20)},
    {"KeyAlgorithm": " EC_secp384r1 ", "CertificateExport": "ENABLED"},
    {
        "ValidationMethod": "EMAIL",
        "DomainValidationOptions": [
            {"DomainName": "example.com", "ValidationDomain": "example.com"}
        ],
    },
    {
        "DomainName": "*.www.example.com",
        "ValidationMethod": "EMAIL",
        "DomainValidationOptions": [
            {"DomainName": "*.www.example.com", "ValidationDomain": "example.com"}
        ],
    },
    {"WaitConditionHandle": HANDLE, "WaitTimeout": "1"},
    {"WaitConditionHandle": HANDLE, "WaitTimeout": "43200"},
    {"WaitConditionHandle": HANDLE.replace(".s3.eu-west-1.amazonaws.com", ".s3.amazonaws.com")},
    {"WaitConditionHandle": HANDLE.replace(".s3.eu-west-1.", ".s3-eu-west-1.")},
    {
        "WaitConditionHandle": HANDLE.replace("eu-west-1", "cn-north-1").replace(
            "amazonaws.com/", "amazonaws.com.cn/"
        )
    },
]


@pytest.mark.parametrize("props", EDGES, ids=range(len(EDGES)))
def test_values_at_each_limit_are_accepted(props: dict[str, Any]) -> None:
    parse_properties({"ServiceToken": FUNCTION_ARN, "DomainName": "example.com", **props})


def test_whitespace_around_names_and_enums_is_dropped_but_kept_in_tags() -> None:
    props = parse_properties(
        {
            "ServiceToken": FUNCTION_ARN,
            "DomainName": " Example.com ",
            "ValidationMethod": " DNS",
            "Tags": [{"Key": " padded ", "Value": " value "}],
        }
    )
    assert props.domain_name == "example.com" and props.validation_method == "DNS"
    assert props.tags == ((" padded ", " value "),)


def test_the_limits_are_the_models() -> None:
    assert (RULES.domain.min, RULES.domain.max) == (1, 253)
    assert RULES.max_names == 100 and RULES.max_tags == 50
    assert (RULES.tag_key.max, RULES.tag_value.max) == (128, 256)
    assert RULES.export == ("ENABLED", "DISABLED")


RULES_PAGE = Path(__file__).parent.parent / "docs" / "how-it-works.md"


def test_the_documented_table_is_the_models() -> None:
    page = RULES_PAGE.read_text()
    for line in RULES.table():
        assert line in page, f"{RULES_PAGE.name} lacks the rules table line {line!r}"
