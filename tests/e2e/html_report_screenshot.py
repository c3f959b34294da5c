"""End-to-end: build a small warehouse, render the HTML report, screenshot it in headless Chromium.

Run by `make e2e` (not collected by pytest). Exits non-zero when the page does not render: the
screenshot must have the window's size, real content, and the charts' colours in it.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the ledger writers and the small warehouse

WIDTH, HEIGHT = 1280, 4000
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
)  # fmt: skip


def chromium() -> str:
    """Return the Chromium binary, or stop with a clear message."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    sys.exit("chromium not found: `make e2e` installs Debian's chromium package")


def screenshot(html: Path, png: Path) -> None:
    """Take a screenshot of a local HTML file in headless Chromium with a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="tally-chromium-") as profile:
        cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
               f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}", html.as_uri()]  # fmt: skip
        subprocess.run(cmd, check=True, timeout=120, capture_output=True)


def check_screenshot(png: Path) -> list[str]:
    """Return what is wrong with the screenshot (nothing when it shows the rendered report)."""
    from matplotlib.image import imread

    image = imread(io.BytesIO(png.read_bytes()), format="png")[..., :3]
    problems = []
    if image.shape[:2] != (HEIGHT, WIDTH):
        problems.append(f"size {image.shape[1]}x{image.shape[0]}, expected {WIDTH}x{HEIGHT}")
    ink = float((image.min(axis=2) < 0.9).mean())
    if ink < 0.02:
        problems.append(f"almost blank: {ink:.1%} of pixels have ink")
    red = (abs(image[..., 0] - 0xC0 / 255) < 0.06) & (abs(image[..., 1] - 0x39 / 255) < 0.06)
    if red.sum() < 500:
        problems.append("no chart or heading colour (#c0392b) visible: charts not rendered?")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("warehouse/e2e"))
    args = parser.parse_args()
    os.environ.setdefault("TALLY_HASH_KEY", "tally-e2e-5c2d8e1f9a7b4c3d6e0f1a2b3c4d5e6f")
    from reportdata import build_warehouse

    from flows.load.warehouse import connect
    from flows.report import load_report, write_report

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    warehouse = build_warehouse(args.out)
    con = connect(warehouse, read_only=True)
    try:
        data = load_report(con, 2024)
    finally:
        con.close()
    html = write_report(data, "html", args.out / "report-2024.html").resolve()
    png = args.out / "report-2024.png"
    screenshot(html, png)
    problems = check_screenshot(png)
    for problem in problems:
        print(f"e2e: {problem}", file=sys.stderr)
    print(f"e2e: {'FAILED' if problems else 'ok'}: {html} -> {png}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
