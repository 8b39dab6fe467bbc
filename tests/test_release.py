"""A release: artefacts that agree with each other, byte-identical from build to build.

``make release`` writes the package, the template that ships it and their SHA-256 sums
into dist/; here they are built offline (``from_environment``) into temporary folders.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from custom_resource.version import provider_version
from release import build_zip, make_release
from release.build_zip import BuildError
from tools.emulator import load_template

ROOT = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> make_release.Release:
    return make_release.make_release(tmp_path_factory.mktemp("dist"), from_environment=True)


def test_two_builds_are_byte_identical(release: make_release.Release, tmp_path: Path) -> None:
    again = make_release.make_release(tmp_path, from_environment=True)
    for first, second in [
        (release.package, again.package),
        (release.template, again.template),
        (release.sums, again.sums),
    ]:
        assert first.name == second.name
        assert first.read_bytes() == second.read_bytes(), first.name


def test_every_artefact_is_named_after_the_version(release: make_release.Release) -> None:
    assert release.version == VERSION
    assert release.package.name == f"wait-for-certificate-{VERSION}.zip"
    assert release.template.name == f"wait-for-certificate-{VERSION}.yaml"
    assert release.sums.name == "SHA256SUMS"
    assert {p.parent for p in (release.package, release.template, release.sums)} == {
        release.package.parent
    }


def test_the_package_carries_the_version_and_the_licence(release: make_release.Release) -> None:
    with zipfile.ZipFile(release.package) as archive:
        assert archive.read(build_zip.VERSION_ENTRY).decode() == f"{VERSION}\n"
        assert archive.read("LICENSE") == (ROOT / "LICENSE").read_bytes()
        assert archive.read("NOTICE") == (ROOT / "NOTICE").read_bytes()


def test_a_checkout_reports_the_same_version_as_the_package(tmp_path: Path) -> None:
    assert provider_version() == VERSION
    packaged = tmp_path / "custom_resource"
    packaged.mkdir()
    (packaged / "VERSION").write_text("9.8.7\n")
    assert provider_version.__wrapped__(packaged) == "9.8.7"
    assert provider_version.__wrapped__(tmp_path / "nowhere") == "unknown"


def test_the_template_names_the_package_its_hash_and_the_version(
    release: make_release.Release,
) -> None:
    template = load_template(release.template)
    mapping = template["Mappings"]["Release"]["Provider"]
    assert mapping["Version"] == VERSION
    assert mapping["CodeSha256"] == make_release.code_sha256(release.package.read_bytes())
    functions = _functions(template)
    assert sorted(functions) == ["Function", "Responder"]
    for props in functions.values():
        assert props["Code"] == release.package.name  # beside it: `package` uploads it
    # Only the mapping and the Code lines differ from the repository's template.
    source = (ROOT / "template" / "provider.yaml").read_text().splitlines()
    released = release.template.read_text().splitlines()
    assert len(source) == len(released)
    changed = [(a, b) for a, b in zip(source, released, strict=True) if a != b]
    assert len(changed) == 4
    assert all(re.match(r"\s+(Version|CodeSha256|Code):", b) for _, b in changed)


def test_the_sums_match_the_files(release: make_release.Release) -> None:
    lines = release.sums.read_text().splitlines()
    expected = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in (release.package, release.template)
    }
    assert lines == [f"{digest}  {name}" for name, digest in expected.items()]


def test_the_release_template_passes_cfn_lint(release: make_release.Release) -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cfn-lint"), str(release.template)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_template_that_moved_on_is_refused() -> None:
    """A rewrite that no longer finds its line fails the build instead of shipping the
    repository's placeholders."""
    source = (ROOT / "template" / "provider.yaml").read_text()
    broken = source.replace(make_release.CHECKOUT_SHA, "something-else")
    with pytest.raises(BuildError, match="not-a-release"):
        make_release.release_template(broken, VERSION, "p.zip", "sha")


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "", "1.0.0 beta"])
def test_a_version_that_is_not_semantic_is_refused(tmp_path: Path, version: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f'[project]\nversion = "{version}"\n')
    with pytest.raises(BuildError, match=r"MAJOR\.MINOR\.PATCH"):
        build_zip.project_version(tmp_path / "pyproject.toml")


def test_the_changelog_has_the_version_and_an_unreleased_section() -> None:
    """Keep a Changelog: newest first, an Unreleased section on top, one per version."""
    headings = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert headings[0] == "Unreleased"
    assert VERSION in headings, f"CHANGELOG.md has no section for {VERSION}"


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
