"""The `tally` command. Each module here registers the commands of one concern on `app`."""

from flows.cli import (  # noqa: F401  (each module registers its commands)
    contract_commands,
    indicator_commands,
    ingest_commands,
    key_commands,
    problem_commands,
    report_commands,
    run_commands,
    sample_commands,
    signoff_commands,
)
from flows.cli.app import app

__all__ = ["app"]
