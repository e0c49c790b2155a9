"""What expressions and conditions mean: values, comparisons and the functions a spec may call.

Values are text, numbers, dates (spans of days) or conditions. Semantics, chosen so that an empty value
never satisfies a test by accident:
- empty (missing, '' or blanks) is equal to nothing and ordered against nothing: ==, <, <=, >, >=, in and
  matches are false there; != and not in are true (``not (A == x)`` is ``A != x``);
- a comparison is made on dates when either side is a date (date()), on numbers when either side is a
  number (a number literal, arithmetic, number(), round(), a numeric variable), else on text;
- dates: ``date(X)`` is the span of days an ISO 8601 value may be (a complete date is one day,
  '2023-06' is 2023-06-01 to 2023-06-30, '2023---15' the 15th of some month of 2023; the time is
  ignored); a comparison of dates holds when it holds for every day of both spans, so '2023-06' >=
  '2023-06-15' is false and so is '2023-06' < '2023-06-15'; != holds when the spans do not meet;
  ``date(X, 'first')`` and ``date(X, 'last')`` are the first and last day of the span;
- text functions work once per distinct value; a number that cannot be read, a division by zero or a key
  missing from a lookup table is a problem of that record, reported by the algorithm (a comparison, by
  contrast, simply does not hold for a value that is not a number).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pandas as pd

from specs import expressions as ex
from specs.expressions import ConditionError

# ------------------------------------------------------------------------------------------ values
TEXT, NUMBER, DATE, BOOL = "text", "number", "date", "bool"


@dataclass
class DateSpan:
    first: pd.Series  # datetime64, NaT when empty
    last: pd.Series


@dataclass
class Value:
    kind: str
    data: object  # Series (text, number), DateSpan (date), ndarray (bool)


def _blank(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series):
        return series.isna().to_numpy()
    text = series.astype("string")  # pyarrow's whitespace is Python's (str.strip), on whole columns
    return (text.isna() | text.str.strip().eq("")).to_numpy(dtype=bool)


def _number_text(numbers: pd.Series) -> pd.Series:
    """Numbers as text, None for empty: whole numbers without a decimal point (12.0 -> '12'), others as
    Python writes them (2.5 -> '2.5'); numpy writes the whole ones, Python each other distinct value."""
    x = numbers.to_numpy(dtype=float)
    out = np.full(len(x), None, dtype=object)
    known = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        whole = known & (np.floor(x) == x) & (np.abs(x) < 2.0 ** 63)
    out[whole] = x[whole].astype(np.int64).astype(str)
    rest = known & ~whole
    if rest.any():
        codes, uniques = pd.factorize(x[rest])
        out[rest] = np.array([f"{int(v)}" if float(v).is_integer() else f"{v}" for v in uniques], dtype=object)[codes]
    return pd.Series(out, index=numbers.index, dtype=object)


def as_text(value: Value) -> pd.Series:
    """Text with None for empty; numbers written plainly (12.0 -> '12')."""
    if value.kind == NUMBER:
        return _number_text(value.data)
    if value.kind == DATE:
        first = value.data.first.dt.strftime("%Y-%m-%d")
        same = value.data.first == value.data.last
        return first.where(same & value.data.first.notna(), None).astype(object)
    if value.kind == BOOL:
        raise ConditionError("a condition cannot be used as a value")
    series = value.data.astype(object)
    return series.where(~_blank(series), None)


_PLAIN_NUMBER = {mark: re.compile(rf"^[-+]?(?:\d+(?:{re.escape(mark)}\d*)?|{re.escape(mark)}\d+)(?:[eE][-+]?\d+)?$")
                 for mark in (".", ",")}
DECIMAL_COLUMN = "__decimal"  # the decimal mark of each raw record, when its source declares one (sdtm.numbers)


def _read_number(text, mark) -> float:
    if text is None:
        return np.nan
    text = text.strip()
    pattern = _PLAIN_NUMBER.get(mark if isinstance(mark, str) else ".", _PLAIN_NUMBER["."])
    return float(text.replace(",", ".")) if pattern.match(text) else np.nan


def as_number(value: Value, problems: list | None = None, marks: pd.Series | None = None) -> pd.Series:
    """Numbers; text is read strictly ('1.5', '-2', '1e3'; with a decimal comma source '0,83'), anything
    else is empty, and a problem of the record when ``problems`` collects them."""
    if value.kind == NUMBER:
        return value.data.astype(float)
    text = as_text(value)
    mark_list = marks.tolist() if marks is not None else ["."] * len(text)
    numbers = pd.Series([_read_number(t, m) for t, m in zip(text, mark_list)], index=text.index, dtype=float)
    if problems is not None:
        bad = text.notna() & numbers.isna()
        problems.append(pd.Series(np.where(bad, "'" + text.fillna("").astype(str) + "' is not a number", ""),
                                  index=text.index))
    return numbers


def iso_span(text: pd.Series) -> DateSpan:
    """The first and last day an ISO 8601 date (complete or partial) may be; NaT for empty or not a date."""
    found = text.fillna("").astype(str).str.extract(r"^(\d{4})(?:-(\d{2})|--)?(?:-(\d{2}))?(?:T.*)?$")
    year = pd.to_numeric(found[0], errors="coerce")
    month = pd.to_numeric(found[1], errors="coerce")
    day = pd.to_numeric(found[2], errors="coerce")
    first_month = month.fillna(1)
    last_month = month.fillna(12)
    last_day_of = [calendar.monthrange(int(y), int(m))[1] if pd.notna(y) and 1 <= m <= 12 else np.nan
                   for y, m in zip(year, last_month)]
    first = pd.to_datetime(pd.DataFrame({"year": year, "month": first_month, "day": day.fillna(1)}), errors="coerce")
    last = pd.to_datetime(pd.DataFrame({"year": year, "month": last_month,
                                        "day": day.fillna(pd.Series(last_day_of, index=text.index))}), errors="coerce")
    bad = first.isna() | last.isna()
    return DateSpan(first.where(~bad), last.where(~bad))


def as_date(value: Value) -> DateSpan:
    if value.kind == DATE:
        return value.data
    return iso_span(as_text(value))


# ------------------------------------------------------------------------------------- functions
@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[str, ...]  # "value", "text literal", "integer literal", "choice:a|b", "table"; "*" repeats
    required: int
    kind: str  # the kind of value it gives
    doc: str
    example: str
    impl: object = field(compare=False, repr=False, default=None)

    def check(self, args: list, name, parser) -> list:
        count = len(args)
        repeats = self.args[-1].endswith("*")
        if count < self.required or (not repeats and count > len(self.args)):
            wanted = f"{self.required}" + ("" if count < self.required and self.required == len(self.args) else
                                           f" to {len(self.args)}" if not repeats else " or more")
            raise ConditionError(f"{self.name}() takes {wanted} argument(s), not {count}, at position "
                                 f"{name.position} in: {parser.text}")
        nodes = []
        for index, (node, position) in enumerate(args):
            kind = self.args[min(index, len(self.args) - 1)].rstrip("*")
            if kind == "value":
                nodes.append(parser.require(node, position, False))
                continue
            literal = node.value if isinstance(node, ex.Literal) else None
            if kind in ("text literal", "table") and not isinstance(literal, str):
                raise ConditionError(f"{self.name}(): argument {index + 1} must be a quoted text, at position "
                                     f"{position} in: {parser.text}")
            if kind == "integer literal" and (not isinstance(literal, int) or isinstance(literal, bool)):
                raise ConditionError(f"{self.name}(): argument {index + 1} must be a whole number, at position "
                                     f"{position} in: {parser.text}")
            if kind.startswith("choice:") and literal not in kind[7:].split("|"):
                choices = " or ".join(f"'{c}'" for c in kind[7:].split("|"))
                raise ConditionError(f"{self.name}(): argument {index + 1} must be {choices}, at position "
                                     f"{position} in: {parser.text}")
            if kind == "text literal" and "pattern" in self.doc and index == 1:
                try:
                    re.compile(literal)
                except re.error as exc:
                    raise ConditionError(f"not a regular expression at position {position} in: {parser.text} "
                                         f"({exc})") from None
            nodes.append(node)
        return nodes


def _text_map(func):
    """A function of one text applied once per distinct value; empty stays empty."""
    def run(values: list[Value], env, nodes) -> Value:
        text = as_text(values[0])
        return Value(TEXT, text.map(lambda v: None if v is None else func(v)).astype(object))
    return run


def _substr(values, env, nodes):
    start = nodes[1].value
    length = nodes[2].value if len(nodes) > 2 else None
    begin = max(start - 1, 0)
    end = None if length is None else begin + max(length, 0)
    return Value(TEXT, as_text(values[0]).map(lambda v: None if v is None else v[begin:end] or None).astype(object))


def _split(values, env, nodes):
    separator, n = nodes[1].value, nodes[2].value

    def part(v):
        if v is None:
            return None
        pieces = v.split(separator)
        index = n - 1 if n > 0 else n
        return pieces[index] if -len(pieces) <= index < len(pieces) and n != 0 else None
    return Value(TEXT, as_text(values[0]).map(part).astype(object))


def _regex_extract(values, env, nodes):
    pattern = re.compile(nodes[1].value)
    group = nodes[2].value if len(nodes) > 2 else (1 if pattern.groups else 0)

    def extract(v):
        if v is None:
            return None
        found = pattern.search(v)
        return found.group(group) if found else None
    return Value(TEXT, as_text(values[0]).map(extract).astype(object))


def _regex_replace(values, env, nodes):
    pattern, replacement = re.compile(nodes[1].value), nodes[2].value
    return Value(TEXT, as_text(values[0]).map(lambda v: None if v is None else pattern.sub(replacement, v))
                 .astype(object))


def _pad(left: bool):
    def run(values, env, nodes):
        width = nodes[1].value
        char = nodes[2].value if len(nodes) > 2 else " "
        if len(char) != 1:
            raise ConditionError(f"pad_{'left' if left else 'right'}(): the padding must be one character, "
                                 f"not {char!r}")
        pad = (lambda v: v.rjust(width, char)) if left else (lambda v: v.ljust(width, char))
        return Value(TEXT, as_text(values[0]).map(lambda v: None if v is None else pad(v)).astype(object))
    return run


def _concat(values, env, nodes):
    texts = [as_text(v).fillna("") for v in values]
    joined = texts[0]
    for text in texts[1:]:
        joined = joined + text
    return Value(TEXT, joined.where(joined != "", None).astype(object))


def _coalesce(values, env, nodes):
    result = as_text(values[0])
    for value in values[1:]:
        result = result.where(result.notna(), as_text(value))
    return Value(TEXT, result.astype(object))


def _lookup(values, env, nodes):
    name = nodes[1].value
    table = (env.tables or {}).get(name)
    if table is None:
        known = ", ".join(sorted(env.tables or {})) or "none"
        raise ConditionError(f"lookup(): no lookup table '{name}' (tables: {known})")
    text = as_text(values[0])
    found = text.map(lambda v: table.values.get(v) if v is not None else None)
    missing = text.notna() & ~text.isin(list(table.values))
    if table.missing == "keep":
        found = found.where(~missing, text)
    elif table.missing == "error":
        env.problems.append(pd.Series(np.where(missing, "'" + text.fillna("").astype(str) +
                                               f"' is not a key of lookup table {name} ({table.source})", ""),
                                      index=text.index))
    return Value(TEXT, found.astype(object))


def _number(values, env, nodes):
    return Value(NUMBER, as_number(values[0], env.problems, env.marks))


def _round(values, env, nodes):
    places = nodes[1].value
    numbers = as_number(values[0], env.problems, env.marks)
    quantum = Decimal(1).scaleb(-places)

    def half_up(x):
        if pd.isna(x):
            return np.nan
        try:
            return float(Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP))
        except InvalidOperation:
            return np.nan
    return Value(NUMBER, numbers.map(half_up).astype(float))


def _date(values, env, nodes):
    span = as_date(values[0])
    if len(nodes) > 1:
        day = span.first if nodes[1].value == "first" else span.last
        return Value(DATE, DateSpan(day, day))
    return Value(DATE, span)


FUNCTIONS: dict[str, Function] = {f.name: f for f in [
    Function("upper", ("value",), 1, TEXT, "The text in upper case.", "upper('Headache') = 'HEADACHE'",
             _text_map(str.upper)),
    Function("lower", ("value",), 1, TEXT, "The text in lower case.", "lower('Oral') = 'oral'",
             _text_map(str.lower)),
    Function("trim", ("value",), 1, TEXT, "The text without leading and trailing blanks.",
             "trim('  Headache ') = 'Headache'", _text_map(str.strip)),
    Function("substr", ("value", "integer literal", "integer literal"), 2, TEXT,
             "Characters from position start (1 is the first), length characters long (to the end without "
             "length).", "substr('701-1015', 5) = '1015'; substr('701-1015', 1, 3) = '701'", _substr),
    Function("split", ("value", "text literal", "integer literal"), 3, TEXT,
             "Part n of the text cut at each separator (1 is the first, -1 the last); empty when there are "
             "fewer parts.", "split('701-1015', '-', 1) = '701'; split('701-1015', '-', -1) = '1015'", _split),
    Function("regex_extract", ("value", "text literal", "integer literal"), 2, TEXT,
             "The first match of the regular expression pattern, or its group (default: group 1 when the "
             "pattern has groups, else the whole match); empty when nothing matches.",
             r"regex_extract('Unscheduled 4.1', '(\d+(\.\d+)?)') = '4.1'", _regex_extract),
    Function("regex_replace", ("value", "text literal", "text literal"), 3, TEXT,
             r"Every match of the regular expression pattern replaced (\1 in the replacement is group 1).",
             r"regex_replace('PO (Oral)', ' \(.*\)', '') = 'PO'", _regex_replace),
    Function("pad_left", ("value", "integer literal", "text literal"), 2, TEXT,
             "The text padded on the left to width characters with char (default a blank); a longer text "
             "is kept whole.", "pad_left('7', 3, '0') = '007'", _pad(True)),
    Function("pad_right", ("value", "integer literal", "text literal"), 2, TEXT,
             "The text padded on the right to width characters with char (default a blank).",
             "pad_right('AB', 4, '-') = 'AB--'", _pad(False)),
    Function("concat", ("value*",), 1, TEXT, "The texts joined; empty parts add nothing; numbers written "
             "plainly (12.0 as 12).", "concat('CDISC01', '-', '701') = 'CDISC01-701'", _concat),
    Function("coalesce", ("value*",), 1, TEXT, "The first non-empty value.",
             "coalesce('', 'Headache') = 'Headache'", _coalesce),
    Function("lookup", ("value", "table"), 2, TEXT,
             "The value of the key in a lookup table of study.yaml (lookups); a key missing from the table is a "
             "problem of the record unless the table says missing: empty or missing: keep.",
             "lookup('PO (Oral)', 'routes') = 'ORAL'", _lookup),
    Function("number", ("value",), 1, NUMBER, "The number a text holds ('1.5', ' 2 '); a non-empty text that "
             "is no number is a problem of the record.", "number(' 2.50') = 2.5", _number),
    Function("round", ("value", "integer literal"), 2, NUMBER,
             "The number rounded to decimals places, halves away from zero (as SAS ROUND).",
             "round(2.675, 2) = 2.68; round(-0.5, 0) = -1", _round),
    Function("date", ("value", "choice:first|last"), 1, DATE,
             "The span of days an ISO 8601 date may be (partial dates span their month or year; the time is "
             "ignored); with 'first' or 'last', the first or last day of that span.",
             "date('2023-06') is 2023-06-01 to 2023-06-30; date('2023-06', 'last') = 2023-06-30", _date),
]}


# ------------------------------------------------------------------------------------ evaluation
@dataclass
class Env:
    frame: pd.DataFrame  # distinct rows; columns: raw names and '\0DOMAIN.NAME' for variables
    tables: dict
    problems: list = field(default_factory=list)

    @property
    def marks(self) -> pd.Series | None:
        return self.frame[DECIMAL_COLUMN] if DECIMAL_COLUMN in self.frame.columns else None


def variable_column(node) -> str:
    return "\0" + node.key


def evaluate(node, env: Env) -> Value:
    n = len(env.frame)
    if isinstance(node, ex.Literal):
        if isinstance(node.value, str):
            return Value(TEXT, pd.Series([node.value] * n, dtype=object))
        return Value(NUMBER, pd.Series([float(node.value)] * n, dtype=float))
    if isinstance(node, (ex.Column, ex.Variable)):
        series = env.frame[node.name if isinstance(node, ex.Column) else variable_column(node)]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            return Value(NUMBER, series.astype(float).reset_index(drop=True))
        return Value(TEXT, series.astype(object).reset_index(drop=True))
    if isinstance(node, ex.Call):
        function = FUNCTIONS[node.function]
        values = [evaluate(a, env) if not isinstance(a, ex.Literal) or kind_of(function, i) == "value" else None
                  for i, a in enumerate(node.args)]
        return function.impl(values, env, node.args)
    if isinstance(node, ex.Negate):
        return Value(NUMBER, -as_number(evaluate(node.operand, env), env.problems, env.marks))
    if isinstance(node, ex.Arithmetic):
        left = as_number(evaluate(node.left, env), env.problems, env.marks)
        right = as_number(evaluate(node.right, env), env.problems, env.marks)
        if node.op == "/":
            zero = (right == 0) & left.notna()
            env.problems.append(pd.Series(np.where(zero, f"division by zero in {node}", ""), index=left.index))
            return Value(NUMBER, (left / right.where(right != 0)).astype(float))
        return Value(NUMBER, {"+": left + right, "-": left - right, "*": left * right}[node.op].astype(float))
    return Value(BOOL, truth(node, env))


def kind_of(function: Function, index: int) -> str:
    return function.args[min(index, len(function.args) - 1)].rstrip("*")


_ORDER = {"==": np.equal, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def _compare(op: str, left: Value, right: Value, marks=None) -> np.ndarray:
    if op == "!=" and DATE not in (left.kind, right.kind):
        return ~_compare("==", left, right, marks)
    if DATE in (left.kind, right.kind):
        a, b = as_date(left), as_date(right)
        known = (a.first.notna() & b.first.notna()).to_numpy()
        if op == "==":
            held = (a.first == a.last) & (b.first == b.last) & (a.first == b.first)
        elif op == "!=":
            held = (a.last < b.first) | (a.first > b.last)
        elif op in ("<", "<="):
            held = _ORDER[op](a.last, b.first)
        else:
            held = _ORDER[op](a.first, b.last)
        return known & np.asarray(held, dtype=bool)
    if NUMBER in (left.kind, right.kind):
        a, b = as_number(left, marks=marks).to_numpy(), as_number(right, marks=marks).to_numpy()
        with np.errstate(invalid="ignore"):
            return _ORDER[op](a, b) & ~np.isnan(a) & ~np.isnan(b)
    a, b = as_text(left), as_text(right)
    known = (a.notna() & b.notna()).to_numpy()
    held = _ORDER[op](a.fillna("").to_numpy(dtype=object), b.fillna("").to_numpy(dtype=object))
    return known & np.asarray(held, dtype=bool)


def truth(node, env: Env) -> np.ndarray:
    if isinstance(node, ex.Compare):
        return _compare(node.op, evaluate(node.left, env), evaluate(node.right, env), env.marks)
    if isinstance(node, ex.InList):
        value = evaluate(node.operand, env)
        texts = [v for v in node.values if isinstance(v, str)]
        numbers = [v for v in node.values if not isinstance(v, str)]
        found = np.zeros(len(env.frame), dtype=bool)
        if texts:
            found |= as_text(value).isin(texts).to_numpy(dtype=bool)
        if numbers:
            found |= np.isin(as_number(value, marks=env.marks).to_numpy(), numbers)
        return ~found if node.negated else found
    if isinstance(node, ex.IsEmpty):
        value = evaluate(node.operand, env)
        if value.kind == DATE:
            empty = value.data.first.isna().to_numpy()
        elif value.kind == NUMBER:  # as_text of a number is empty only where it is missing
            empty = value.data.isna().to_numpy()
        else:
            empty = as_text(value).isna().to_numpy()
        return ~empty if node.negated else empty
    if isinstance(node, ex.Matches):
        text = as_text(evaluate(node.operand, env))
        pattern = re.compile(node.pattern)
        hit = text.map(lambda v: v is not None and pattern.search(v) is not None).to_numpy(dtype=bool)
        return ~hit if node.negated else hit
    if isinstance(node, ex.Not):
        return ~truth(node.operand, env)
    if isinstance(node, ex.And):
        return np.logical_and.reduce([truth(o, env) for o in node.operands])
    if isinstance(node, ex.Or):
        return np.logical_or.reduce([truth(o, env) for o in node.operands])
    raise ConditionError(f"'{node}' is not a condition")


ex.BOOLEAN_FUNCTIONS.update(name for name, f in FUNCTIONS.items() if f.kind == BOOL)
