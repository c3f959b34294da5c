"""Benchmark of a tally run at 100k–4M ledger rows (`make bench`)."""
