"""The README stays short, and the documentation stands alone: every link in it leads somewhere
in the repository (or out to the web), and nothing points to a document the repository lacks."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "CHANGELOG.md"]
# [text](target) outside code; a target is a path, a path#anchor, or #anchor.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, spaces to dashes, punctuation gone."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_readme_is_at_most_12000_characters() -> None:
    assert len(README.read_text(encoding="utf-8")) <= 12_000


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # the web
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name} links to {target}, which is not in the repository"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name} links to {target}: no such heading"


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout (an sdist has no history)")
def test_no_file_points_to_a_document_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    outside = re.compile(r"\.\./shared|CONTRACT\.md|\bthe contract\b|\bcontract's\b", re.I)
    for name in tracked.stdout.splitlines():
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".sh", ".toml", ".json", ".txt", ""} or not path.is_file():
            continue
        found = outside.search(path.read_text(encoding="utf-8", errors="replace"))
        assert found is None, f"{name} refers to {found[0]!r}: point to the doc page that states it"


# An example: a fenced block whose first line runs a command on the sandbox, then what it prints.
EXAMPLE = re.compile(r"^```\n\$ (lsq-mcp [^\n]*--demo[^\n]*)\n(.*?)\n```", re.S | re.M)
# The demo is dated as of the day it runs: dates, day headings and ages are compared as such.
DATED = (
    (re.compile(r"\d{4}-\d\d-\d\d"), "YYYY-MM-DD"),
    (re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b"), "D Mon YYYY"),
    (re.compile(r"\b\d+ days? ago\b"), "N days ago"),
)


def undated(line: str) -> str:
    for pattern, stand_in in DATED:
        line = pattern.sub(stand_in, line)
    return line


def shown_in(shown: list[str], printed: list[str]) -> str | None:
    """Why the lines `shown` are not what was `printed` (None when they are): each shown line is the
    next printed one, a shown line ending in `…` its start, and a line `…` any number of lines."""
    at, skipping = 0, False
    for line in map(undated, shown):
        if line == "…":
            skipping = True
            continue
        while at < len(printed) and not _same(line, undated(printed[at])):
            if not skipping:
                return f"shown {line!r}, printed {printed[at]!r}"
            at += 1
        if at == len(printed):
            return f"shown {line!r}, not printed"
        at, skipping = at + 1, False
    return None if skipping or at == len(printed) else f"printed more: {printed[at]!r}"


def _same(shown: str, printed: str) -> bool:
    return printed.startswith(shown[:-1].rstrip()) if shown.endswith("…") else shown == printed


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_example_is_what_the_demo_prints(page: Path) -> None:
    for command, shown in EXAMPLE.findall(page.read_text(encoding="utf-8")):
        done = subprocess.run(
            [str(Path(sys.executable).parent / "lsq-mcp"), *shlex.split(command)[1:]],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 0, done.stderr
        mismatch = shown_in(shown.splitlines(), done.stdout.splitlines())
        assert mismatch is None, f"{page.name}, {command}: {mismatch}"
