"""The run's wiring: the stages in order, for `tally run`, the Prefect flow and the tests."""
