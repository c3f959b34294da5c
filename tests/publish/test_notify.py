"""The notification hooks: a command fed the summary on stdin, and a JSON webhook."""

from __future__ import annotations

import json
import shlex
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from flows.publish import notify


@pytest.fixture
def webhook():
    """A tiny HTTP server on 127.0.0.1 that records POSTs; `fail` first requests get a 503."""
    received: list[dict] = []
    state = {"fail": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state["fail"] > 0:
                state["fail"] -= 1
                self.send_response(503)
                self.end_headers()
                return
            received.append({"type": self.headers["Content-Type"], "json": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tally", received, state
    server.shutdown()
    server.server_close()


PAYLOAD = {"run_id": "r1", "outcome": "completed", "rows_quarantined": 2, "files_rejected": 0}


@pytest.mark.parametrize(("payload", "wanted"), [
    (PAYLOAD, True),
    ({**PAYLOAD, "rows_quarantined": 0}, False),
    ({**PAYLOAD, "rows_quarantined": 0, "files_rejected": 1}, True),
    ({**PAYLOAD, "rows_quarantined": 0, "outcome": "failed"}, True),
])
def test_who_gets_told(payload, wanted):
    assert notify.should_notify(payload) is wanted


def test_the_webhook_gets_the_summary_as_json(webhook):
    url, received, _ = webhook
    failures = notify.notify(PAYLOAD, "隔离 2 行", webhook=url)
    assert failures == []
    assert received == [{"type": "application/json; charset=utf-8", "json": {**PAYLOAD, "text": "隔离 2 行"}}]


def test_the_webhook_is_retried_after_a_transient_failure(webhook):
    url, received, state = webhook
    state["fail"] = 1
    assert notify.post_webhook(url, PAYLOAD, backoff=0.01) == 204
    assert len(received) == 1


def test_a_webhook_that_keeps_failing_is_reported_not_raised(webhook):
    url, received, state = webhook
    state["fail"] = 5
    failures = notify.notify(PAYLOAD, "x", webhook=url, attempts=1)
    assert len(failures) == 1 and "webhook failed" in failures[0] and received == []


def test_a_webhook_must_be_http():
    with pytest.raises(notify.NotifyError, match="http"):
        notify.post_webhook("file:///etc/passwd", PAYLOAD)


def test_the_command_reads_the_summary_on_stdin(tmp_path):
    out = tmp_path / "got.txt"
    script = "import sys; open(sys.argv[1], 'w', encoding='utf-8').write(sys.stdin.read())"
    command = shlex.join([sys.executable, "-c", script, str(out)])
    assert notify.notify(PAYLOAD, "运行失败 · run failed\n第二行", command=command) == []
    assert out.read_text(encoding="utf-8") == "运行失败 · run failed\n第二行"


def test_a_failing_command_is_reported(tmp_path):
    command = shlex.join([sys.executable, "-c", "import sys; sys.exit('no route')"])
    failures = notify.notify(PAYLOAD, "x", command=command)
    assert len(failures) == 1 and "退出码 1" in failures[0] and "no route" in failures[0]
    assert notify.notify(PAYLOAD, "x", command=str(tmp_path / "missing-program"))[0].startswith("通知命令无法运行")
