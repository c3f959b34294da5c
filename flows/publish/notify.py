"""Tell the legal office when a run fails, quarantines rows or rejects files.

`tally.toml` names the hook: `[notify] command = ["program", "arg", …]` runs a program (no
shell: `["sh", "-c", "…"]` for one) with the notification text on its stdin, UTF-8; a command
given as one string is split as a POSIX shell would split it (shlex), still without a shell.
`webhook = "http://…"` receives the run's summary and the text as a JSON POST. A hook that
fails is reported, never fatal: the run's outcome does not depend on the messenger.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
import urllib.request
from collections.abc import Mapping, Sequence

COMMAND_TIMEOUT = 60
WEBHOOK_TIMEOUT = 10
WEBHOOK_ATTEMPTS = 3


class NotifyError(Exception):
    """A notification hook failed."""


def should_notify(payload: Mapping) -> bool:
    """Tell whether a run is worth a message: it failed, quarantined rows or rejected files."""
    return (
        payload.get("outcome") != "completed"
        or (payload.get("rows_quarantined") or 0) > 0
        or (payload.get("files_rejected") or 0) > 0
    )


def run_command(command: Sequence[str] | str, text: str, *, timeout: float = COMMAND_TIMEOUT) -> None:
    """Run the notify command (an argv list, or a line split by shlex; never a shell) with the text on stdin, UTF-8."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    try:
        done = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NotifyError(f"通知命令无法运行 · notify command failed: {shlex.join(argv)}: {exc}") from exc
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()[:500]
        raise NotifyError(f"通知命令退出码 {done.returncode} · notify command exited {done.returncode}: {err}")


def post_webhook(url: str, payload: Mapping, *, timeout: float = WEBHOOK_TIMEOUT,
                 attempts: int = WEBHOOK_ATTEMPTS, backoff: float = 1.0) -> int:
    """POST the payload as JSON, retrying transient failures; return the HTTP status."""
    if not url.startswith(("http://", "https://")):
        raise NotifyError(f"通知地址必须以 http:// 或 https:// 开头 · webhook must be http(s): {url}")
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    last: Exception | None = None
    for attempt in range(attempts):
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except OSError as exc:  # URLError and HTTPError are OSErrors
            last = exc
            if attempt + 1 < attempts:
                time.sleep(backoff * 2**attempt)
    raise NotifyError(f"通知地址无法送达 · webhook failed: {url}: {last}") from last


def notify(payload: Mapping, text: str, *, command: Sequence[str] | str | None = None,
           webhook: str | None = None, attempts: int = WEBHOOK_ATTEMPTS) -> list[str]:
    """Send the run's summary through every configured hook; return the failures, if any."""
    failures = []
    if command:
        try:
            run_command(command, text)
        except NotifyError as exc:
            failures.append(str(exc))
    if webhook:
        try:
            post_webhook(webhook, {**payload, "text": text}, attempts=attempts)
        except NotifyError as exc:
            failures.append(str(exc))
    return failures
