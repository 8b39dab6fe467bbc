"""The cfn-lint rules for consumer templates (wait_for_certificate_lint), over both
resource types the provider serves: Custom::WaitForCertificate and Custom::WaitFor.

Templates are linted in-process through cfn-lint's API, with the rules loaded the way a
user's cfn-lint loads them (``--append-rules`` with the directory, or the module name).
"""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint
from cfnlint.core import get_rules
from cfnlint.rules import RulesCollection

from custom_resource.certificates.acm_rules import acm_rules
from custom_resource.certificates.certificate import certificate_data
from custom_resource.certificates.properties import parse_properties
from custom_resource.checks import PropertyError
from custom_resource.definitions import CERTIFICATE_ATTRIBUTES, RESOURCE_TYPES
from custom_resource.waiters.waiter import outputs_of
from custom_resource.waiters.waiter_properties import RESOURCE_TYPE as WAIT_FOR
from custom_resource.waiters.waiter_properties import parse_wait_for
from wait_for_certificate_lint._template import known_problems

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "wait_for_certificate_lint"
EXAMPLES = sorted((ROOT / "template").glob("example*.yaml"))
TYPE = "Custom::WaitForCertificate"
TOKEN = "arn:aws:lambda:eu-west-1:123456789012:function:wait-for-certificate"
HANDLE = "https://cloudformation-waitcondition-eu-west-1.s3.amazonaws.com/arn?X-Amz-Signature=x"


@pytest.fixture(scope="module")
def rules() -> RulesCollection:
    """cfn-lint's own rules and ours, loaded once (as ``-a <directory>`` does)."""
    return get_rules([str(RULES_DIR)], [], [])


def findings(rules: RulesCollection, text: str) -> list[tuple[str, int, str]]:
    """Our rules' findings: (rule id, line, message), in line order."""
    found = [
        (m.rule.id, m.linenumber, m.message)
        for m in lint(textwrap.dedent(text), rules=rules)
        if m.rule.id[1:3] == "97"
    ]
    return sorted(found, key=lambda f: (f[1], f[0], f[2]))


def certificate_template(properties: dict[str, Any], kind: str = TYPE) -> str:
    """A JSON template with one resource (a certificate by default) with these properties."""
    resource = {"Type": kind, "Properties": properties}
    return json.dumps({"Resources": {"Certificate": resource}})


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_no_finding_on_the_shipped_examples(rules, example):
    assert [m.message for m in lint(example.read_text(), rules=rules)] == []


def test_the_misspellings_cfn_lint_let_through_are_caught(rules):
    template = """\
        Resources:
          Certificate:
            Type: Custom::WaitForCertificate
            Properties:
              ServiceToken: !ImportValue wait-for-certificate-ServiceToken
              DomainNmae: www.example.com
              ServiceTimeout: 7200
        Outputs:
          Arn:
            Value: !GetAtt Certificate.Arnn
        """
    assert findings(rules, template) == [
        ("E9702", 4, f"{TYPE} Certificate: DomainName is required"),
        ("E9701", 6, f"{TYPE} Certificate: unknown property DomainNmae; did you mean DomainName?"),
        (
            "E9703",
            7,
            f"{TYPE} Certificate: ServiceTimeout: '7200' is not a whole number from 1 to 3600",
        ),
        (
            "E9704",
            10,
            f"Fn::GetAtt Certificate.Arnn: {TYPE} has no attribute Arnn; did you mean Arn?",
        ),
    ]


def test_every_rule_fires_on_a_bad_template(rules):
    template = """\
        Parameters:
          Zone:
            Type: String
        Resources:
          Certificate:
            Type: Custom::WaitForCertificate
            Properties:
              ServiceToken: !ImportValue wait-for-certificate-ServiceToken
              DomainName: www.example.com
              SubjectAlternativeNames: [api.example.com, "bad name.example.com"]
              HostedZoneId: !Ref Zone
              ValidationMethod: HTTP
              KeyAlgorithm: RSA_4096
              CertificateTransparencyLoggingPreference: Enabled
              CertificateExport: enabled
              RemoveValidationRecords: yes please
              Region: us-est-1
              WaitTimeout: 50000
              Tags:
                - Key: aws:owner
                  Value: me
                - Kye: team
                  Value: web
          NoProperties:
            Type: Custom::WaitForCertificate
        Outputs:
          Record:
            Value: !GetAtt [Certificate, ValidationRecordname]
          Json:
            Value: {"Fn::GetAtt": "Certificate.Records"}
          Url:
            Value: !Sub "https://${Certificate.DomainName}/${Certificate.Domain}"
        """
    problem = f"{TYPE} Certificate:"
    assert findings(rules, template) == [
        (
            "E9703",
            10,
            f"{problem} SubjectAlternativeNames[1]: 'bad name.example.com' is not a fully "
            "qualified domain name (ACM's DomainNameString pattern: labels of letters, "
            "digits and hyphens, optionally starting with '*.')",
        ),
        ("E9703", 12, f"{problem} ValidationMethod: 'HTTP' is not one of DNS, EMAIL"),
        (
            "E9703",
            13,
            f"{problem} KeyAlgorithm: 'RSA_4096' is not one of "
            "RSA_2048, EC_prime256v1, EC_secp384r1",
        ),
        (
            "E9703",
            14,
            f"{problem} CertificateTransparencyLoggingPreference: 'Enabled' is not "
            "one of ENABLED, DISABLED",
        ),
        ("E9703", 15, f"{problem} CertificateExport: 'enabled' is not one of ENABLED, DISABLED"),
        ("E9703", 16, f"{problem} RemoveValidationRecords: 'yes please' is not 'true' or 'false'"),
        (
            "W9705",
            17,
            f"{TYPE} Certificate: Region 'us-est-1' is not a known Region; "
            "did you mean us-west-1, us-east-1 or us-west-2?",
        ),
        ("E9703", 18, f"{problem} WaitTimeout: '50000' is not a whole number from 1 to 43200"),
        ("E9703", 18, f"{problem} WaitTimeout: is only used with WaitConditionHandle"),
        ("E9703", 20, f"{problem} Tags[0].Key: 'aws:owner' starts with 'aws:', which AWS reserves"),
        ("E9701", 22, f"{problem} Tags[1]: unknown key Kye; did you mean Key?"),
        ("E9703", 22, f"{problem} Tags[1].Key: is required"),
        ("E9702", 24, f"{TYPE} NoProperties: DomainName is required"),
        ("E9702", 24, f"{TYPE} NoProperties: ServiceToken is required"),
        (
            "E9704",
            28,
            f"Fn::GetAtt Certificate.ValidationRecordname: {TYPE} has no attribute "
            "ValidationRecordname; did you mean ValidationRecordName?",
        ),
        (
            "E9704",
            30,
            f"Fn::GetAtt Certificate.Records: {TYPE} has no attribute Records; "
            f"allowed: {', '.join(CERTIFICATE_ATTRIBUTES)}",
        ),
        (
            "E9704",
            32,
            f"Fn::Sub Certificate.Domain: {TYPE} has no attribute Domain; did you mean DomainName?",
        ),
    ]


def test_intrinsic_values_and_the_problems_that_depend_on_them_are_left_to_deploy_time(rules):
    template = """\
        Parameters:
          Text:
            Type: String
        Conditions:
          Mail: !Equals [!Ref Text, "yes"]
        Resources:
          Handle:
            Type: AWS::CloudFormation::WaitConditionHandle
          Certificate:
            Type: Custom::WaitForCertificate
            Properties:
              ServiceToken: !Ref Text
              ServiceTimeout: !Ref Text
              DomainName: !Ref Text
              SubjectAlternativeNames: [!Ref Text, api.example.com]
              ValidationMethod: !If [Mail, EMAIL, DNS]
              DomainValidationOptions:
                - DomainName: api.example.com
                  HostedZoneId: !Ref Text
                  Route53RoleArn: arn:aws:iam::123456789012:role/dns
                - DomainName: www.example.com
                  ValidationDomain: example.com
              Route53RoleExternalId: shared-secret
              Region: !Sub "${AWS::Region}"
              Tags:
                - Key: !Ref Text
                  Value: !Ref AWS::StackName
                - Key: !Ref Text
                  Value: two
              WaitConditionHandle: !Ref Handle
              WaitTimeout: 43200
          ViaRole:
            Type: Custom::WaitForCertificate
            Properties:
              ServiceToken: !Ref Text
              DomainName: www.example.com
              HostedZoneId: !Ref Text
              Route53RoleArn: !Ref Text
              Route53RoleExternalId: shared-secret
          ViaLiteralRole:
            Type: Custom::WaitForCertificate
            Properties:
              ServiceToken: !Ref Text
              DomainName: www.example.com
              HostedZoneId: !Ref Text
              Route53RoleArn: arn:aws:iam::123456789012:role/dns
          ViaZoneOfEntry:
            Type: Custom::WaitForCertificate
            Properties:
              ServiceToken: !Ref Text
              DomainName: www.example.com
              Route53RoleArn: arn:aws:iam::123456789012:role/dns
              DomainValidationOptions:
                - DomainName: www.example.com
                  HostedZoneId: !Ref Text
          ViaPrivateCa:
            Type: Custom::WaitForCertificate
            Properties:
              ServiceToken: !Ref Text
              DomainName: www.example.com
              CertificateAuthorityArn: arn:aws:acm-pca:eu-west-1:123456789012:ca/x
              ValidationMethod: !If [Mail, !Ref AWS::NoValue, DNS]
        Outputs:
          Arn:
            Value: !Sub ["${Certificate.Custom}", {Certificate.Custom: x}]
          Attribute:
            Value: !GetAtt [Certificate, !Ref Text]
        """
    assert findings(rules, template) == []


def test_a_list_with_a_conditional_entry_is_not_counted(rules):
    """An entry's ``Fn::If`` may drop it (``AWS::NoValue``): the count is not known."""
    limit = acm_rules().max_tags
    tags: list[Any] = [{"Key": f"k{i}", "Value": "v"} for i in range(limit)]
    optional = {"Key": "extra", "Value": "v"}
    tags.append({"Fn::If": ["Extra", optional, {"Ref": "AWS::NoValue"}]})
    properties = {"ServiceToken": TOKEN, "DomainName": "example.com", "Tags": tags}
    template = json.loads(certificate_template(properties))
    template["Conditions"] = {"Extra": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}}
    assert findings(rules, json.dumps(template)) == []
    tags[-1] = optional
    assert [rule for rule, _, _ in findings(rules, certificate_template(properties))] == ["E9703"]


@pytest.mark.parametrize(
    "properties",
    [
        {"DomainName": "WWW.Example.com", "Tags": [{"Key": "k", "Value": "v"}] * 60},
        {"DomainName": "a" * 70 + ".example.com", "Route53RoleExternalId": "x"},
        {
            "DomainName": "www.example.com",
            "ValidationMethod": "EMAIL",
            "HostedZoneId": "/hostedzone/zone",
            "CertificateAuthorityArn": "arn:aws:acm-pca:eu-west-1:123456789012:ca/é",
            "DomainValidationOptions": [
                {"DomainName": "api.example.com", "ValidationDomain": "other.com"},
                "not an object",
            ],
            "ServiceTimeout": "0",
            "WaitConditionHandle": "http://example.com/",
        },
    ],
)
def test_a_literal_value_gets_the_handler_s_own_words(rules, properties):
    """For literal properties the rules report exactly the problems the function would."""
    properties = {"ServiceToken": TOKEN, **properties}
    with pytest.raises(PropertyError) as raised:
        parse_properties(properties)
    expected = sorted(f"{TYPE} Certificate: {problem}" for problem in raised.value.problems)
    reported = sorted(m for _, _, m in findings(rules, certificate_template(properties)))
    assert reported == expected


def test_tag_limit_is_the_handler_s(rules):
    """The handler's limit, whatever it is (ACM's 50, less the provider's own tags)."""
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(acm_rules().max_tags + 1)]
    properties = {"ServiceToken": TOKEN, "DomainName": "example.com", "Tags": tags}
    with pytest.raises(PropertyError) as raised:
        parse_properties(properties)
    (only,) = findings(rules, certificate_template(properties))
    assert only[2] == f"{TYPE} Certificate: {raised.value.problems[0]}"


def test_a_valid_literal_resource_has_no_finding(rules):
    properties = {
        "ServiceToken": TOKEN,
        "ServiceTimeout": 1800,
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["*.example.com"],
        "ValidationMethod": "DNS",
        "HostedZoneId": "Z0123456789ABC",
        "Region": "us-east-1",
        "KeyAlgorithm": "EC_prime256v1",
        "CertificateTransparencyLoggingPreference": "ENABLED",
        "CertificateExport": "DISABLED",
        "RemoveValidationRecords": True,
        "Route53RoleArn": "arn:aws:iam::123456789012:role/dns",
        "Route53RoleExternalId": "shared-secret",
        "Tags": [{"Key": "team", "Value": "web"}],
        "WaitConditionHandle": HANDLE,
        "WaitTimeout": 43200,
    }
    parse_properties({k: str(v).lower() if v is True else v for k, v in properties.items()})
    assert findings(rules, certificate_template(properties)) == []


def test_the_rules_load_as_a_module_too():
    """``-a wait_for_certificate_lint`` once installed (or on PYTHONPATH)."""
    collection = RulesCollection()
    collection.create_from_module("wait_for_certificate_lint")
    assert sorted(collection.rules) == ["E9701", "E9702", "E9703", "E9704", "W9705"]


def test_the_attributes_are_those_the_handler_answers_with():
    record = {"Name": "_x.example.com.", "Type": "CNAME", "Value": "_y.acm-validations.aws."}
    certificate = {
        "DomainValidationOptions": [{"DomainName": "example.com", "ResourceRecord": record}]
    }
    data = certificate_data("arn", "example.com", certificate)
    assert tuple(data) == CERTIFICATE_ATTRIBUTES
    assert RESOURCE_TYPES[TYPE].attributes({}) == CERTIFICATE_ATTRIBUTES


ROLE = "arn:aws:iam::123456789012:role/dns"
BASES: list[dict[str, Any]] = [
    {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["*.example.com", "api.example.com"],
        "HostedZoneId": "Z0123456789ABC",
        "Route53RoleArn": ROLE,
        "Route53RoleExternalId": "shared-secret",
        "Region": "us-east-1",
        "KeyAlgorithm": "EC_prime256v1",
        "RemoveValidationRecords": "true",
        "Tags": [{"Key": "team", "Value": "web"}, {"Key": "team", "Value": "api"}],
    },
    {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["example.org"],
        "DomainValidationOptions": [
            {"DomainName": "example.com", "HostedZoneId": "Z1", "Route53RoleArn": ROLE},
            {"DomainName": "example.org", "HostedZoneId": "Z2"},
            {"DomainName": "example.net", "Route53RoleArn": ROLE},
        ],
        "Route53RoleExternalId": "shared-secret",
    },
    {
        "DomainName": "www.example.com",
        "ValidationMethod": "EMAIL",
        "HostedZoneId": "Z1",
        "DomainValidationOptions": [
            {"DomainName": "www.example.com", "ValidationDomain": "example.com"},
            {"DomainName": "api.example.com", "ValidationDomain": "x.com"},
        ],
    },
    {
        "DomainName": "www.example.com",
        "DomainValidationOptions": [
            {"DomainName": "www.example.com", "ValidationDomain": "example.com"}
        ],
        "Route53RoleArn": ROLE,
        "Route53RoleExternalId": "shared-secret",
    },
    {
        "DomainName": "www.example.com",
        "CertificateAuthorityArn": "arn:aws:acm-pca:eu-west-1:123456789012:ca/x",
        "ValidationMethod": "DNS",
        "WaitTimeout": "600",
        "ServiceTimeout": "7200",
    },
    {
        "DomainName": "www.example.com",
        "CertificateAuthorityArn": "arn:aws:acm-pca:eu-west-1:123456789012:ca/x",
    },
    {"DomainName": "www.example.com", "WaitConditionHandle": HANDLE, "WaitTimeout": "600"},
]
"""Literal properties, valid and not, that exercise every relation between properties
(a new relation in the parser needs a base here)."""

OBJECT = {"Bucket": "b", "Key": "k"}
TAGGED = {"State": "success", "Matcher": "pathAny", "Argument": "TagSet[].Value", "Expected": "x"}
NO_KEY = {"state": "retry", "matcher": "error", "expected": "NoSuchKey"}
WAIT_FOR_BASES: list[dict[str, Any]] = [
    {
        "Service": "s3",
        "Waiter": "ObjectExists",
        "Parameters": OBJECT,
        "Region": "us-east-1",
        "RoleArn": ROLE,
        "RoleExternalId": "shared-secret",
        "Outputs": {"ETag": "ETag", "Size": "ContentLength"},
        "Delay": "5",
        "ServiceTimeout": "600",
    },
    {
        "Service": "s3",
        "Operation": "GetObjectTagging",
        "Parameters": OBJECT,
        "Acceptors": [TAGGED, NO_KEY],
        "AllowWriteOperation": "false",
    },
    {"Service": "s3", "Waiter": "ObjectExists", "Operation": "HeadObject", "Parameters": OBJECT},
    {"Service": "s3", "Waiter": "object_exists", "Acceptors": [TAGGED], "Parameters": OBJECT},
    {
        "Service": "s3",
        "Operation": "PutObjectTagging",
        "Parameters": {**OBJECT, "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        "Acceptors": [{"State": "success", "Matcher": "status", "Expected": "200"}],
    },
    {
        "Service": "s3",
        "Operation": "PutObjectTagging",
        "Parameters": OBJECT,
        "Acceptors": [{"State": "success", "Matcher": "status", "Expected": "200"}],
        "AllowWriteOperation": "true",
    },
    {
        "Service": "s3",
        "Waiter": "ObjectExists",
        "Parameters": {"Bucket": "b"},
        "RoleExternalId": "shared-secret",
        "WaitTimeout": "600",
    },
    {
        "Service": "s3",
        "Waiter": "ObjectExists",
        "Parameters": OBJECT,
        "WaitConditionHandle": HANDLE,
        "WaitTimeout": "600",
    },
    {"Service": "s3", "Operation": "HeadObject", "Parameters": OBJECT, "Acceptors": [NO_KEY]},
    {"Service": "s3", "Operation": "HeadObject", "Parameters": OBJECT},
    {"Service": "s3", "Waiter": "ObjectExist", "Parameters": {"Kee": "k"}},
    {"Service": "s4", "Waiter": "ObjectExists", "Outputs": {"bad-name": "ETag", "X": "ETag["}},
]
"""The same for Custom::WaitFor: both forms, both at once, a write operation with and
without AllowWriteOperation, RoleExternalId and WaitTimeout alone, no success acceptor."""

FUNCTION = {"Fn::If": ["Condition", "x", {"Ref": "AWS::NoValue"}]}
"""Any intrinsic function: the rules treat them all alike, as unknown until deploy time."""


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place below ``value`` an intrinsic function could stand."""
    children = value.items() if isinstance(value, dict) else enumerate(value)
    found = []
    for key, child in children:
        found.append((*path, key))
        if isinstance(child, dict | list):
            found += _paths(child, (*path, key))
    return found


def _with_functions(base: dict[str, Any], paths: tuple[tuple[Any, ...], ...]) -> dict[str, Any]:
    """A copy of ``base`` with a function at each path (a new key, or a value replaced)."""
    template = json.loads(json.dumps(base))
    for path in paths:
        node: Any = template
        for step in path[:-1]:
            inside = isinstance(node, list) or (isinstance(node, dict) and step in node)
            node = node[step] if inside else None
        if node is template or isinstance(node, list) or path[-1] in (node or {}):
            node[path[-1]] = dict(FUNCTION)
    return template


@pytest.mark.parametrize(
    ("kind", "bases"), [(TYPE, BASES), (WAIT_FOR, WAIT_FOR_BASES)], ids=["certificate", "wait-for"]
)
def test_a_finding_holds_whatever_the_functions_resolve_to(kind, bases):
    """The base is one way the functions could resolve (a function standing for an absent
    property resolves to AWS::NoValue): whatever the rules report with one or two
    functions in place, the handler reports for the base too. Without functions, the
    rules report just what the handler does."""
    definition = RESOURCE_TYPES[kind]
    for properties in bases:
        base = {"ServiceToken": TOKEN, **properties}
        try:
            definition.parse(base)
            expected: list[str] = []
        except PropertyError as exc:
            expected = exc.problems
        assert [str(p) for p in known_problems(base, definition)] == expected
        places = _paths(base) + [(key,) for key in definition.properties if key not in base]
        for some in [*itertools.combinations(places, 1), *itertools.combinations(places, 2)]:
            reported = known_problems(_with_functions(base, some), definition)
            assert {str(p) for p in reported} <= set(expected), (base, some)


def test_every_rule_fires_on_a_bad_wait_for(rules):
    template = """\
        Resources:
          Upload:
            Type: Custom::WaitFor
            Properties:
              ServiceToken: !ImportValue wait-for-certificate-ServiceToken
              Service: s3
              Waiter: ObjectExist
              Region: us-est-1
              Delay: 900
              Timeout: 60
              Outputs: {ETag: ETag}
          Job:
            Type: Custom::WaitFor
            Properties:
              ServiceToken: !ImportValue wait-for-certificate-ServiceToken
              Service: s3
              Operation: PutObjectTagging
              Parameters: {Bucket: b, Key: k, Tagging: {TagSet: []}, Versoin: "1"}
              Acceptors:
                - {state: success, matcher: status, expected: "200"}
                - {Stat: failure, Matcher: pathAl, Expected: x}
          NoService:
            Type: Custom::WaitFor
            Properties:
              ServiceToken: !ImportValue wait-for-certificate-ServiceToken
              Waiter: ObjectExists
        Outputs:
          ETag:
            Value: !GetAtt Upload.ETag
          Misspelt:
            Value: !GetAtt Upload.Etag
          Sub:
            Value: !Sub "${Upload.Size}"
          None:
            Value: !GetAtt [NoService, Anything]
        """
    upload, job = f"{WAIT_FOR} Upload:", f"{WAIT_FOR} Job:"
    outputs = "(its attributes are the names in its Outputs)"
    assert findings(rules, template) == [
        (
            "E9703",
            7,
            f"{upload} Waiter: 'ObjectExist' is not a waiter of s3 (did you mean 'ObjectExists'?)",
        ),
        (
            "W9705",
            8,
            f"{upload} Region 'us-est-1' is not a known Region; "
            "did you mean us-west-1, us-east-1 or us-west-2?",
        ),
        ("E9703", 9, f"{upload} Delay: '900' is not a whole number from 1 to 300"),
        ("E9701", 10, f"{upload} unknown property Timeout; did you mean WaitTimeout?"),
        (
            "E9703",
            17,
            f"{job} Operation: PutObjectTagging is not read-only (its name does not start with "
            "Describe, Get, List, Head, BatchGet, BatchDescribe, Query, Scan, Search, Lookup, "
            "Select), and a wait must not change anything; set AllowWriteOperation: true if "
            "it only reads",
        ),
        ("E9703", 18, f"{job} Parameters.Versoin: unknown parameter (did you mean 'VersionId'?)"),
        (
            "E9703",
            21,
            f"{job} Acceptors[1].Matcher: 'pathAl' is not one of path, pathAll, pathAny, status, "
            "error (did you mean 'pathAll'?)",
        ),
        ("E9703", 21, f"{job} Acceptors[1].Stat: unknown key (did you mean 'State'?)"),
        ("E9703", 21, f"{job} Acceptors[1].State: is required, one of success, failure, retry"),
        ("E9702", 24, f"{WAIT_FOR} NoService: Service is required"),
        (
            "E9704",
            31,
            f"Fn::GetAtt Upload.Etag: {WAIT_FOR} has no attribute Etag {outputs}; "
            "did you mean ETag?",
        ),
        (
            "E9704",
            33,
            f"Fn::Sub Upload.Size: {WAIT_FOR} has no attribute Size {outputs}; allowed: ETag",
        ),
        (
            "E9704",
            35,
            f"Fn::GetAtt NoService.Anything: {WAIT_FOR} has no attribute Anything {outputs}; "
            "there are none",
        ),
    ]


def test_a_wait_for_s_attributes_are_its_outputs_unless_they_are_a_function(rules):
    """Each name in Outputs is an attribute, and nothing else is; Outputs given by an
    intrinsic function (or not an object) are known at deploy time only: no finding."""
    template = """\
        Parameters:
          Text:
            Type: String
        Conditions:
          Set: !Equals [!Ref Text, "yes"]
        Resources:
          Literal:
            Type: Custom::WaitFor
            Properties:
              ServiceToken: !Ref Text
              Service: s3
              Waiter: ObjectExists
              Parameters: {Bucket: !Ref Text, Key: k}
              Outputs: {ETag: ETag, Size: !If [Set, ContentLength, ETag]}
          Conditional:
            Type: Custom::WaitFor
            Properties:
              ServiceToken: !Ref Text
              Service: s3
              Waiter: ObjectExists
              Parameters: {Bucket: !Ref Text, Key: k}
              Outputs: !If [Set, {ETag: ETag}, !Ref AWS::NoValue]
          Parameter:
            Type: Custom::WaitFor
            Properties:
              ServiceToken: !Ref Text
              Service: s3
              Waiter: ObjectExists
              Parameters: {Bucket: !Ref Text, Key: k}
              Outputs: !Ref Text
          Whole:
            Type: Custom::WaitFor
            Properties: !If [Set, {ServiceToken: x}, {ServiceToken: y}]
        Outputs:
          A: {Value: !GetAtt Literal.ETag}
          B: {Value: !GetAtt [Literal, Size]}
          C: {Value: !Sub "${Literal.ETag}/${Literal.Size}"}
          D: {Value: !GetAtt Conditional.Anything}
          E: {Value: !Sub "${Parameter.Anything}"}
          F: {Value: !GetAtt Whole.Anything}
          G: {Value: !GetAtt [Literal, !Ref Text]}
          H: {Value: !GetAtt Literal.Arn}
        """
    assert findings(rules, template) == [
        (
            "E9704",
            42,
            f"Fn::GetAtt Literal.Arn: {WAIT_FOR} has no attribute Arn (its attributes are the "
            "names in its Outputs); allowed: ETag, Size",
        )
    ]


def test_a_wait_for_s_intrinsic_values_and_their_relations_are_left_to_deploy_time(rules):
    template = """\
        Parameters:
          Text:
            Type: String
        Resources:
          Handle:
            Type: AWS::CloudFormation::WaitConditionHandle
          Role:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
          Upload:
            Type: Custom::WaitFor
            Properties:
              ServiceToken: !Ref Text
              ServiceTimeout: !Ref Text
              Service: s3
              Waiter: ObjectExists
              Parameters: {Bucket: !Ref Text, Key: !Ref Text}
              Region: !Ref AWS::Region
              RoleArn: !GetAtt Role.Arn
              RoleExternalId: shared-secret
              WaitConditionHandle: !Ref Handle
              WaitTimeout: 43200
              Delay: !Ref Text
          Tagged:
            Type: Custom::WaitFor
            Properties:
              ServiceToken: !Ref Text
              Service: !Ref Text
              Operation: PutObjectTagging
              AllowWriteOperation: !Ref Text
              Acceptors:
                - {State: success, Matcher: status, Expected: !Ref Text}
                - !Ref Text
        """
    assert findings(rules, template) == []


@pytest.mark.parametrize(
    "properties",
    [
        {"Service": "s3", "Waiter": "ObjectExists", "Operation": "HeadObject", "Delay": "0"},
        {
            "Service": "s3",
            "Operation": "head_object",
            "Parameters": {"Bucket": "b", "Key": "k", "PartNumber": "one"},
            "Acceptors": [
                {"State": "retry", "Matcher": "status", "Expected": "ok"},
                {"state": "failure", "matcher": "error", "argument": "x", "expected": "404"},
            ],
            "RoleExternalId": "x",
            "Outputs": {"a-b": "ETag", "Size": "ContentLength[", "Ok": "ETag"},
            "WaitConditionHandle": "http://example.com/",
        },
        {"Service": "ecs", "Waiter": "services_stable", "Parameters": {"services": "web"}},
    ],
)
def test_a_literal_wait_for_gets_the_handler_s_own_words(rules, properties):
    properties = {"ServiceToken": TOKEN, **properties}
    with pytest.raises(PropertyError) as raised:
        parse_wait_for(properties)
    expected = sorted(f"{WAIT_FOR} Certificate: {problem}" for problem in raised.value.problems)
    reported = sorted(m for _, _, m in findings(rules, certificate_template(properties, WAIT_FOR)))
    assert reported == expected


def test_a_wait_for_s_attributes_are_those_the_handler_answers_with():
    """The table's attributes of a WaitFor are the Data its success answers with."""
    raw = {
        "ServiceToken": TOKEN,
        "Service": "s3",
        "Waiter": "ObjectExists",
        "Parameters": {"Bucket": "b", "Key": "k"},
        "Outputs": {"ETag": "ETag", "Size": "ContentLength", "Missing": "Nothing.Here"},
    }
    data = outputs_of(parse_wait_for(raw).outputs, {"ETag": '"abc"', "ContentLength": 3})
    assert tuple(data) == RESOURCE_TYPES[WAIT_FOR].attributes(raw) == ("ETag", "Size", "Missing")
    assert RESOURCE_TYPES[WAIT_FOR].attributes({**raw, "Outputs": None}) == ()
    assert RESOURCE_TYPES[WAIT_FOR].attributes({**raw, "Outputs": "${unresolved}"}) is None


@pytest.mark.parametrize("kind", sorted(RESOURCE_TYPES))
def test_the_table_s_required_properties_are_the_parser_s(kind):
    """Each property the table calls required, the parser refuses to go without."""
    definition = RESOURCE_TYPES[kind]
    with pytest.raises(PropertyError) as raised:
        definition.parse({})
    refused = {p.where for p in raised.value.found if p.text.startswith("is required")}
    assert set(definition.required) <= refused
    assert set(definition.required) <= set(definition.properties)


def test_the_rules_run_on_the_wait_for_example(rules):
    """The example is silent because its attributes are its Outputs' names: drop one and
    the Fn::GetAtt that reads it is reported."""
    text = (ROOT / "template" / "example-wait-for.yaml").read_text()
    assert "        RunningCount: " in text
    broken = text.replace("        RunningCount: ", "        Running: ")
    assert [(rule, message) for rule, _, message in findings(rules, broken)] == [
        (
            "E9704",
            f"Fn::GetAtt ServiceStable.RunningCount: {WAIT_FOR} has no attribute RunningCount "
            "(its attributes are the names in its Outputs); did you mean Running?",
        )
    ]
