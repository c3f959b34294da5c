"""A run holds glibc to two malloc arenas (issue 16: the run's memory at 4M rows)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Eight threads each malloc once; glibc gives a thread an arena of its own until the cap
# (default: 8 a core). malloc_info lists one <heap> an arena.
PROBE = textwrap.dedent(
    """
    import ctypes, sys, tempfile, threading
    from flows.run.stages import cap_heap_arenas
    if sys.argv[1] == "capped":
        cap_heap_arenas()
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.fopen.restype = ctypes.c_void_p
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    def heaps():
        with tempfile.NamedTemporaryFile(suffix=".xml") as f:
            fp = libc.fopen(f.name.encode(), b"w")
            libc.malloc_info(0, fp)
            libc.fclose(fp)
            return open(f.name).read().count("<heap nr=")
    before = heaps()
    go = threading.Barrier(8)
    def grab():
        go.wait()
        libc.malloc(200_000)  # never freed: the thread's arena stays in use
    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(before, heaps())
    """
)


def arenas(mode: str) -> tuple[int, int]:
    """The process's arenas before and after eight threads malloc."""
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    before, after = out.stdout.split()
    return int(before), int(after)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas")
def test_a_run_holds_glibc_to_two_arenas():
    before, after = arenas("free")
    assert after > before  # the probe does make arenas: without the cap its threads take their own
    # Capped, the threads share the arenas made before the cap (the imports' threads made some).
    before, after = arenas("capped")
    assert after == before
