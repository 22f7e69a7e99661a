"""README.md stays a five-minute read, and every relative link in it and in docs/ reaches a file (and a heading,
for a link with an anchor)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 200
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE = re.compile(r"`[^`\n]*`")


def _text(page: Path) -> str:
    """The page without code blocks and inline code, where `[x](y)` is code, not a link."""
    return _CODE.sub("", _FENCE.sub("", page.read_text()))


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of ``page`` (a repeated heading gets -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    out = set()
    for line in _FENCE.sub("", page.read_text()).splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            s = slug(m[1])
            out.add(f"{s}-{seen[s]}" if s in seen else s)
            seen[s] = seen.get(s, 0) + 1
    return out


def links(page: Path) -> list[str]:
    return [t for t in _LINK.findall(_text(page)) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]  # http:, mailto:


def test_slug_matches_github():
    assert slug("Quick start (two commands)") == "quick-start-two-commands"
    assert slug("Does the loop beat training without it? (`bench/efficacy.py`)") == (
        "does-the-loop-beat-training-without-it-benchefficacypy"
    )
    assert slug("Benchmarks: BFCL and ACEBench") == "benchmarks-bfcl-and-acebench"


def test_links_finds_relative_links_only(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "[a](docs/x.md) ![b](img.png) [c](https://x.org) `[d](code.md)`\n```\n[e](e.md)\n```\n[f](#top)\n"
    )
    assert links(page) == ["docs/x.md", "img.png", "#top"]


def test_readme_is_short():
    n = len((ROOT / "README.md").read_text().splitlines())
    assert n <= README_MAX_LINES, (
        f"README.md has {n} lines (at most {README_MAX_LINES}): move detail to docs/"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(
                f"{target}: no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}"
            )
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: " + "; ".join(broken)


def test_every_docs_page_is_linked_from_readme():
    linked = {
        (ROOT / t.partition("#")[0]).resolve() for t in links(ROOT / "README.md") if t.partition("#")[0]
    }
    missing = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked]
    assert not missing, f"docs pages not linked from README.md: {missing}"
