"""The throwaway PostgreSQL the lake's tests use is a real server, reached on its unix socket."""

from __future__ import annotations


def test_cluster_answers_on_its_socket(pg):
    assert pg.psql("SELECT 40 + 2").strip() == "42"
    assert list(pg.socket_dir.glob(".s.PGSQL.*"))  # a unix socket, no TCP port


def test_each_test_gets_an_empty_catalog(catalog, pg):
    name = catalog.split()[0].removeprefix("dbname=")
    assert pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", db=name).strip() == "0"
