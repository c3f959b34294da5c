"""Great Expectations itself on its pandas datasource: the reference that `flows.validate.suite_runner` is held to.

Used by the tests and `bench/validation_cost.py`, never by a run.
"""

from __future__ import annotations

import polars as pl

from flows.validate.suites import ROW, UNIT

RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [UNIT, ROW]}


def gx_results(frame: pl.DataFrame, name: str, expectations: list[dict]) -> list[dict]:
    """Validate frame with GX's pandas datasource; per expectation: rows, counts, raised."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite

    from flows.validate.data_docs import new_context

    context = new_context()
    source = context.data_sources.add_pandas("ledgers")
    # GX does not return the results in the suite's order: number them in their meta.
    numbered = [e | {"meta": (e.get("meta") or {}) | {"_i": i}} for i, e in enumerate(expectations)]
    suite = context.suites.add(ExpectationSuite(name=name, expectations=numbered))
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("run")
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    validation = definition.run(batch_parameters={"dataframe": frame.to_pandas()}, result_format=RESULT_FORMAT)
    by_number = {r.expectation_config.meta["_i"]: r for r in validation.results}
    out = []
    for i in range(len(expectations)):
        result = by_number[i]
        info = result.exception_info or {}
        infos = [info] if "raised_exception" in info else list(info.values())
        index = result.result.get("unexpected_index_list") or []
        out.append({
            "rows": {(int(d[UNIT]), int(d[ROW])) for d in index},
            "element_count": result.result.get("element_count"),
            "unexpected_count": result.result.get("unexpected_count") or 0,
            "raised": any(isinstance(i, dict) and i.get("raised_exception") for i in infos),
        })  # fmt: skip
    return out
