"""Which variables of each dataset are still read later: liveness over the spec's steps.

A working frame carries every SDTM variable of its source and every intermediate a step made (ADLB:
about 100 variables, 43 written); each copy of its records (a filter, the BASETYPE copies, new
parameter records) copies all of them. The builder drops a variable once no later step, no later
dataset and no output can read it. What a step reads is over-estimated, never under: every name in
its arguments (conditions included), every string constant of the derivation library (the defaults
AVAL, BASE, ABLFL and the names a derivation reads itself, such as SRCSEQ), the output variables
and keys; a step that reads every variable of a dataset (``derive_vars_merged`` without
``new_vars`` takes all the added dataset's variables, ``derive_vars_supp`` reads the variables its
IDVARs name) keeps everything of that dataset. Dropping a variable that is never read changes no
value of the others, so the outputs are the same.
"""
from __future__ import annotations

import ast
import inspect
import re
from functools import lru_cache
from pathlib import Path

from .derive import STEPS
from .spec import DATASET_ARGS

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# steps reading variables of their dataset that no argument names (derive_vars_supp: the IDVAR values)
READS_ANY_VARIABLE = frozenset({"derive_vars_supp"})

ALL = None  # every variable is (or may be) read


@lru_cache(maxsize=1)
def library_names() -> frozenset[str]:
    """The names in every string constant of adam.derive's code (docstrings left out)."""
    names: set[str] = set()
    for path in sorted(Path(__file__).with_name("derive").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
                      and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                names.update(_TOKEN.findall(node.value))
    return frozenset(names | {n.upper() for n in names})


def _mentions(value, found: set[str]) -> set[str]:
    """Every name in a step's arguments (keys and values, conditions included), upper-cased too."""
    if isinstance(value, str):
        for token in _TOKEN.findall(value):
            found.add(token)
            found.add(token.upper())
    elif isinstance(value, dict):
        for k, v in value.items():
            _mentions(k, found)
            _mentions(v, found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _mentions(v, found)
    return found


def _sources(ds: dict) -> list[str]:
    return [ds["source"]] if isinstance(ds["source"], str) else list(ds["source"])


def _reads_all_of(step: dict, arg: str) -> bool:
    """Does the step read every variable of the dataset given as ``arg`` ("dataset" = its own)?"""
    name = step.get("step")
    if name in READS_ANY_VARIABLE:
        return True
    if arg == "dataset_add" and _has_new_vars(name):
        return (step.get("args") or {}).get("new_vars") is None
    return False


@lru_cache(maxsize=None)
def _has_new_vars(name) -> bool:
    func = STEPS.get(name)
    return func is not None and "new_vars" in inspect.signature(func).parameters


def _union(a, b):
    return ALL if a is ALL or b is ALL else a | b


class Liveness:
    """``after(name, k)``: the variables of dataset ``name`` still read after its step ``k`` (-1: at
    its start, its source); ``kept(name, position)``: the variables of a built (or SDTM) dataset that
    the datasets from spec position ``position`` on read. ``ALL`` (None): keep every variable."""

    def __init__(self, datasets: dict[str, dict]):
        self._names = list(datasets)
        self._specs = datasets
        self._steps = {name: [_mentions(s.get("args") or {}, set()) for s in ds.get("steps", [])]
                       for name, ds in datasets.items()}
        self._tails: dict[str, list] = {}
        self._kept: dict[tuple[str, int], set[str] | None] = {}
        # in reverse spec order, so that a dataset's readers are known before it
        for position in range(len(self._names) - 1, -1, -1):
            name = self._names[position]
            ds = datasets[name]
            fixed = set(library_names())
            fixed.update(v["name"] for v in ds.get("variables", []))
            fixed.update(ds.get("keys", []))
            tail = _union(fixed, self.kept(name, position + 1))
            tails = [tail] * (len(ds.get("steps", [])) + 1)
            for k in range(len(ds.get("steps", [])) - 1, -1, -1):  # tails[k]: read by steps k.. on
                reads = ALL if _reads_all_of(ds["steps"][k], "dataset") else self._steps[name][k]
                tail = _union(tail, reads)
                tails[k] = tail
            self._tails[name] = tails

    def after(self, name: str, k: int):
        return self._tails[name][k + 1]

    def kept(self, name: str, position: int):
        """What the datasets at ``position`` and later read of ``name``."""
        if (name, position) not in self._kept:
            self._kept[(name, position)] = self._reads(name, position)
        return self._kept[(name, position)]

    def _reads(self, name: str, position: int):
        need: set[str] | None = set()
        for reader in self._names[position:]:
            ds = self._specs[reader]
            if name in _sources(ds):
                need = _union(need, self._tails[reader][0])
            for k, step in enumerate(ds.get("steps", [])):
                for arg in DATASET_ARGS:
                    if (step.get("args") or {}).get(arg) == name:
                        need = _union(need, ALL if _reads_all_of(step, arg) else
                                      self._steps[reader][k] | library_names())  # defaults: APERSDT
            if need is ALL:
                return ALL
        return need


def keep_only(df, live):
    """``df`` without the variables not in ``live`` (no data copied); ``df`` itself when none goes."""
    if live is ALL:
        return df
    keep = [i for i, c in enumerate(df.columns.tolist()) if c in live]
    if len(keep) == len(df.columns):
        return df
    # by position: selecting by a list of names looks each name up in the text column index, which
    # costs more than the selection itself (~190 selections per chunk)
    out = df.take(keep, axis=1)
    out.attrs = dict(df.attrs)
    return out
