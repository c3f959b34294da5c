"""The checks: Great Expectations suites on parsed sheets, cross-checks on the built models, Data Docs."""
