"""The report page in a real browser: headless Chromium renders a report built here from fixture metrics (not
blank, every section there), and the screenshot command never replaces a file it did not write."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from looptool import storage
from looptool.errors import InputError, StageError
from looptool.report import run_report
from looptool.screenshot import SOFTWARE, dump_dom, find_chromium, screenshot, stamp_of

ROOT = Path(__file__).resolve().parents[1]

needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="needs headless Chromium (Debian: apt-get install chromium; .ci/run installs it as root)",
)


def _metrics(metrics: Path) -> None:
    """Two iterations of every stage's metrics, in the shapes the stages write."""
    from looptool.evaluate import summary_of

    for j, acc in ((0, 0.2), (1, 0.4), (2, 0.5)):
        ev = {
            "heldout": {"accuracy": acc, "n": 10, "correct": round(acc * 10), "by_pattern": {}},
            "bfcl": {
                "categories": {"simple": {"accuracy": acc / 2, "n": 20}},
                "overall_single_turn": acc / 2,
                "non_live": {"overall": acc / 2},
                "live": {"overall": None},
            },
            "acebench": {"skipped": "no acebench data folder configured"},
        }
        ev["summary"] = summary_of(ev)
        storage.write_json(ev, metrics / "eval" / f"iter_{j}.json")
        if j == 0:
            continue
        series = [{"step": s, "reward": 0.2 * s, "zero_std_frac": 0.5, "loss": None} for s in (1, 2)]
        storage.write_json(
            {"iteration": j, "reward_last": 0.4, "series": series}, metrics / "train" / f"iter_{j}.json"
        )
        storage.write_json({"iteration": j, "mastered_rate": 0.2 * j}, metrics / "probe" / f"iter_{j}.json")
        verdicts = {"PRED_WRONG": 8, "LABEL_WRONG": j, "BOTH_CORRECT": 1, "BOTH_WRONG": 2, "ABSTAIN": 0}
        storage.write_json({"iteration": j, "verdicts": verdicts}, metrics / "verify" / f"iter_{j}.json")
        parts = {"seed_new": 20 - 8 * j, "error_seed": 4 * j, "expansion": 3 * j, "high_ppl": j}
        storage.write_json({"iteration": j, "size": 20, "parts": parts}, metrics / "merge" / f"iter_{j}.json")


@pytest.fixture()
def report(tmp_path) -> Path:
    html = tmp_path / "reports" / "loop.html"
    _metrics(tmp_path / "metrics")
    run_report(
        metrics_dir=tmp_path / "metrics", iterations=["1", "2"], plots_dir=tmp_path / "plots", html=html
    )
    return html


class _Page(HTMLParser):
    """The h2 headings and the inline PNG images of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.images = 0
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._in_h2 = True
            self.headings.append("")
        elif tag == "img" and (dict(attrs).get("src") or "").startswith("data:image/png;base64,"):
            self.images += 1

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.headings[-1] += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@needs_chromium
def test_report_renders_in_chromium_with_every_section(report, tmp_path):
    source = _parse(report.read_text())
    dom = _parse(dump_dom(report))
    assert {"Headline figures", "Charts", "Data mix of D_j"} <= set(dom.headings), dom.headings
    assert dom.headings == source.headings and dom.images == source.images > 0

    out = tmp_path / "shot.png"
    res = screenshot(report, out, width=1000, max_height=6000)
    from PIL import Image, ImageStat

    with Image.open(out) as im:
        assert im.text["Software"] == SOFTWARE and res["html_sha256"] in im.text["Source"]
        rgb = im.convert("RGB")
    assert rgb.width == 1000 and 600 < rgb.height == res["height"] < 6000  # cropped below the content
    assert min(ImageStat.Stat(rgb).var) > 100  # not blank: text, tables and charts
    # the charts are drawn (matplotlib's default blue C0 = (31, 119, 180)), not only the page's text
    blue = sum(n for n, (r, g, b) in rgb.getcolors(1 << 24) if abs(r - 31) + abs(g - 119) + abs(b - 180) < 30)
    assert blue > 500, blue


@needs_chromium
def test_blank_page_is_refused_and_nothing_written(tmp_path):
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><html><body></body></html>")
    with pytest.raises(StageError, match="blank page"):
        screenshot(blank, tmp_path / "b.png", max_height=800)
    assert not (tmp_path / "b.png").exists()


@needs_chromium
def test_replaces_its_own_png_and_only_with_overwrite_another_file(report, tmp_path):
    out = tmp_path / "demo.png"
    screenshot(report, out, max_height=800)  # small windows: this test is about files, not pixels
    first = stamp_of(out)
    report.write_text(report.read_text().replace("Headline figures", "Headline"))
    screenshot(report, out, max_height=800)  # its own file: replaced, no flag needed
    assert stamp_of(out)["Source"] != first["Source"]

    from PIL import Image

    other = tmp_path / "old.png"  # a PNG from elsewhere (the old docs/report-demo.png had no stamp)
    Image.new("RGB", (4, 4), (200, 10, 10)).save(other)
    before = other.read_bytes()
    with pytest.raises(InputError, match="--overwrite"):
        screenshot(report, other)
    assert other.read_bytes() == before
    screenshot(report, other, max_height=800, overwrite=True)
    assert stamp_of(other) is not None


def test_cli_refuses_a_file_it_did_not_write_in_one_line(report, tmp_path):
    """No Chromium needed: the refusal comes before rendering, and the file keeps its bytes."""
    other = tmp_path / "report-demo.png"
    other.write_bytes(b"\x89PNG\r\n\x1a\nnot ours")
    res = subprocess.run(
        [sys.executable, "-m", "looptool.screenshot", str(report), "--out", str(other)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("Error: --out "), res.stderr
    assert "--overwrite" in res.stderr and other.read_bytes() == b"\x89PNG\r\n\x1a\nnot ours"
    res = subprocess.run(
        [sys.executable, "-m", "looptool.screenshot", str(report), "--out", str(report)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert res.returncode == 1 and "is also an input" in res.stderr
