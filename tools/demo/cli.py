"""``python -m tools.demo`` (``make demo``): the provider's stack lifecycle, locally.

moto's server (127.0.0.1, a free port) plays AWS; the provider's real handler runs on the
emulator's Lambda, as ``template/provider.yaml`` deploys it (900 s timeout, two async
retries), in simulated time: a certificate pending for 40 minutes takes three hops. The
provider and example stacks are deployed from ``template/``; moto's CloudFormation sends
the Create; the Updates and Deletes are sent as CloudFormation sends them. Events are
shown as the simulated clock reaches them, an hour in a few seconds (``--speed``).

Exit status: 0 when every step ended as expected (with ``--fail``, the failure path is
what is expected), 1 otherwise, 2 on bad arguments (also a name the provider refuses),
130 when interrupted.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence

from .options import FAILURE_MODES, ROOT, DemoOptions
from .output import Output, json_report
from .run import run


def _speed(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive (inf: as fast as possible)")
    return value


def parse_args(argv: Sequence[str] | None = None) -> tuple[DemoOptions, argparse.Namespace]:
    defaults = DemoOptions()
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo",
        description="Run WaitForCertificate's stack lifecycle on a local AWS emulation "
        "(moto), in simulated time.",
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
        "--validation-minutes",
        type=float,
        default=defaults.validation_minutes,
        metavar="M",
        help="simulated minutes a certificate stays PENDING_VALIDATION (default %(default)g)",
    )
    parser.add_argument(
        "--in-use-minutes",
        type=float,
        default=defaults.in_use_minutes,
        metavar="M",
        help="simulated minutes a distribution keeps using the certificate at Delete "
        "(default %(default)g)",
    )
    parser.add_argument(
        "--fail",
        choices=sorted(FAILURE_MODES),
        help="make the Create fail: 'validation' ends in FAILED and the rollback Delete; "
        "'crash' kills the first hop right after it requested the certificate, on every "
        "delivery, so Lambda retries it twice, then its on-failure destination runs the "
        "last-resort responder, which answers FAILED; the rollback Delete finds the "
        "certificate by its tags",
    )
    parser.add_argument(
        "--wait-for",
        action="store_true",
        help="run Custom::WaitFor instead: a stack (template/example-wait-for.yaml) waits for "
        "an S3 object uploaded --validation-minutes later, then is deleted",
    )
    parser.add_argument(
        "--speed",
        type=_speed,
        metavar="X",
        help=f"simulated seconds shown per real second (default {defaults.speed:g}: an hour "
        "in 6 s; inf: no pacing, the default with --quiet and --json)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="print only the summary")
    output.add_argument("--json", action="store_true", help="print one JSON report, nothing else")
    args = parser.parse_args(argv)
    if args.validation_minutes < 0 or args.in_use_minutes < 0:
        parser.error("--validation-minutes and --in-use-minutes must not be negative")
    if args.wait_for and args.fail:
        parser.error("--wait-for runs its own story: it takes no --fail")
    quiet = args.quiet or args.json
    speed = args.speed or (math.inf if quiet else defaults.speed)
    sans = tuple(name.strip() for value in args.san for name in value.split(",") if name.strip())
    options = DemoOptions(
        domain=args.domain,
        sans=sans,
        new_domain=args.new_domain,
        zone=args.zone,
        validation_minutes=args.validation_minutes,
        in_use_minutes=args.in_use_minutes,
        fail=args.fail,
        wait_for=args.wait_for,
        speed=speed,
    )
    return options, args


def main(argv: Sequence[str] | None = None) -> int:
    options, args = parse_args(argv)
    # crhelper builds (unused) boto3 clients at start-up and fails without a region.
    os.environ.setdefault("AWS_REGION", options.region)
    os.environ.setdefault("AWS_DEFAULT_REGION", options.region)
    output = Output(sys.stdout, live=not (args.quiet or args.json))
    output.start(options, options.provider_template.relative_to(ROOT).as_posix())
    result, timeline = run(options, output)
    if args.json:
        print(json_report(result, timeline.events))
    else:
        output.summary(result)
    if result.interrupted:
        return 130
    if result.refused and result.ok:
        return 2
    return 0 if result.ok else 1
