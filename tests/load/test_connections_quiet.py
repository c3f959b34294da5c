"""No DuckDB progress bar on standard output: every connection tally opens has it off."""

import ast
from pathlib import Path

from flows.connections import open_duckdb
from flows.load.warehouse import connect

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def progress_bar(con) -> bool:
    return con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]


def test_the_warehouse_connections_draw_no_progress_bar(tmp_path):
    path = tmp_path / "tally.duckdb"
    with connect(path) as con:
        assert progress_bar(con) is False
    with connect(path, read_only=True) as con:
        assert progress_bar(con) is False
    with open_duckdb() as con:
        assert progress_bar(con) is False


def test_every_connection_is_opened_through_open_duckdb():
    # duckdb.connect called anywhere else in the package would draw the bar again.
    direct = []
    for path in FLOWS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "duckdb"):
                direct.append(f"{path.relative_to(FLOWS)}:{node.lineno}")
    assert direct == ["connections.py:20"]
