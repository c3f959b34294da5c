"""The `tally` command. Each `*_commands` module registers the commands of one concern on `app`.

`tally` imports a command's module when that command is called (`flows.cli.app.COMMANDS`), not
every module before it reads its arguments; `load_all()` imports them all.
"""

from flows.cli.app import app, load_all

__all__ = ["app", "load_all"]
