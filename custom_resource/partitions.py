"""The DNS suffixes of the AWS partitions: where CloudFormation's S3 buckets live.

A ResponseURL and a WaitConditionHandle are pre-signed URLs on an S3 host of the stack's
partition; the function PUTs to them, so it accepts these hosts and no others. The list
follows the partitions botocore knows (``dnsSuffix`` in its ``partitions.json``);
``tests/test_partitions.py`` fails when an upgraded botocore knows one more.
"""

from __future__ import annotations

import re

DNS_SUFFIXES = (
    "amazonaws.com",  # aws, aws-us-gov
    "amazonaws.com.cn",  # aws-cn
    "amazonaws.eu",  # aws-eusc: the AWS European Sovereign Cloud
    "c2s.ic.gov",  # aws-iso
    "sc2s.sgov.gov",  # aws-iso-b
    "cloud.adc-e.uk",  # aws-iso-e
    "csp.hci.ic.gov",  # aws-iso-f
)

SUFFIX_PATTERN = "(?:" + "|".join(re.escape(suffix) for suffix in DNS_SUFFIXES) + ")"
"""A regular expression matching exactly one of the suffixes (without the leading dot)."""


def is_aws_host(host: str) -> bool:
    """Whether ``host`` is a name under one of the partitions' DNS suffixes."""
    return any(host.endswith("." + suffix) for suffix in DNS_SUFFIXES)
