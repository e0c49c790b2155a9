"""Every worked example of docs/spec-reference.md (specs.algorithm_docs) is run through the real algorithm:
the documented output is what the toolkit gives. Every algorithm and argument is documented."""
import math

import pandas as pd
import pytest

from sdtm.algorithms import MapContext, run_map
from sdtm.derivations import DeriveContext
from sdtm.engine import DERIVATIONS
from sdtm.prepare import locate
from specs.algorithm_docs import ALGORITHM_DOCS, argument_text
from specs.ct import load_ct
from specs.lookups import LookupTable
from specs.vocabulary import ALGORITHMS, MAP


@pytest.fixture(scope="module")
def ct():
    return load_ct()


def _frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(v, dtype=object if any(isinstance(x, str) for x in v) else None)
                         for k, v in columns.items()})


def _lookups(context: dict) -> dict:
    return {name: LookupTable(name, {str(k): str(v) for k, v in table["values"].items()},
                              table.get("missing", "error"), f"study.yaml lookups.{name}")
            for name, table in (context.get("lookups") or {}).items()}


def run_example(name: str, ct) -> tuple[list, list]:
    """(the values the algorithm gives, the problems it reported) for the documented example."""
    example = ALGORITHM_DOCS[name].example
    context = example.context
    mapping = {"algorithm": name, **example.args}
    if ALGORITHMS[name].kind == MAP:
        raw = locate(pd.DataFrame(example.records, dtype=object), "raw.csv", [next(iter(example.records))])
        ctx = MapContext(context.get("studyid", "STUDY01"), example.domain, example.variable,
                         context.get("codelist"), ct, context.get("visits", []), context.get("arms", []),
                         timepoints=context.get("timepoints", []), lookups=_lookups(context))
        values = run_map(raw, mapping, ctx)
        problems = ctx.problems + ctx.term_problems
    else:
        data = _frame(example.records)
        domains = {n: _frame(columns) for n, columns in (context.get("domains") or {}).items()}
        domain_spec = {"variables": context.get("variables", [{"name": example.variable}]),
                       "standard_units": context.get("standard_units", {})}
        design = {"arms": context.get("arms", []), "elements": context.get("elements", [])}
        ctx = DeriveContext(example.domain, example.variable, {**domains, example.domain: data}, domain_spec, ct,
                            design)
        values = DERIVATIONS[name](data, mapping, ctx)
        problems = ctx.problems
    return [_plain(v) for v in values], [str(p) for p in problems]


def _plain(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_documented_example_gives_the_documented_output(name, ct):
    assert name in ALGORITHM_DOCS, (f"algorithm {name} has no entry in specs/algorithm_docs.py ALGORITHM_DOCS "
                                    f"(arguments and a worked example)")
    values, problems = run_example(name, ct)
    assert problems == []
    assert values == [_plain(v) for v in ALGORITHM_DOCS[name].example.output]


def test_every_argument_of_every_algorithm_is_described():
    undocumented = [f"{name}.{argument}" for name, algorithm in sorted(ALGORITHMS.items())
                    for argument in algorithm.required + algorithm.optional if not argument_text(name, argument)]
    assert undocumented == [], "describe these in specs/algorithm_docs.py: " + ", ".join(undocumented)


def test_examples_use_only_arguments_of_their_algorithm():
    for name, doc in ALGORITHM_DOCS.items():
        assert name in ALGORITHMS, f"specs/algorithm_docs.py documents {name}, which the vocabulary lacks"
        algorithm = ALGORITHMS[name]
        assert set(doc.example.args) <= set(algorithm.required + algorithm.optional), name
        assert set(doc.arguments) <= set(algorithm.required + algorithm.optional), name
        assert len(doc.example.output) == len(next(iter(doc.example.records.values()))), name
