"""The Data Docs render with no internet: every asset is served from the docs folder (issue 15).

The docs of a small run are opened in headless Chromium with every host name unresolvable;
the DevTools protocol (over a pipe: no extra package) lists each request the page makes. The
page must have its content, its scripts must have run, and no request may leave the folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import select
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from ledgerfiles import write_xlsx

from flows.validate.offline_docs import ASSETS, ASSETS_DIR, FONTS, make_self_contained

CASE = ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "案由", "处罚决定日期", "结案日期"]
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--disable-component-update", "--disable-sync",
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost")  # fmt: skip
# A guard against a hang only: Chromium on a loaded machine can take long to start.
HANG_GUARD_S = 180


def gx_templates() -> Path:
    import great_expectations

    return Path(great_expectations.__file__).parent / "render" / "view" / "templates"


# Without a browser: the vendored files are the ones GX asks for


def test_every_cdn_address_in_gx_templates_is_vendored():
    loads = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["'](https?://[^"']+)""")
    addresses = {m.group(1) for t in gx_templates().glob("*.j2") for m in loads.finditer(t.read_text())}
    assert addresses, "GX's templates moved: look for its CDN addresses again"
    assert addresses <= {a.url for a in ASSETS}, addresses - {a.url for a in ASSETS}
    for asset in (*ASSETS, *FONTS):
        assert (ASSETS_DIR / asset.vendored).stat().st_size > 0, asset
        assert list((ASSETS_DIR / asset.folder).glob("LICEN[SC]E*")), f"no licence for {asset.package}"


def test_no_vendored_file_is_ignored_by_git():
    """A fresh clone must have them: .gitignore drops `build/` and `dist/` folders."""
    files = [str(p) for p in ASSETS_DIR.rglob("*") if p.is_file()]
    if shutil.which("git") is None or not (Path(__file__).parents[2] / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", *files], cwd=ASSETS_DIR, capture_output=True, text=True)
    assert ignored.returncode == 1 and not ignored.stdout, ignored.stdout  # 1: none is ignored


def test_the_vendored_files_have_the_bytes_gx_pins_by_hash():
    pinned = re.compile(r'src="(https://[^"]+)" integrity="sha384-([^"]+)"')
    found = {m.group(1): m.group(2) for m in pinned.finditer((gx_templates() / "js_script_imports.j2").read_text())}
    assert len(found) == 2  # popper.js and bootstrap's script
    for asset in ASSETS:
        if asset.url in found:
            digest = base64.b64encode(hashlib.sha384((ASSETS_DIR / asset.vendored).read_bytes()).digest()).decode()
            assert digest == found[asset.url], asset.url


# In a browser with no network


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


class DevTools:
    """Chromium's DevTools protocol over --remote-debugging-pipe: JSON messages ended by NUL."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.to_browser_r, self.to_browser_w = os.pipe()
        self.from_browser_r, self.from_browser_w = os.pipe()
        reads, writes = self.to_browser_r, self.from_browser_w

        def as_fds_3_and_4() -> None:  # in the child: the browser reads commands on 3, answers on 4
            os.dup2(reads, 200)  # by way of free numbers, in case a pipe end is 3 or 4 already
            os.dup2(writes, 201)
            os.dup2(200, 3)
            os.dup2(201, 4)

        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=as_fds_3_and_4)
        os.close(self.to_browser_r)
        os.close(self.from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []  # events that arrived while waiting for an answer
        self.seen: list[dict] = []  # events passed over while waiting for another

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send a command and return its result; events that arrive meanwhile are kept."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser_w, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive()
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return reply["result"]
            self.events.append(reply)

    def receive(self) -> dict:
        while b"\0" not in self.buffer:
            ready, _, _ = select.select([self.from_browser_r], [], [], HANG_GUARD_S)
            assert ready, "Chromium stopped answering"
            chunk = os.read(self.from_browser_r, 1 << 16)
            assert chunk, "Chromium closed its pipe"
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method: str) -> dict:
        while True:
            event = self.events.pop(0) if self.events else self.receive()
            if event.get("method") == method:
                return event
            self.seen.append(event)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self.to_browser_w)
        os.close(self.from_browser_r)


def open_offline(binary: str, page: Path, profile: Path) -> tuple[list[dict], dict]:
    """Load a page with the network blocked; return every protocol event and what the page shows."""
    tools = DevTools(binary, profile)
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Page", "Runtime"):
            tools.send(f"{domain}.enable", session=session)
        tools.seen = []
        tools.send("Page.navigate", {"url": page.as_uri()}, session=session)
        tools.wait_for("Page.loadEventFired")
        shown = tools.send("Runtime.evaluate", {"returnByValue": True, "expression": """({
            text: document.body.innerText,
            jquery: typeof window.jQuery === 'function',
            bootstrapTable: !!(window.jQuery && jQuery.fn.bootstrapTable),
            vegaEmbed: typeof window.vegaEmbed === 'function',
            styled: getComputedStyle(document.body).fontFamily,
        })"""}, session=session)["result"]["value"]
        return [*tools.seen, *tools.events], shown
    finally:
        tools.close()


@pytest.fixture
def docs(ws) -> Path:
    """The Data Docs of a small run (one case file with a broken rule), made self-contained."""
    from flows.run.stages import ingest
    from flows.validate.data_docs import build_data_docs, docs_folder

    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": [CASE, ["A1", "2024-03-01", "某公司", "单位", None, "x",
                                                             "2024-02-01", None]]})
    found = ingest(ws.inbox, ws.warehouse)
    with duckdb.connect(str(ws.warehouse)) as con:
        index = build_data_docs(docs_folder(con), dict(found.suites))
    return index.parent


def test_the_rendered_pages_load_nothing_from_outside_the_docs_folder(docs):
    assert make_self_contained(docs) == []  # already done by the render: nothing left to rewrite
    pages = [p.read_text(encoding="utf-8") for p in docs.rglob("*.html")]
    assert len(pages) == 3  # the index, the suite, its validation
    assert not any("cdn" in p or "unpkg.com" in p or "amazonaws.com" in p for p in pages)
    assert (docs / "static/vendor/jquery-3.7.1/jquery.min.js").exists()
    assert (docs / "static/vendor/README.md").exists()
    assert (docs / "static/vendor/jquery-3.7.1/LICENSE.txt").exists()


@pytest.mark.parametrize("page", ["index.html", "validation"])
def test_the_data_docs_render_in_a_browser_with_no_network(docs, tmp_path, page):
    binary = chromium()
    if binary is None:
        pytest.skip("no Chromium on this machine (`make install` installs Debian's chromium as root)")
    path = docs / "index.html" if page == "index.html" else next((docs / "validations").rglob("*.html"))
    events, shown = open_offline(binary, path, tmp_path / "profile")

    requested = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    failed = [e["params"] for e in events if e.get("method") == "Network.loadingFailed"]
    errors = [e["params"]["exceptionDetails"] for e in events if e.get("method") == "Runtime.exceptionThrown"]
    inside = docs.resolve().as_uri() + "/"
    assert requested and all(url.startswith(inside) or url.startswith("data:") for url in requested), [
        url for url in requested if not url.startswith(inside)]
    assert any("/static/vendor/jquery-3.7.1/" in url for url in requested)
    assert any(url.endswith(".woff2") for url in requested) or page == "validation"
    assert failed == [] and errors == [], (failed, errors)
    # The scripts ran, Bootstrap styled the page, and it shows its content.
    assert shown["jquery"] and shown["bootstrapTable"] and shown["vegaEmbed"], shown
    assert "apple-system" in shown["styled"] or "Segoe UI" in shown["styled"], shown["styled"]
    assert "cases" in shown["text"], shown["text"][:500]
    if page == "validation":
        assert "unexpected" in shown["text"].lower()
