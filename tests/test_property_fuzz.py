"""Properties fuzzed with Hypothesis: any JSON is a valid parse or a PropertyError naming
a property, and a Delete answers SUCCESS (deleting its certificate) whatever it is sent.

CloudFormation sends strings, but a template can nest lists and objects anywhere, and a
caller of the function may send anything JSON can hold: unicode digits, huge numbers,
floats, booleans, nulls. Derandomized, so ``make test`` runs the same examples each time.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_resource.certificates.ownership import STACK_TAG
from custom_resource.certificates.properties import (
    DVO_KEYS,
    MAX_WAIT_TIMEOUT,
    TOP_LEVEL,
    CertificateProperties,
    PropertyError,
    parse_properties,
)
from tests.conftest import FUNCTION_ARN, STACK_ID, WAIT_HANDLE, World
from tests.lifecycle_helpers import delete_event

FUZZ = settings(derandomize=True, database=None, deadline=None)

TYPICAL = (
    "²",
    "①",
    "٣",
    "0",
    "1",
    "3600",
    "43200",
    "9" * 5000,
    "true",
    "false",
    "DNS",
    "EMAIL",
    "RSA_2048",
    "ENABLED",
    "example.com",
    "*.example.com",
    "Z0123456789ABC",
    "us-east-1",
    "arn:aws:iam::123456789012:role/dns",
    FUNCTION_ARN,
    WAIT_HANDLE,
)
"""Strings that reach deeper than random text: near-valid values and Unicode digits."""

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**4000), max_value=10**4000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(TYPICAL)
)
KEYS = st.sampled_from((*TOP_LEVEL, *DVO_KEYS, "Key", "Value")) | st.text(max_size=12)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
PROPERTY_VALUE = st.sampled_from(TYPICAL) | JSON
VALID = {"ServiceToken": FUNCTION_ARN, "DomainName": "example.com"}
PROPERTIES = st.builds(
    lambda base, known, unknown: {**base, **known, **unknown},
    st.sampled_from([{}, VALID, {**VALID, "WaitConditionHandle": WAIT_HANDLE}]),
    st.fixed_dictionaries({}, optional=dict.fromkeys(TOP_LEVEL, PROPERTY_VALUE)),
    st.dictionaries(st.text(max_size=12), JSON, max_size=2),
)
"""Every property, each present or not, half the time with a typical value; sometimes a
key the provider does not know."""


def names_a_property(problem: str, raw: dict[str, Any]) -> bool:
    return any(problem.startswith(f"{key}") for key in (*TOP_LEVEL, *raw) if key)


@settings(FUZZ, max_examples=300)
@given(PROPERTIES)
def test_any_properties_parse_or_fail_naming_a_property(raw: dict[str, Any]) -> None:
    try:
        parsed = parse_properties(raw)
    except PropertyError as exc:
        assert exc.problems, "a PropertyError says what is wrong"
        for problem in exc.problems:
            assert names_a_property(problem, raw) or problem.startswith(": "), problem
            assert len(problem) < 2000, "a problem quotes at most a part of the value"
    else:
        assert isinstance(parsed, CertificateProperties) and parsed.domain_name
        assert 1 <= parsed.service_timeout <= 3600
        assert 1 <= parsed.wait_timeout <= MAX_WAIT_TIMEOUT


@settings(FUZZ, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PROPERTIES)
def test_a_delete_answers_success_and_deletes_whatever_its_properties(
    world: World, raw: dict[str, Any]
) -> None:
    owned = [{"Key": STACK_TAG, "Value": STACK_ID}]  # as the provider would have tagged it
    arn = world.acm().request_certificate(DomainName="example.com", Tags=owned)["CertificateArn"]

    world.lam.invoke(delete_event(arn, raw))

    assert world.sink.last == {**world.sink.last, "Status": "SUCCESS", "PhysicalResourceId": arn}
    assert arn not in {c.arn for c in world.certificates()}
