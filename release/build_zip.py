"""Build the Lambda deployment package: ``custom_resource/`` plus the pinned crhelper.

``python -m release.build_zip`` (what ``make build`` runs) writes
``dist/wait-for-certificate.zip``, the file ``template/provider.yaml`` names as the
function's Code; ``aws cloudformation package`` uploads it.

What goes in:
- every file of ``custom_resource/`` except byte code (``__pycache__``, ``*.pyc``) and
  hidden files: no tests, no tools;
- ``custom_resource/VERSION``, written here: the version of ``pyproject.toml``, which
  the code logs on every invocation (``custom_resource/version.py``);
- the licence and its notice, ``LICENSE`` and ``NOTICE``, at the top;
- every requirement of ``requirements.txt`` (pinned with ``==``; today only crhelper),
  installed without dependencies: crhelper needs nothing beyond the standard library and
  boto3, and boto3 (with botocore and their dependencies) comes with the Lambda runtime,
  so those are never bundled. Its ``.dist-info`` metadata comes along (its licence and
  NOTICE included), without the installer-specific files (RECORD, INSTALLER, ...).

Requirements are taken either from a fresh ``pip install --target`` into a temporary
folder (the default) or, offline, from the current environment (``--from-environment``),
whose installed version must match the pin. Both give the same files.

The archive is reproducible: entries sorted by name, every timestamp 1980-01-01 00:00,
every file mode 0644, the same compression level; the same inputs give the same bytes
(with the same zlib: a different zlib may compress differently).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "custom_resource"
REQUIREMENTS = ROOT / "requirements.txt"
PYPROJECT = ROOT / "pyproject.toml"
DEFAULT_OUTPUT = ROOT / "dist" / "wait-for-certificate.zip"
VERSION_ENTRY = f"{PACKAGE}/VERSION"
"""Where the package carries its version (read by ``custom_resource.version``)."""
LEGAL_FILES = ("LICENSE", "NOTICE")

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""The earliest date a zip entry can carry: no build time leaks into the archive."""
FILE_MODE = 0o100644
"""A regular file, rw-r--r--: Lambda only needs to read the code."""
COMPRESS_LEVEL = 9

PROVIDED_BY_RUNTIME = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
"""The Lambda Python runtime ships boto3 and its dependencies: never bundle them."""

INSTALLER_FILES = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
"""``.dist-info`` files that depend on how a wheel was installed, not on the wheel."""

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+([.+-][0-9A-Za-z.+-]+)?$")

Source = Path | bytes
"""An archive entry's content: a file to read, or bytes made by the build."""


class BuildError(Exception):
    """The package cannot be built; the message says why, in one line."""


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_requirements(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``name -> version`` of every requirement to bundle; each must be pinned with ``==``."""
    pins: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        match = _PIN.match(text)
        if not match:
            raise BuildError(f"{path.name}:{number}: {text!r} is not pinned as name==version")
        name, version = match.groups()
        if normalize(name) not in PROVIDED_BY_RUNTIME:
            pins[name] = version
    return pins


def project_version(pyproject: Path = PYPROJECT) -> str:
    """The provider's version, written once: ``[project] version`` of ``pyproject.toml``."""
    try:
        version = tomllib.loads(pyproject.read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"{pyproject.name} has no readable [project] version: {exc}") from None
    if not isinstance(version, str) or not _VERSION.match(version):
        raise BuildError(f"{pyproject.name}: version {version!r} is not MAJOR.MINOR.PATCH")
    return version


def release_files(root: Path = ROOT) -> dict[str, Source]:
    """What the build adds besides code: the version and the licence."""
    files: dict[str, Source] = {
        VERSION_ENTRY: f"{project_version(root / PYPROJECT.name)}\n".encode()
    }
    for name in LEGAL_FILES:
        if not (root / name).is_file():
            raise BuildError(f"{name} is missing: the package must carry its licence")
        files[name] = root / name
    return files


def package_files(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """The provider's own files, by name in the archive."""
    base = root / package
    if not (base / "__init__.py").is_file():
        raise BuildError(f"{base} is not a Python package")
    files: dict[str, Path] = {}
    for path in base.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not _skipped(relative.parts):
            files[relative.as_posix()] = path
    return files


def _skipped(parts: Sequence[str]) -> bool:
    return any(p == "__pycache__" or p.startswith(".") for p in parts) or parts[-1].endswith(
        (".pyc", ".pyo")
    )


def find_distribution(
    name: str, version: str, path: Sequence[str] | None = None
) -> importlib.metadata.Distribution:
    """The distribution ``name`` installed in ``path`` (else here), checked to be ``version``."""
    found = (
        list(importlib.metadata.Distribution.discover(name=name, path=list(path)))
        if path is not None
        else _installed(name)
    )
    if not found:
        where = ", ".join(path) if path is not None else "this environment"
        raise BuildError(f"{name} is not installed in {where}")
    installed = found[0].version
    if installed != version:
        raise BuildError(f"{name} {installed} is installed, but requirements.txt pins {version}")
    return found[0]


def _installed(name: str) -> list[importlib.metadata.Distribution]:
    try:
        return [importlib.metadata.distribution(name)]
    except importlib.metadata.PackageNotFoundError:
        return []


def distribution_files(dist: importlib.metadata.Distribution) -> dict[str, Path]:
    """The files of an installed distribution that belong in the package, by archive name."""
    listed = dist.files
    if listed is None:
        raise BuildError(f"{dist.metadata['Name']} has no RECORD: cannot tell its files")
    files: dict[str, Path] = {}
    for entry in listed:
        parts = entry.parts
        if parts[0] == ".." or _skipped(parts):
            continue  # console scripts outside the install folder, byte code
        if parts[0].endswith(".dist-info") and parts[-1] in INSTALLER_FILES:
            continue
        files[entry.as_posix()] = Path(str(dist.locate_file(entry)))
    return files


def pip_install(pins: dict[str, str], target: Path) -> None:
    """Install the pinned wheels, without dependencies or byte code, into ``target``."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-compile",
        "--only-binary=:all:",
        "--target",
        str(target),
        *(f"{name}=={version}" for name, version in sorted(pins.items())),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise BuildError(f"pip install --target failed: {last}")


def write_zip(files: dict[str, Source], output: Path) -> None:
    """Write ``files`` (archive name -> source) reproducibly, replacing ``output`` atomically."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=output.name, suffix=".tmp", dir=output.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name in sorted(files):
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.create_system = 3  # Unix, so that external_attr is read as a mode
                info.external_attr = FILE_MODE << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                source = files[name]
                content = source if isinstance(source, bytes) else source.read_bytes()
                archive.writestr(info, content, compresslevel=COMPRESS_LEVEL)
        os.chmod(temporary, 0o644)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def collect(sources: Iterable[Mapping[str, Source]]) -> dict[str, Source]:
    """Merge file maps; two sources claiming the same archive name is an error."""
    merged: dict[str, Source] = {}
    for files in sources:
        for name, source in files.items():
            if name in merged:
                raise BuildError(f"{name} comes from two sources")
            merged[name] = source
    return merged


def build(
    output: Path = DEFAULT_OUTPUT,
    *,
    from_environment: bool = False,
    root: Path = ROOT,
    requirements: Path = REQUIREMENTS,
) -> Path:
    """Build the package at ``output`` and return its path."""
    pins = pinned_requirements(requirements)
    own: list[Mapping[str, Source]] = [package_files(root), release_files(root)]
    if from_environment:
        vendored = [distribution_files(find_distribution(n, v)) for n, v in pins.items()]
        write_zip(collect([*own, *vendored]), output)
        return output
    with tempfile.TemporaryDirectory(prefix="wfc-build-") as folder:
        if pins:
            pip_install(pins, Path(folder))
        vendored = [distribution_files(find_distribution(n, v, [folder])) for n, v in pins.items()]
        write_zip(collect([*own, *vendored]), output)
    return output


def command_line(module: str, doc: str) -> argparse.ArgumentParser:
    """The command line of a release tool: its docstring's summary, ``--from-environment``."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n\n")[0])
    parser.add_argument(
        "--from-environment",
        action="store_true",
        help="bundle the requirements installed here instead of installing them with pip",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = command_line("release.build_zip", __doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the zip to write")
    args = parser.parse_args(argv)
    try:
        output = build(args.output, from_environment=args.from_environment)
    except (BuildError, OSError) as exc:
        print(f"build_zip: {exc}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(output) as archive:
        count = len(archive.namelist())
    print(f"{output} ({output.stat().st_size} bytes, {count} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
