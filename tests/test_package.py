"""The deployment zip: reproducible, complete, and nothing in it that Lambda provides.

The builder is called directly with ``from_environment=True`` (the crhelper installed in
this environment, checked against the pin): no network, well under a second.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from awscli.customizations.cloudformation.artifact_exporter import (  # type: ignore[import-untyped]
    Template,
)
from packaging.requirements import Requirement

from release import build_zip

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_zip.build(tmp_path_factory.mktemp("dist") / "a.zip", from_environment=True)


def test_same_input_gives_the_same_bytes(package: Path, tmp_path: Path) -> None:
    again = build_zip.build(tmp_path / "b.zip", from_environment=True)
    assert again.read_bytes() == package.read_bytes()


def test_entries_are_sorted_with_fixed_dates_and_modes(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {build_zip.ZIP_DATE}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_holds_the_provider_and_crhelper_only(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
    own = {p.relative_to(ROOT).as_posix() for p in (ROOT / "custom_resource").rglob("*.py")}
    assert own <= names
    assert {"crhelper/__init__.py", "crhelper/resource_helper.py"} <= names
    assert "crhelper-2.0.12.dist-info/LICENSE" in names
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"custom_resource", "crhelper", "crhelper-2.0.12.dist-info", "LICENSE", "NOTICE"}
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    assert not [n for n in names if n.rsplit("/", 1)[-1] in build_zip.INSTALLER_FILES]


def test_crhelper_is_the_pinned_version_and_needs_nothing_lambda_lacks() -> None:
    pins = build_zip.pinned_requirements()
    assert pins == {"crhelper": "2.0.12"}
    dist = importlib.metadata.distribution("crhelper")
    assert dist.version == pins["crhelper"]
    # --no-deps is safe: crhelper declares no dependency (it imports only boto3).
    assert not dist.requires


def test_a_version_other_than_the_pin_is_refused() -> None:
    with pytest.raises(build_zip.BuildError, match=r"pins 0\.0\.1"):
        build_zip.find_distribution("crhelper", "0.0.1")


def test_unpinned_requirements_are_refused(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# runtime\ncrhelper>=2\n")
    with pytest.raises(build_zip.BuildError, match="not pinned"):
        build_zip.pinned_requirements(requirements)
    requirements.write_text("crhelper==2.0.12\nboto3==1.43.11  # provided by Lambda\n")
    assert build_zip.pinned_requirements(requirements) == {"crhelper": "2.0.12"}


def _runtime_folder(folder: Path) -> Path:
    """A folder holding boto3 and its dependency closure only, as the Lambda runtime does."""
    folder.mkdir()
    pending, seen = ["boto3"], set()
    while pending:
        name = build_zip.normalize(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        dist = importlib.metadata.distribution(name)
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
        for top in {f.parts[0] for f in dist.files or []}:
            if top == ".." or top.endswith(".dist-info") or top == "__pycache__":
                continue
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)
    assert "crhelper" not in seen
    return folder


_PROBE = """
import json, sys
code, runtime = sys.argv[1:3]
sys.path[:0] = [code, runtime]
import boto3, crhelper
import custom_resource.handler as entry
assert callable(entry.handler)
entry.handler({"not": "a CloudFormation request"}, None)
print(json.dumps({
    "path": sys.path,
    "crhelper": crhelper.__file__,
    "custom_resource": entry.__file__,
    "boto3": boto3.__file__,
}))
"""


def test_the_handler_imports_from_the_unpacked_zip_alone(package: Path, tmp_path: Path) -> None:
    code = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(code)
    runtime = _runtime_folder(tmp_path / "runtime")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    # -I: no PYTHONPATH, user site or current folder; -S: no site-packages either.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _PROBE, str(code), str(runtime)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert not [p for p in seen["path"] if "site-packages" in p]
    assert Path(seen["crhelper"]).is_relative_to(code)
    assert Path(seen["custom_resource"]).is_relative_to(code)
    assert Path(seen["boto3"]).is_relative_to(runtime)
    assert "not a CloudFormation request" in result.stderr
    # No pyproject.toml there: the version the package logs is the one it carries.
    assert f"WaitForCertificate {build_zip.project_version()} (function version" in result.stderr


class _FakeUploader:
    """Stands in for S3: records what ``aws cloudformation package`` would upload."""

    def __init__(self) -> None:
        self.uploaded: list[bytes] = []

    def upload_with_dedup(self, path: str, extension: str | None = None) -> str:
        self.uploaded.append(Path(path).read_bytes())
        return "s3://artifacts/wait-for-certificate/0123abcd"

    def to_path_style_s3_url(self, key: str, version: str | None = None) -> str:
        return key


def test_aws_cloudformation_package_uploads_the_zip_as_function_code(
    package: Path, tmp_path: Path
) -> None:
    """What `make deploy` runs, with S3 replaced: Code ../dist/... resolves to the zip."""
    (tmp_path / "template").mkdir()
    (tmp_path / "template" / "provider.yaml").write_text(
        (ROOT / "template" / "provider.yaml").read_text()
    )
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / build_zip.DEFAULT_OUTPUT.name).write_bytes(package.read_bytes())
    uploader = _FakeUploader()
    exported = Template("template/provider.yaml", str(tmp_path), uploader).export()
    functions = [
        resource["Properties"]
        for resource in exported["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    ]
    assert len(functions) == 2, "the provider and its last-resort responder"
    for function in functions:
        assert function["Code"] == {
            "S3Bucket": "artifacts",
            "S3Key": "wait-for-certificate/0123abcd",
        }
    assert uploader.uploaded == [package.read_bytes()] * len(functions)


def test_the_package_is_pure_python_so_it_runs_on_arm64(package: Path) -> None:
    """The template runs both functions on arm64: nothing compiled may enter the zip."""
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    native = [n for n in names if n.endswith((".so", ".pyd", ".dylib", ".dll")) or ".so." in n]
    assert native == []
    data = {build_zip.VERSION_ENTRY, *build_zip.LEGAL_FILES}
    assert all(
        n.endswith((".py", ".pyi", ".typed")) or ".dist-info/" in n or n in data for n in names
    ), names


def test_pip_installs_every_subpackage_the_template_rules_import() -> None:
    """``pip install ...[lint]`` (docs/template-checks.md) carries the rules and the
    definitions they read, subpackages included: setuptools' ``packages.find`` takes a
    package when one of its include patterns matches the dotted name."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("custom_resource", "wait_for_certificate_lint")
        for init in (ROOT / top).rglob("__init__.py")
    ]
    assert {"custom_resource.certificates", "custom_resource.waiters"} <= set(packages)
    for name in packages:
        assert any(fnmatch.fnmatchcase(name, pattern) for pattern in include), name
    assert not any(fnmatch.fnmatchcase("tools.bench", pattern) for pattern in include)
