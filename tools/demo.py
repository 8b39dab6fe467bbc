"""``make demo``: the provider's whole stack lifecycle on a local AWS emulation.

    python -m tools.demo [--domain NAME] [--san NAME ...] [--validation-delay S]
                         [--budget S] [--fail validation] [--quiet | --json]

moto's server (127.0.0.1, a free port) plays AWS; the provider's real handler runs in a
local Lambda runner for every invocation, with a Lambda time budget of a few seconds,
so a certificate that stays pending for a few seconds takes several self-re-invocations.
The provider and example stacks are deployed from ``template/``; moto's CloudFormation
sends the Create; the Updates and Deletes are sent as CloudFormation sends them.

Exit status: 0 when every step ended as expected (with ``--fail``, the failure path is
what is expected), 1 otherwise, 130 when interrupted, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .demo_output import Output, json_report
from .demo_run import run
from .demo_scenario import FAILURE_MODES, DemoOptions
from .timeline import Timeline


def parse_args(argv: Sequence[str] | None = None) -> tuple[DemoOptions, argparse.Namespace]:
    defaults = DemoOptions()
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo",
        description="Run WaitForCertificate's stack lifecycle on a local AWS emulation (moto).",
    )
    parser.add_argument("--domain", default=defaults.domain, help="certificate DomainName")
    parser.add_argument(
        "--san",
        action="append",
        default=[],
        metavar="NAME",
        help="a SubjectAlternativeName (repeat, or separate with commas)",
    )
    parser.add_argument(
        "--new-domain", help="DomainName of the replacing update (default: v2.<domain>)"
    )
    parser.add_argument("--zone", help="hosted zone to create (default: domain minus first label)")
    parser.add_argument(
        "--validation-delay",
        type=float,
        default=defaults.validation_delay,
        metavar="S",
        help="seconds a certificate stays PENDING_VALIDATION (default %(default)s)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=defaults.budget,
        metavar="S",
        help="compressed Lambda time budget per invocation (default %(default)s)",
    )
    parser.add_argument(
        "--in-use",
        type=float,
        default=defaults.in_use,
        metavar="S",
        help="seconds a distribution keeps using the certificate at Delete (default %(default)s)",
    )
    parser.add_argument(
        "--fail",
        choices=sorted(FAILURE_MODES),
        help="make the Create fail: 'validation' ends in FAILED and the rollback Delete",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="print only the summary")
    output.add_argument("--json", action="store_true", help="print one JSON report, nothing else")
    args = parser.parse_args(argv)
    if args.budget < 1:
        parser.error("--budget must be at least 1 second")
    if args.validation_delay < 0 or args.in_use < 0:
        parser.error("--validation-delay and --in-use must not be negative")
    sans = tuple(name.strip() for value in args.san for name in value.split(",") if name.strip())
    options = DemoOptions(
        domain=args.domain,
        sans=sans,
        new_domain=args.new_domain,
        zone=args.zone,
        validation_delay=args.validation_delay,
        budget=args.budget,
        in_use=args.in_use,
        fail=args.fail,
    )
    return options, args


def main(argv: Sequence[str] | None = None) -> int:
    options, args = parse_args(argv)
    # crhelper builds (unused) boto3 clients at start-up and fails without a region.
    os.environ.setdefault("AWS_REGION", options.region)
    os.environ.setdefault("AWS_DEFAULT_REGION", options.region)
    timeline = Timeline()
    output = Output(sys.stdout, live=not (args.quiet or args.json))
    timeline.listen(output)
    output.start(options)
    result = run(options, timeline, output)
    if args.json:
        print(json_report(result, timeline.events))
    else:
        output.summary(result)
    if result.interrupted:
        return 130
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
