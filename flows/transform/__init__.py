"""The SQL models of `sql/` and the indicators built from them."""
