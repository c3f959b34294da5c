"""Peak resident memory of a whole process tree, sampled from /proc (Linux).

A process's own peak (VmHWM, ru_maxrss) is its alone: a step's reader workers and the Data Docs' child are not in
it, and RUSAGE_CHILDREN gives the largest child, not the sum. The bench wants what the machine
had to hold for the run, so it sums the resident pages of the step and all its descendants
every few milliseconds and keeps the largest sum. A peak shorter than the interval can be
missed; the step's own peak (VmHWM) is reported beside it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
INTERVAL_S = 0.02


def children_of() -> dict[int, list[int]]:
    """Return each live process's children, read from /proc/<pid>/stat."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in brackets and may hold spaces: the parent follows the last ')'
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_rss(root: int) -> int:
    """Return the resident bytes of root and every process below it."""
    tree = children_of()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


class TreePeak:
    """Sample a process tree's resident memory in a thread until stopped; `peak_mib` is the largest sum."""

    def __init__(self, root: int, interval: float = INTERVAL_S) -> None:
        self.root, self.interval = root, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.root))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        """Return the largest sum seen, in MiB."""
        return self.peak / 2**20
