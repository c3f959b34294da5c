"""What the readers' fork server imports once, before it forks any reader process.

Each reader process used to import the readers itself on its first task (~0.4 CPU-s: polars,
numpy, pydantic, the contract, calamine), so a run with two readers paid it twice. The fork
server (`flows.extract.isolation.reader_context`) imports this module instead, and every reader
forked from it starts with the modules loaded, their pages shared with the server.

Why forking from this server is safe although polars is imported in it: no polars, numpy or
calamine work ever runs in the server, so polars' thread pool is never started there (it
starts on first use). What importing leaves running are threads that hold no lock a reader
takes: jemalloc's background threads (jemalloc takes its own locks around every fork and
resets them in the child) and polars' idle spill cleaner. numpy's BLAS pool is kept to the
calling thread (the server is started with OPENBLAS_NUM_THREADS=1). A reader that hung anyway
is stopped by its time-out like any other, and its file is read again by the next run.

The server is started with the readers' width of polars' thread pool in its environment
(polars reads it once, when imported); the malloc arenas are limited here, a glibc setting
that every forked reader keeps.
"""

from __future__ import annotations

from flows.extract import isolation, plan  # noqa: F401  (imported here once, for every reader)

isolation.limit_arenas()
