"""Make GX's Data Docs self-contained: the CSS, JavaScript and fonts they load, served from the docs folder.

Great Expectations' page templates (`great_expectations/render/view/templates/*.j2`) load
jQuery, Bootstrap, bootstrap-table, bootstrap-datepicker, Popper, Vega, Font Awesome and
bootstrap-dark from public CDNs, and its logo from its own S3 bucket. On a government intranet
without the internet the pages then render empty. GX 1.x has no setting for where its assets
come from (its site builder copies only its own `static/` folder, and a plugins folder's
`custom_data_docs/views` would mean keeping copies of its templates), so after GX has
rendered, `make_self_contained` copies the files of `ASSETS` (vendored from the npm registry
in `docs_assets/`, byte for byte, with their licences) into `<docs>/static/vendor/` and
rewrites each page's CDN addresses to relative paths.

`python -m flows.validate.offline_docs refresh` fetches the exact versions again (`npm pack`)
into `docs_assets/`; `docs_assets/README.md` says the same for a reader of the folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ASSETS_DIR = Path(__file__).with_name("docs_assets")  # vendored, in the package (see its README.md)
VENDOR = Path("static") / "vendor"  # where they go in a docs folder
LICENCE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md")


@dataclass(frozen=True)
class Asset:
    """One file a GX page loads: its address in GX's templates and where npm has the same bytes.

    `package` is an npm spec with an exact version (`jquery@3.7.1`); `path` is the file inside
    the package. GX's `vega@5` style addresses name a major version: the one vendored is the
    latest of that major when it was fetched, as the CDN served then.
    """

    url: str
    package: str
    path: str

    @property
    def folder(self) -> str:
        """Return the package's folder under `docs_assets/`: `fortawesome-fontawesome-free-6.6.0`."""
        return self.package.lstrip("@").replace("/", "-").replace("@", "-")

    @property
    def vendored(self) -> Path:
        """Return the file's path under `docs_assets/` (and under `static/vendor/` of a docs folder).

        The package's path without a leading `dist/` or `build/` (folders that git ignores):
        `jquery-3.7.1/jquery.min.js`. Paths between files of a package stay as they were.
        """
        first, _, rest = self.path.partition("/")
        return Path(self.folder) / (rest if first in ("dist", "build") else self.path)


FONT_AWESOME = "@fortawesome/fontawesome-free@6.6.0"
# Every address GX 1.x's templates load a page's assets from (read in the rendered HTML).
ASSETS = (
    Asset("https://code.jquery.com/jquery-3.7.1.min.js", "jquery@3.7.1", "dist/jquery.min.js"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js", "popper.js@1.12.9",
          "dist/umd/popper.min.js"),
    Asset("https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js", "bootstrap@4.3.1",
          "dist/js/bootstrap.min.js"),
    Asset("https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css", "bootstrap@4.3.1",
          "dist/css/bootstrap.min.css"),
    Asset("https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css", "bootstrap-table@1.19.1",
          "dist/bootstrap-table.min.css"),
    Asset("https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js", "bootstrap-table@1.19.1",
          "dist/bootstrap-table.min.js"),
    Asset("https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
          "bootstrap-table@1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"),
    # GX's pages take the filter-control styles from 1.19.0, the scripts from 1.19.1.
    Asset("https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
          "bootstrap-table@1.19.0", "dist/extensions/filter-control/bootstrap-table-filter-control.css"),
    Asset("https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
          "bootstrap-table@1.19.0", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css",
          "bootstrap-datepicker@1.9.0", "dist/css/bootstrap-datepicker.min.css"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js",
          "bootstrap-datepicker@1.9.0", "dist/js/bootstrap-datepicker.min.js"),
    Asset("https://cdn.jsdelivr.net/npm/vega@5", "vega@5.33.1", "build/vega.min.js"),
    Asset("https://cdn.jsdelivr.net/npm/vega-lite@5", "vega-lite@5.23.0", "build/vega-lite.min.js"),
    Asset("https://cdn.jsdelivr.net/npm/vega-embed@6", "vega-embed@6.29.0", "build/vega-embed.min.js"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css", FONT_AWESOME,
          "css/all.min.css"),
    Asset("https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",
          "@forevolve/bootstrap-dark@1.1.0", "dist/css/bootstrap-prefers-dark.css"),
)  # fmt: skip
# Files a vendored file loads itself: Font Awesome's CSS loads its fonts from ../webfonts/. Only
# the WOFF2 fonts, which it lists first: every browser that runs the pages' scripts reads them.
FONTS = tuple(Asset("", FONT_AWESOME, f"webfonts/{name}.woff2")
              for name in ("fa-brands-400", "fa-regular-400", "fa-solid-900", "fa-v4compatibility"))

# GX's logo comes from its S3 bucket, with a cache-busting query; GX copies the same picture
# into the docs' static/images/. Its dark-mode stylesheet has a dark logo that only the bucket
# has: the light one stands in.
S3_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/logo-long\.png(\?[^\"']*)?")
S3_DARK_LOGO = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png"
LOCAL_LOGO = Path("static") / "images" / "logo-long.png"
# Subresource integrity on a file:// page: Chromium refuses a crossorigin script from a file
# URL, so the two attributes go with the CDN address (the vendored bytes are those hashes':
# tests/validate/test_offline_data_docs.py checks them against GX's templates).
INTEGRITY = re.compile(r'\s+(?:integrity="[^"]*"|crossorigin="[^"]*")')
# What still loads from elsewhere after the rewrite (a GX upgrade that adds an asset): a
# script, stylesheet or image address, or a CSS url(), outside the folder.
EXTERNAL_LOAD = re.compile(
    r"""<(?:script|img)\b[^>]*\bsrc=["'](?:https?:)?//[^"']+|<link\b[^>]*\bhref=["'](?:https?:)?//[^"']+"""
    r"""|url\(\s*["']?(?:https?:)?//[^)"']+""",
    re.IGNORECASE,
)


def make_self_contained(folder: Path) -> list[str]:
    """Copy the vendored assets into a rendered Data Docs folder and point its pages at them.

    Rewrites every `.html` under `folder` and GX's stylesheets in `static/styles/`. Returns what
    still loads from outside the folder (empty when the docs are self-contained), as
    `file: address` lines for the build log. Raises FileNotFoundError when a vendored file is
    missing (`python -m flows.validate.offline_docs refresh` restores them).
    """
    folder = Path(folder)
    target = folder / VENDOR
    for asset in (*ASSETS, *FONTS):
        copy(ASSETS_DIR / asset.vendored, target / asset.vendored)
    for licence in ASSETS_DIR.glob("*/LICEN[SC]E*"):
        copy(licence, target / licence.relative_to(ASSETS_DIR))
    copy(ASSETS_DIR / "README.md", target / "README.md")
    for page in folder.rglob("*.html"):
        page.write_text(rewrite_page(page.read_text(encoding="utf-8"), page.parent, folder), encoding="utf-8")
    for sheet in (folder / "static" / "styles").glob("*.css"):
        text = sheet.read_text(encoding="utf-8")
        local = Path(os.path.relpath(folder / LOCAL_LOGO, sheet.parent)).as_posix()
        sheet.write_text(text.replace(S3_DARK_LOGO, local), encoding="utf-8")
    return external_loads(folder)


def rewrite_page(html: str, where: Path, folder: Path) -> str:
    """Return a page with each CDN address of `ASSETS` replaced by its path relative to `where`."""
    def relative(path: Path) -> str:
        return Path(os.path.relpath(folder / path, where)).as_posix()

    for asset in ASSETS:
        for quote in ('"', "'"):
            html = html.replace(f"{quote}{asset.url}{quote}", f"{quote}{relative(VENDOR / asset.vendored)}{quote}")
    html = S3_LOGO.sub(relative(LOCAL_LOGO), html).replace(S3_DARK_LOGO, relative(LOCAL_LOGO))
    return re.sub(r"<script\b[^>]*>", lambda m: INTEGRITY.sub("", m.group()), html)


def external_loads(folder: Path) -> list[str]:
    """List, as `file: address`, every script, stylesheet, image or CSS url() loaded from outside `folder`."""
    found = []
    for page in sorted([*folder.rglob("*.html"), *(folder / "static" / "styles").glob("*.css")]):
        for match in EXTERNAL_LOAD.finditer(page.read_text(encoding="utf-8")):
            found.append(f"{page.relative_to(folder)}: {match.group()}")
    return found


def copy(source: Path, target: Path) -> None:
    """Copy one file, making its folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


# Refreshing the vendored files


def refresh(into: Path = ASSETS_DIR, npm: str = "npm") -> list[Path]:
    """Fetch every package of `ASSETS` with `npm pack` and copy its files and licence into `into`.

    Returns the files written. A package whose tarball has no licence file (popper.js 1.12.9,
    vega 5.33.1) keeps the LICENSE written by hand from its package.json's licence.
    """
    written: list[Path] = []
    by_package: dict[str, list[Asset]] = {}
    for asset in (*ASSETS, *FONTS):
        by_package.setdefault(asset.package, []).append(asset)
    with tempfile.TemporaryDirectory(prefix="tally-npm-") as tmp:
        for package, assets in by_package.items():
            name = subprocess.run([npm, "pack", "--silent", package], cwd=tmp, check=True,
                                  capture_output=True, text=True).stdout.strip().splitlines()[-1]
            unpacked = Path(tmp) / assets[0].folder
            with tarfile.open(Path(tmp) / name) as tar:
                tar.extractall(unpacked, filter="data")
            root = unpacked / "package"
            wanted = [(root / a.path, into / a.vendored) for a in assets]
            wanted += [(root / n, into / assets[0].folder / n) for n in LICENCE_NAMES if (root / n).exists()]
            for source, target in wanted:
                copy(source, target)
                written.append(target)
    return written


if __name__ == "__main__":
    if sys.argv[1:] != ["refresh"]:
        sys.exit("usage: python -m flows.validate.offline_docs refresh")
    for path in refresh():
        print(path)
