"""The stages import downward only and in no cycle: import-linter's contracts in pyproject.toml.

`[tool.importlinter]` lists the stages top to bottom (cli → run → report | publish → transform
→ load → validate → extract → privacy → contract → resources → errors | textnorm), keeps the
sample generator on the contract and privacy and out of everything but the command line, and
forbids import cycles between the modules of any one package of flows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import flows

CHECKOUT = Path(flows.__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run `lint-imports` on the checkout at `root` with its pyproject.toml."""
    return subprocess.run([LINT_IMPORTS, "--config", "pyproject.toml", "--no-cache"],
                          cwd=root, capture_output=True, text=True,
                          env=os.environ | {"PYTHONPATH": str(root)})


def test_flows_keeps_its_import_contracts() -> None:
    done = lint_imports(CHECKOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("flows/extract/cells.py", "import flows.load.warehouse", "A stage imports only the stages below it"),
    ("flows/contract/problems.py", "import flows.cli.output", "A stage imports only the stages below it"),
    ("flows/privacy/masking.py", "import flows.sample.fakes", "Only the command line imports the sample"),
    ("flows/sample/fakes.py", "import flows.extract.cells", "The sample generator builds on the contract"),
    ("flows/extract/cells.py", "import flows.extract.plan", "No import cycles between the modules of flows"),
])
def test_an_upward_or_circular_import_breaks_the_check(tmp_path: Path, module: str, line: str,
                                                       contract: str) -> None:
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy2(CHECKOUT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(CHECKOUT / "flows", root / "flows", ignore=shutil.ignore_patterns("__pycache__"))
    target = root / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")

    done = lint_imports(root)
    assert done.returncode == 1, done.stdout + done.stderr
    broken = [row for row in done.stdout.splitlines() if " BROKEN" in row]
    assert any(row.startswith(contract) for row in broken), done.stdout
