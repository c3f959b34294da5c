"""End-to-end: build a small warehouse, write the Word report, render it with LibreOffice.

Run by `make e2e` (not collected by pytest). The .docx is converted to PDF by LibreOffice
headless and its pages to PNG by poppler's pdftoppm, with fontconfig told which Debian fonts
stand in for the 公文 fonts (`gongwen-fonts.conf`). Everything is kept under
`warehouse/e2e/docx/` for a person to look at. Exits non-zero when the render is wrong: the
pages must be A4, the first portrait and the last landscape (the completeness grid), carry
ink, and be set in CJK fonts that stand in for 小标宋, 黑体, 楷体 and 仿宋 (not one fallback
for all of them).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the ledger writers and the small warehouse

FONTS_CONF = HERE / "gongwen-fonts.conf"
A4_PT = (595, 842)  # pdfinfo's page size, rounded
DPI = 80
# At least a serif (宋/仿宋 stand-in), a sans (黑体) and a Kai font must be embedded.
FONT_KINDS = {"serif": ("Ming", "Serif"), "sans": ("ZenHei", "Sans"), "kai": ("Kai",)}


def soffice() -> str:
    """Return LibreOffice's binary, or stop with a clear message."""
    for name in ("soffice", "libreoffice"):
        if found := shutil.which(name):
            return found
    sys.exit("LibreOffice not found: `make e2e` installs Debian's libreoffice-writer-nogui")


def render(docx: Path, out: Path) -> Path:
    """Convert the .docx to PDF with LibreOffice headless (a fresh profile); return the PDF."""
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
    with tempfile.TemporaryDirectory(prefix="tally-soffice-") as profile:
        cmd = [soffice(), f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
               "--convert-to", "pdf", "--outdir", str(out), str(docx)]  # fmt: skip
        subprocess.run(cmd, check=True, timeout=300, capture_output=True, env=env)
    return out / (docx.stem + ".pdf")


def pages(pdf: Path) -> list[tuple[float, float]]:
    """Return each page's size in points (pdfinfo)."""
    text = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", text)]


def embedded_fonts(pdf: Path) -> list[str]:
    """Return the names of the fonts embedded in the PDF (pdffonts)."""
    text = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    return [line.split()[0].split("+", 1)[-1] for line in text.splitlines()[2:] if line.strip()]


def to_png(pdf: Path, out: Path) -> list[Path]:
    """Render every page to PNG (pdftoppm); return the files in page order."""
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(out / "page")], check=True,
                   timeout=120, capture_output=True)  # fmt: skip
    return sorted(out.glob("page-*.png"))


def check(sizes: list[tuple[float, float]], fonts: list[str], pngs: list[Path]) -> list[str]:
    """Return what is wrong with the render (nothing when it is a 公文 on A4)."""
    from matplotlib.image import imread

    problems = []
    if len(sizes) < 2:
        problems.append(f"{len(sizes)} page(s): expected the tables and the landscape grid")
    else:
        first, last = (tuple(round(v) for v in s) for s in (sizes[0], sizes[-1]))
        if first != A4_PT:
            problems.append(f"first page {first} pt, expected A4 portrait {A4_PT}")
        if last != A4_PT[::-1]:
            problems.append(f"last page {last} pt, expected A4 landscape {A4_PT[::-1]}")
    for kind, marks in FONT_KINDS.items():
        if not any(m in f for f in fonts for m in marks):
            problems.append(f"no {kind} CJK font embedded (fonts: {', '.join(fonts) or 'none'})")
    for png in pngs:
        image = imread(io.BytesIO(png.read_bytes()), format="png")[..., :3]
        ink = float((image.min(axis=2) < 0.6).mean())
        if ink < 0.005:
            problems.append(f"{png.name} almost blank: {ink:.2%} of pixels have ink")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("warehouse/e2e/docx"))
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
        data = load_report(con, 2024, "某县文化旅游广电局")
    finally:
        con.close()
    docx = write_report(data, "docx", args.out / "report-2024.docx").resolve()
    pdf = render(docx, args.out.resolve())
    sizes, fonts = pages(pdf), embedded_fonts(pdf)
    pngs = to_png(pdf, args.out)
    problems = check(sizes, fonts, pngs)
    for problem in problems:
        print(f"e2e: {problem}", file=sys.stderr)
    print(f"e2e: {'FAILED' if problems else 'ok'}: {docx} -> {pdf} ({len(sizes)} pages, "
          f"fonts {', '.join(fonts)}) -> {args.out}/page-*.png")  # fmt: skip
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
