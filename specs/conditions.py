"""Conditions, expressions and templates of specs: parse once, evaluate on whole columns.

The grammar is in ``specs.expressions``, the meaning of values and functions in ``specs.functions``.
This module is the API the rest of the toolkit uses:

- ``parse_condition(text)`` -> ``Condition`` (``evaluate(frame)`` -> bool Series);
- ``parse_expression(text)`` -> ``Expression`` (``evaluate(frame)`` -> values and the problem of each row);
- ``parse_template(text)`` -> ``Template``: text with ``{expression}`` fields (``{{`` and ``}}`` for braces).

Each reads ``columns`` (the records' own columns, by name), ``variables`` ('DOMAIN.NAME' of mapped SDTM
variables) and ``tables`` (lookup tables). Evaluation is once per distinct combination of what it reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from specs import expressions as ex
from specs.expressions import ConditionError
from specs.functions import FUNCTIONS, Env, as_number, as_text, evaluate, truth

__all__ = ["ConditionError", "Condition", "Expression", "Template", "parse_condition", "parse_expression",
           "parse_template"]


def distinct_codes(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """(code of each row, the distinct rows of those columns): expressions are evaluated once per
    distinct combination of the columns they read, then spread back to the rows."""
    if not columns:
        return np.zeros(len(frame), dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1 if len(frame) else 0))
    combined, span = np.zeros(len(frame), dtype=np.int64), 1
    for column in columns:
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        size = len(uniques) + 1
        if span * size >= 2 ** 62:  # too many combinations to pack in one integer: number them first
            combined, distinct = pd.factorize(combined)
            span = len(distinct)
        combined = combined * size + codes
        span *= size
    combined, distinct = pd.factorize(combined)  # codes in order of first appearance
    first = np.empty(len(distinct), dtype=np.int64)  # the first row of each code (scattered from the end)
    first[combined[::-1]] = np.arange(len(combined) - 1, -1, -1)
    return combined, frame[columns].iloc[first].reset_index(drop=True)


def _references(roots) -> tuple[set[str], set[str], set[str]]:
    columns, variables, tables = set(), set(), set()
    for root in roots:
        for node in ex.walk(root):
            if isinstance(node, ex.Column):
                columns.add(node.name)
            elif isinstance(node, ex.Variable):
                variables.add(node.key)
            elif isinstance(node, ex.Call) and node.function == "lookup":
                tables.add(node.args[1].value)
    return columns, variables, tables


class _Readable:
    """What an expression, a condition or a template reads, and the distinct frame it is evaluated on."""

    kind = "expression"

    @property
    def columns(self) -> set[str]:
        return _references(self.roots)[0]

    @property
    def variables(self) -> set[str]:
        return _references(self.roots)[1]

    @property
    def tables(self) -> set[str]:
        return _references(self.roots)[2]

    def _env(self, frame: pd.DataFrame, variables: dict | None, tables: dict | None) -> tuple[np.ndarray, Env]:
        columns, wanted, _ = _references(self.roots)
        missing = sorted(columns - set(frame.columns))
        if missing:
            names = ", ".join(repr(m) for m in missing)
            noun = "column" if len(missing) == 1 else "columns"
            raise ConditionError(f"{noun} {names} not in the data, in {self.kind}: {self.text}")
        variables = variables or {}
        absent = sorted(wanted - set(variables))
        if absent:
            raise ConditionError(f"{', '.join(absent)} not available here, in {self.kind}: {self.text} (DOMAIN.NAME "
                                 f"is a mapped SDTM variable; {ex.QUOTING_HINT})")
        read = sorted(columns) + (["__decimal"] if "__decimal" in frame.columns and "__decimal" not in columns else [])
        work = frame[read] if read else pd.DataFrame(index=frame.index)  # a new frame: the columns added stay here
        for key in sorted(wanted):
            given = variables[key]
            if isinstance(given, pd.Series):  # aligned by record: a mapping may see a subset of the records
                given = given.reindex(frame.index)
            numeric = pd.api.types.is_numeric_dtype(given) and not pd.api.types.is_bool_dtype(given)
            work["\0" + key] = np.asarray(given, dtype=float if numeric else object)
        codes, distinct = distinct_codes(work, list(work.columns))
        return codes, Env(distinct, tables or {})

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.roots == other.roots

    def __hash__(self) -> int:
        return hash(self.roots)


def _arrow_text(frame: pd.DataFrame, node):
    """The pyarrow array of a column of pyarrow-backed text, else None."""
    if not isinstance(node, ex.Column) or node.name not in frame.columns:
        return None
    column = frame[node.name]
    if not isinstance(column, pd.Series) or not isinstance(column.dtype, pd.StringDtype) or \
            column.dtype.storage != "pyarrow":
        return None
    return column.array.__arrow_array__()


def _plain_numbers(frame: pd.DataFrame, node):
    """A column of numpy numbers (not bool) as float64, else None."""
    if not isinstance(node, ex.Column) or node.name not in frame.columns:
        return None
    column = frame[node.name]
    if not isinstance(column, pd.Series) or not isinstance(column.dtype, np.dtype) or column.dtype.kind not in "fiu":
        return None
    return column.to_numpy(dtype=float)


def _plain_text(value) -> bool:
    """A text literal no notion of blank can take for empty: its ends are letters, digits or punctuation."""
    return isinstance(value, str) and value != "" and value[0].isprintable() and value[-1].isprintable() and \
        not value[0].isspace() and not value[-1].isspace()


def _on_columns(node, frame: pd.DataFrame) -> np.ndarray | None:
    """The condition on the frame's own columns, for the shapes that need no distinct rows: a pyarrow text
    column compared (==, !=, in, not in) with plain text literals or tested for empty, a numeric column
    compared with a number, and and/or/not of those; each the same as ``truth`` on the distinct rows (an
    empty value equals nothing, != holds there). None for any other shape: the caller evaluates it on the
    distinct rows (``truth``). A comparison on pyarrow's kernels costs a fraction of finding the distinct rows,
    and mapping a domain evaluates a few dozen conditions on each chunk's records."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(node, ex.Not):
        held = _on_columns(node.operand, frame)
        return None if held is None else ~held
    if isinstance(node, (ex.And, ex.Or)):
        parts = []
        for operand in node.operands:
            held = _on_columns(operand, frame)
            if held is None:
                return None
            parts.append(held)
        return (np.logical_and if isinstance(node, ex.And) else np.logical_or).reduce(parts)
    if isinstance(node, ex.Compare):
        column, literal = (node.left, node.right) if isinstance(node.right, ex.Literal) else (node.right, node.left)
        if not isinstance(literal, ex.Literal) or isinstance(literal.value, bool):
            return None
        op = node.op if column is node.left else {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(node.op, node.op)
        if isinstance(literal.value, str):
            text = _arrow_text(frame, column)
            if text is None or op not in ("==", "!=") or not _plain_text(literal.value):
                return None
            equal = pc.fill_null(pc.equal(text, pa.scalar(literal.value, text.type)), False)
            held = np.asarray(equal.to_numpy(zero_copy_only=False), dtype=bool)
            return held if op == "==" else ~held
        numbers = _plain_numbers(frame, column)
        if numbers is None or op not in _ORDER_OPS:
            return None
        with np.errstate(invalid="ignore"):
            if op == "!=":
                return ~((numbers == float(literal.value)) & ~np.isnan(numbers))
            return _ORDER_OPS[op](numbers, float(literal.value)) & ~np.isnan(numbers)
    if isinstance(node, ex.InList):
        text = _arrow_text(frame, node.operand)
        if text is None or not node.values or not all(_plain_text(v) for v in node.values):
            return None
        found = pc.is_in(text, value_set=pa.array(list(node.values), type=text.type))
        held = np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)
        return ~held if node.negated else held
    if isinstance(node, ex.IsEmpty):
        text = _arrow_text(frame, node.operand)
        if text is None:
            return None
        empty = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), True)  # (pandas' str.strip)
        held = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
        return ~held if node.negated else held
    return None


_ORDER_OPS = {"==": np.equal, "!=": None, "<": np.less, "<=": np.less_equal, ">": np.greater,
              ">=": np.greater_equal}


def _spread(values: pd.Series, codes: np.ndarray, index) -> pd.Series:
    out = values.reset_index(drop=True).take(codes)
    out.index = index
    return out


def _problems(env: Env) -> pd.Series:
    merged = pd.Series("", index=env.frame.index, dtype=object)
    for found in env.problems:
        merged = merged.mask((merged == "") & (found.to_numpy() != ""), found.to_numpy())
    return merged


@dataclass(frozen=True, eq=False)
class Condition(_Readable):
    """A parsed condition: ``evaluate(frame)`` on whole columns, ``str`` canonical."""

    text: str
    root: object
    kind = "condition"

    @property
    def roots(self) -> tuple:
        return (self.root,)

    def evaluate(self, frame: pd.DataFrame, variables: dict | None = None, tables: dict | None = None) -> pd.Series:
        held = self.on_columns(frame)
        if held is not None:
            return pd.Series(held, index=frame.index, dtype=bool)
        codes, env = self._env(frame, variables, tables)
        held = truth(self.root, env) if len(env.frame) else np.zeros(0, dtype=bool)
        return pd.Series(np.asarray(held, dtype=bool)[codes] if len(codes) else np.zeros(0, dtype=bool),
                         index=frame.index, dtype=bool)

    def on_columns(self, frame: pd.DataFrame) -> np.ndarray | None:
        """What ``evaluate`` gives (as a bool array) when the condition's shape needs no distinct rows (see
        ``_on_columns``), else None."""
        return _on_columns(self.root, frame)

    def __str__(self) -> str:
        return str(self.root)


@dataclass(frozen=True, eq=False)
class Expression(_Readable):
    """A parsed value expression: ``evaluate(frame)`` -> (values, problem of each row or '')."""

    text: str
    root: object

    @property
    def roots(self) -> tuple:
        return (self.root,)

    @property
    def numeric(self) -> bool:
        """True when the expression gives a number (arithmetic, number(), round(), a number literal)."""
        root = self.root
        return isinstance(root, (ex.Arithmetic, ex.Negate)) or \
            (isinstance(root, ex.Literal) and not isinstance(root.value, str)) or \
            (isinstance(root, ex.Call) and FUNCTIONS[root.function].kind == "number")

    def evaluate(self, frame: pd.DataFrame, variables: dict | None = None, tables: dict | None = None
                 ) -> tuple[pd.Series, pd.Series]:
        codes, env = self._env(frame, variables, tables)
        if not len(frame):
            empty = pd.Series([], index=frame.index, dtype=float if self.numeric else object)
            return empty, pd.Series([], index=frame.index, dtype=object)
        value = evaluate(self.root, env)
        if self.numeric or value.kind == "number":
            result = as_number(value)
        else:
            result = as_text(value).fillna("").astype(object)
        return _spread(result, codes, frame.index), _spread(_problems(env), codes, frame.index)

    def __str__(self) -> str:
        return str(self.root)


def _template_parts(text: str) -> list:
    """Literal text and field expressions of a template; '{{' and '}}' are literal braces."""
    parts, literal, position = [], "", 0
    while position < len(text):
        char = text[position]
        if char in "{}" and text.startswith(char * 2, position):
            literal += char
            position += 2
            continue
        if char == "}":
            raise ConditionError(f"unexpected '}}' at position {position} in template: {text} (write }}}} for a brace)")
        if char != "{":
            literal += char
            position += 1
            continue
        end, quote = position + 1, None
        while end < len(text) and (quote or text[end] != "}"):
            if quote and text[end] == quote:
                quote = None
            elif not quote and text[end] in "'\"`":
                quote = text[end]
            end += 1
        if end >= len(text):
            raise ConditionError(f"unclosed '{{' at position {position} in template: {text}")
        if literal:
            parts.append(literal)
            literal = ""
        field = text[position + 1:end]
        try:
            parts.append(ex.Parser(field, FUNCTIONS).parse(condition=False))
        except ConditionError as exc:
            raise ConditionError(f"{exc} (in the field at position {position} of template: {text})") from None
        position = end + 1
    if literal:
        parts.append(literal)
    return parts


@dataclass(frozen=True, eq=False)
class Template(_Readable):
    """Text with {expression} fields; empty when any field is empty (a record without the value)."""

    text: str
    parts: tuple
    kind = "template"

    @property
    def roots(self) -> tuple:
        return tuple(p for p in self.parts if not isinstance(p, str))

    def evaluate(self, frame: pd.DataFrame, variables: dict | None = None, tables: dict | None = None
                 ) -> tuple[pd.Series, pd.Series]:
        codes, env = self._env(frame, variables, tables)
        if not len(frame):
            return pd.Series([], index=frame.index, dtype=object), pd.Series([], index=frame.index, dtype=object)
        result = pd.Series("", index=env.frame.index, dtype=object)
        empty = np.zeros(len(env.frame), dtype=bool)
        for part in self.parts:
            if isinstance(part, str):
                result = result + part
                continue
            text = as_text(evaluate(part, env))
            empty |= text.isna().to_numpy()
            result = result + text.fillna("")
        result = result.where(~empty, "").astype(object)
        return _spread(result, codes, frame.index), _spread(_problems(env), codes, frame.index)

    def __str__(self) -> str:
        return "".join(p.replace("{", "{{").replace("}", "}}") if isinstance(p, str) else "{" + str(p) + "}"
                       for p in self.parts)


@lru_cache(maxsize=4096)
def _parse(kind: str, text: str):
    if kind == "template":
        return Template(text, tuple(_template_parts(text)))
    root = ex.Parser(text, FUNCTIONS).parse(condition=kind == "condition")
    return Condition(text, root) if kind == "condition" else Expression(text, root)


def _checked(kind: str, text):
    if not isinstance(text, str):
        raise ConditionError(f"a {kind} must be text, not {type(text).__name__}: {text!r}")
    return _parse(kind, text)


def parse_condition(text: str) -> Condition:
    """Parse a spec condition; a syntax error raises ConditionError naming the token and position."""
    return _checked("condition", text)


def parse_expression(text: str) -> Expression:
    """Parse a value expression (the `expr` of a mapping, a field of a template)."""
    return _checked("expression", text)


def parse_template(text: str) -> Template:
    """Parse text with {expression} fields."""
    return _checked("template", text)
