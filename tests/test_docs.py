"""The documentation holds together: every relative link and ``#anchor`` in README.md and
docs/*.md resolves, and no tracked file points at documents outside the repository.

Anchors follow GitHub's rules for headings: the heading's text (inline code, links and
emphasis reduced to their text), lower-cased, punctuation dropped, each space a ``-``;
a repeated heading gets ``-1``, ``-2``, ... appended.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`+[^`]*`+")
LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target><[^>]*>|[^)\s]*)(?:\s+\"[^\"]*\")?\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (before duplicates are numbered)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = text.replace("`", "")
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)  # punctuation (``_`` is a word character, kept)
    return text.replace(" ", "-")


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(text):
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str) -> Iterator[tuple[int, str]]:
    """(line, target) of every link and image outside code; a link's text may wrap."""
    kept = dict(prose_lines(text))
    lines = [kept.get(n, "") for n in range(1, len(text.splitlines()) + 1)]
    for number, line in enumerate(lines, 1):
        reference = REFERENCE.match(line)
        if reference:
            yield number, reference.group(1)
    prose = "\n".join(INLINE_CODE.sub(lambda m: " " * len(m.group()), line) for line in lines)
    for match in LINK.finditer(prose):
        yield prose.count("\n", 0, match.start()) + 1, match.group("target").strip("<>")


def broken_links(page: Path, root: Path) -> list[str]:
    """What is wrong with the page's relative links, one line per problem."""
    problems = []
    for number, target in links(page.read_text()):
        if EXTERNAL.match(target):
            continue
        where = f"{page.relative_to(root)}:{number}: {target}"
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.is_relative_to(root):
            problems.append(f"{where}: points outside the repository")
        elif not resolved.exists():
            problems.append(f"{where}: no such file")
        elif (
            resolved.suffix == ".md" and fragment and fragment not in anchors(resolved.read_text())
        ):
            problems.append(f"{where}: no heading with anchor #{fragment}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page, ROOT) == []


def test_the_readme_links_to_every_page_of_docs() -> None:
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for _, target in links((ROOT / "README.md").read_text())
        if not EXTERNAL.match(target)
    }
    assert [p.name for p in PAGES[1:] if p.resolve() not in linked] == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Why `RecursiveLoop: Allow`", "why-recursiveloop-allow"),
        ("Validation: ACM's own rules", "validation-acms-own-rules"),
        ("IAM: what the function may do and why", "iam-what-the-function-may-do-and-why"),
        ("12-hour mode", "12-hour-mode"),
        ("Local demo: `make demo`", "local-demo-make-demo"),
        ("The [code](x.md) of WFC_POLL", "the-code-of-wfc_poll"),
    ],
)
def test_anchors_follow_githubs_rules(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_repeated_heading_gets_a_number() -> None:
    assert anchors("# A\n## Notes\n## Notes\n```\n# not a heading\n```\n") == {
        "a",
        "notes",
        "notes-1",
    }


def test_a_broken_link_or_anchor_is_reported(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other\n## Some part\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/other.md#some-part) [here](#top) `[code](nowhere.md)`\n"
        "# Top\n"
        "[gone](docs/missing.md) [bad anchor](docs/other.md#no-part)\n"
        "[outside](../elsewhere.md) [web](https://example.com/x.md#y) [a wrapped\n"
        "link](docs/other.md#nowhere)\n"
    )
    assert broken_links(page, tmp_path) == [
        "README.md:3: docs/missing.md: no such file",
        "README.md:3: docs/other.md#no-part: no heading with anchor #no-part",
        "README.md:4: ../elsewhere.md: points outside the repository",
        "README.md:4: docs/other.md#nowhere: no heading with anchor #nowhere",
    ]


# Self-contained: what a reader needs is in the repository, so nothing may send them to
# documents that are not (planning notes, other checkouts, tracker numbers).
OUTSIDE = {
    "a planning document": re.compile(r"\bSPEC\b|\bFACTS\.md\b"),
    "a path outside the repository": re.compile(r"\.\./shared\b|/work/"),
    "a tracker number": re.compile(r"\bissues?\s+#?\d+", re.IGNORECASE),
}
SKIPPED_DIRECTORIES = {".git", ".venv", "dist", "__pycache__", ".pytest_cache", ".mypy_cache"}


def tracked_files() -> list[Path]:
    """The files git tracks; outside a git checkout, the tree without build products."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout
        return [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        return [
            path
            for path in ROOT.rglob("*")
            if path.is_file() and not SKIPPED_DIRECTORIES & set(path.relative_to(ROOT).parts)
        ]


def test_no_tracked_file_refers_outside_the_repository() -> None:
    this_file = Path(__file__).resolve()  # it has to name the patterns
    found = []
    for path in tracked_files():
        if path.resolve() == this_file or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="ignore").splitlines(), 1):
            found += [
                f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()[:80]}"
                for what, pattern in OUTSIDE.items()
                if pattern.search(line)
            ]
    assert found == []


def test_the_outside_patterns_catch_what_they_name() -> None:
    # Assembled, so that this file does not itself read as such a reference.
    spec, facts, shared = "SPEC", "FACTS", "shared"
    lines = [f"see {spec} section 4", f"{facts}.md says", f"../{shared}/notes", "as in issue 13"]
    assert all(any(p.search(line) for p in OUTSIDE.values()) for line in lines)
    assert not any(p.search("a SPECIFIC spec, issues/1603") for p in OUTSIDE.values())
