"""A PNG of the HTML report, rendered by headless Chromium (``make screenshot`` -> docs/report-demo.png).

The report (``reports/loop.html``) is self-contained (charts are inline PNGs, no script, nothing fetched), so
Chromium renders it offline. Chromium's ``--screenshot`` captures the window only: the page is rendered in a
window of ``max_height`` pixels and the uniform background below the content is cropped off.

A file this module writes carries a PNG text chunk (``Software: looptool.screenshot``, and the sha256 of the
HTML it was rendered from); it replaces such a file, and refuses any other existing file unless told
``overwrite`` (a command never overwrites what it did not create).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click

from looptool import storage
from looptool.errors import InputError, StageError
from looptool.outputs import prepare_output

SOFTWARE = "looptool.screenshot"
CHROMIUM_ENV = "LOOPTOOL_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Offline and as root (CI containers): no sandbox (needs user namespaces), no GPU, nothing fetched at start.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """The Chromium binary: ``$LOOPTOOL_CHROMIUM``, else the first of :data:`CHROMIUM_NAMES` on PATH."""
    env = os.environ.get(CHROMIUM_ENV)
    if env:
        return shutil.which(env)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(html: Path, args: list[str], chromium: str | None, timeout_s: float) -> str:
    """Run Chromium on ``html`` with ``args`` and a new empty profile; its stdout. One-line errors."""
    binary = chromium or find_chromium()
    if binary is None:
        raise StageError(
            f"no Chromium found (tried ${CHROMIUM_ENV}, {', '.join(CHROMIUM_NAMES)}); "
            "install it (Debian: apt-get install chromium) or set " + CHROMIUM_ENV
        )
    if not html.is_file():
        raise InputError(f"{html}: no such HTML file (make repro writes reports/loop.html)")
    with tempfile.TemporaryDirectory(prefix="looptool-chromium-") as profile:
        cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *args, html.resolve().as_uri()]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise StageError(f"{binary}: no result after {timeout_s:.0f} s rendering {html}") from None
    if res.returncode != 0:
        # Chromium logs D-Bus complaints on machines without a session bus: not the reason it failed
        lines = [ln for ln in res.stderr.splitlines() if ln.strip() and "dbus" not in ln]
        raise StageError(f"{binary} exited {res.returncode} rendering {html}: {lines[-1] if lines else ''}")
    return res.stdout


def dump_dom(html: str | Path, *, chromium: str | None = None, timeout_s: float = 120) -> str:
    """The DOM Chromium builds from ``html`` (``--dump-dom``), serialised as HTML."""
    return _run(Path(html), ["--dump-dom"], chromium, timeout_s)


def stamp_of(path: str | Path) -> dict[str, str] | None:
    """The text chunks of a PNG this module wrote; None for any other file (or none there)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            text = dict(getattr(im, "text", {}) or {})
    except (OSError, UnidentifiedImageError):
        return None
    return text if text.get("Software") == SOFTWARE else None


def screenshot(
    html: str | Path,
    out: str | Path,
    *,
    width: int = 1200,
    max_height: int = 12000,
    overwrite: bool = False,
    chromium: str | None = None,
    timeout_s: float = 120,
) -> dict[str, Any]:
    """Render ``html`` at ``width`` pixels and write the page (cropped below its content) to ``out`` as PNG.

    Refuses an existing ``out`` that this module did not write, unless ``overwrite``, and a blank render.
    Returns what it wrote: path, size, the HTML's sha256.
    """
    from PIL import Image, ImageStat, PngImagePlugin

    html, out = Path(html), Path(out)
    if width < 200 or max_height < 200:
        raise InputError(f"--width {width} / --max-height {max_height}: give at least 200 pixels each")
    prepare_output(out, [html], overwrite=overwrite, ours=lambda p: stamp_of(p) is not None)
    digest = hashlib.sha256(html.read_bytes()).hexdigest() if html.is_file() else ""
    with tempfile.TemporaryDirectory(prefix="looptool-screenshot-") as tmp:
        shot = Path(tmp) / "page.png"
        _run(html, [f"--screenshot={shot}", f"--window-size={width},{max_height}"], chromium, timeout_s)
        if not shot.is_file():
            raise StageError(f"Chromium wrote no screenshot of {html}")
        with Image.open(shot) as im:
            page = im.convert("RGB")
    height = _content_height(page)
    if max(ImageStat.Stat(page.crop((0, 0, page.width, height))).var) == 0:
        raise StageError(f"{html}: Chromium rendered a blank page; nothing written to {out}")
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", SOFTWARE)
    info.add_text("Source", f"{html.name} sha256:{digest}")
    with storage.atomic_path(out) as t:
        page.crop((0, 0, page.width, height)).save(t, format="PNG", pnginfo=info, optimize=True)
    return {"out": str(out), "width": page.width, "height": height, "html_sha256": digest}


def _content_height(page: Any, margin: int = 24) -> int:
    """Rows down to the last one that differs from the bottom-left pixel's colour (the page background), plus
    a margin; the whole height when the content reaches the bottom (the page is taller than the window)."""
    from PIL import Image, ImageChops

    bg = Image.new(page.mode, page.size, page.getpixel((0, page.height - 1)))
    box = ImageChops.difference(page, bg).getbbox()
    if box is None:
        return page.height
    return min(page.height, box[3] + margin)


@click.command()
@click.argument("html", type=click.Path(dir_okay=False))
@click.option("--out", required=True, help="PNG to write (a file this command wrote before, or a new one).")
@click.option("--width", default=1200, show_default=True, help="Window width in pixels.")
@click.option(
    "--max-height",
    default=12000,
    show_default=True,
    help="Window height in pixels; the page is cropped below its content.",
)
@click.option("--overwrite", is_flag=True, help="Replace --out even if this command did not write it.")
def main(html: str, out: str, width: int, max_height: int, overwrite: bool) -> None:
    """Render HTML (the loop report) with headless Chromium into the PNG --out."""
    res = screenshot(html, out, width=width, max_height=max_height, overwrite=overwrite)
    click.echo(f"{res['out']}: {res['width']}x{res['height']} from {html} (sha256 {res['html_sha256'][:12]})")
    if res["height"] >= max_height:
        click.echo(f"the page is taller than --max-height {max_height}: the PNG shows its top only", err=True)


if __name__ == "__main__":
    from looptool.guard import click_main

    click_main(main, None, "python -m looptool.screenshot")
