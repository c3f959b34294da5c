"""The `tally` command. Each module here registers the commands of one concern on `app`."""

from . import (
    indicator_commands,  # noqa: F401  (registers commands)
    ingest_commands,  # noqa: F401  (registers commands)
    key_commands,  # noqa: F401  (registers commands)
    problem_commands,  # noqa: F401  (registers commands)
    report_commands,  # noqa: F401  (registers commands)
    run_commands,  # noqa: F401  (registers commands)
    sample_commands,  # noqa: F401  (registers commands)
)
from .app import app

__all__ = ["app"]
