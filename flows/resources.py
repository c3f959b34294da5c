"""Where the SQL models and the Great Expectations suites are read from.

`sql/` and `expectations/` sit at the top of the checkout, beside `flows/`, where a reviewer
and a bureau's analyst find and edit them. An installed wheel has no checkout: it carries the
same folders inside the package as `flows/_sql` and `flows/_expectations` (the mapping is in
`pyproject.toml`). A checkout, an editable install included, is always read first, so an edit
to `sql/` takes effect without reinstalling.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from flows.errors import TallyError

# The checkout's top level: the folder that holds `flows/` and `pyproject.toml`.
CHECKOUT = Path(__file__).resolve().parents[1]
# Folder in the checkout → its place inside the installed package.
SHIPPED = {"sql": "_sql", "expectations": "_expectations"}


def resource_dir(name: str) -> Path:
    """Return the folder `name` (`sql` or `expectations`): the checkout's, else the installed one."""
    checkout = CHECKOUT / name
    # pyproject.toml beside it tells a checkout from a site-packages that happens to hold a
    # folder of that name.
    if checkout.is_dir() and (CHECKOUT / "pyproject.toml").is_file():
        return checkout
    shipped = resources.files("flows").joinpath(SHIPPED[name])
    # pip unpacks a wheel on disk; a zipped install would have no folder to glob.
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    raise TallyError(
        f"找不到 {name}/ 文件夹，请重新安装 tally · the {name}/ folder is missing: neither {checkout} "
        f"nor {shipped} exists; reinstall tally"
    )


SQL_DIR = resource_dir("sql")
EXPECTATIONS_DIR = resource_dir("expectations")
