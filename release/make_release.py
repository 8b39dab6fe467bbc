"""Build a release: the versioned, reproducible artefacts of one version, in ``dist/``.

``python -m release.make_release`` (what ``make release`` runs) writes, for the version
``V`` of ``pyproject.toml``:

- ``wait-for-certificate-V.zip``: the function package (``release.build_zip``);
- ``wait-for-certificate-V.yaml``: ``template/provider.yaml`` with its ``Release``
  mapping filled in (the version, and the package's SHA-256 as Lambda reports it, which
  names the function version it publishes) and both functions' ``Code`` naming the zip
  beside it: ready for ``aws cloudformation package`` and ``deploy``, or to publish;
- ``SHA256SUMS``: both files' SHA-256, as ``sha256sum --check`` reads them.

The template is rewritten as text, so its comments stay; each rewrite must match its
line exactly once, or the build fails. Two builds of the same sources give the same
bytes (the zip is reproducible, the rest is derived from it).
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import build_zip
from .build_zip import ROOT, BuildError

NAME = "wait-for-certificate"
TEMPLATE = ROOT / "template" / "provider.yaml"
DIST = ROOT / "dist"
SUMS = "SHA256SUMS"

CHECKOUT_VERSION = "0.0.0+checkout"
"""What the repository's template says in place of a version: no release wrote it."""
CHECKOUT_SHA = "not-a-release"
CHECKOUT_CODE = "../dist/wait-for-certificate.zip"
"""The repository's template names the zip ``make build`` writes."""


@dataclass(frozen=True)
class Release:
    version: str
    package: Path
    template: Path
    sums: Path


def code_sha256(package: bytes) -> str:
    """The package's hash as Lambda reports it (``CodeSha256``): base64 of the SHA-256."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode()


def release_template(source: str, version: str, package_name: str, sha: str) -> str:
    """The provider template of a release: its version, its package and that package's hash."""
    rewrites = [
        (rf"^(\s+Version: ){re.escape(CHECKOUT_VERSION)}$", rf'\g<1>"{version}"'),
        (rf"^(\s+CodeSha256: ){re.escape(CHECKOUT_SHA)}$", rf'\g<1>"{sha}"'),
        (rf"^(\s+Code: ){re.escape(CHECKOUT_CODE)}$", rf"\g<1>{package_name}"),
    ]
    expected = {CHECKOUT_VERSION: 1, CHECKOUT_SHA: 1, CHECKOUT_CODE: 2}
    text = source
    for (pattern, replacement), (marker, count) in zip(rewrites, expected.items(), strict=True):
        text, made = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        if made != count:
            raise BuildError(f"{TEMPLATE.name}: {made} line(s) with {marker}, expected {count}")
    return text


def sums_file(files: Sequence[Path]) -> str:
    """``<hex digest>  <name>`` per file, the format of ``sha256sum``."""
    return "".join(f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}\n" for f in files)


def make_release(
    dist: Path = DIST,
    *,
    from_environment: bool = False,
    root: Path = ROOT,
) -> Release:
    """Build every artefact of the version in ``root``'s pyproject.toml into ``dist``."""
    version = build_zip.project_version(root / build_zip.PYPROJECT.name)
    package = build_zip.build(
        dist / f"{NAME}-{version}.zip",
        from_environment=from_environment,
        root=root,
        requirements=root / build_zip.REQUIREMENTS.name,
    )
    template = dist / f"{NAME}-{version}.yaml"
    source = (root / TEMPLATE.relative_to(ROOT)).read_text()
    template.write_text(
        release_template(source, version, package.name, code_sha256(package.read_bytes()))
    )
    sums = dist / SUMS
    sums.write_text(sums_file([package, template]))
    return Release(version, package, template, sums)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_zip.command_line("release.make_release", __doc__)
    parser.add_argument("--dist", type=Path, default=DIST, help="the folder to write to")
    args = parser.parse_args(argv)
    try:
        made = make_release(args.dist, from_environment=args.from_environment)
    except (BuildError, OSError) as exc:
        print(f"make_release: {exc}", file=sys.stderr)
        return 1
    print(f"WaitForCertificate {made.version}:")
    for path in (made.package, made.template, made.sums):
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
