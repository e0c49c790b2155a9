"""The condition grammar of specs, parsed by us and evaluated on whole columns (never eval/query).

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" condition ")" | test
    test       := COLUMN ("==" | "!=" | "<" | "<=" | ">" | ">=") literal
                | COLUMN ["not"] "in" "(" literal ("," literal)* [","] ")"
                | COLUMN "is" ["not"] "empty"
    literal    := 'text' | "text" | number
    COLUMN     := [A-Za-z_][A-Za-z0-9_]*

Keywords are case-insensitive. Semantics, chosen so that ``not (A == x)`` is always ``A != x``:
- a quoted literal compares the column as text; a number compares ``pd.to_numeric(column, "coerce")``;
- an empty value (NaN, None, "" or blanks) is equal to nothing and ordered against nothing, so
  ``==``, ``<``, ``<=``, ``>``, ``>=`` and ``in`` are False there, and ``!=`` and ``not in`` are True;
- ``is empty`` is true for NaN, None, "" and all-blank text.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from specs.errors import CdiscError


class ConditionError(CdiscError, ValueError):
    """A condition that does not parse, or that names a column the data lacks."""


# ------------------------------------------------------------------------------------------ tokens
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|<|>)
      | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "empty"}
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


@dataclass(frozen=True)
class _Token:
    kind: str  # "string", "number", "name", "keyword", "op", "punct", "end", "bad" (value: the error)
    text: str
    value: object
    position: int


def _unexpected(text: str, shown: str, position: int, hint: str = "") -> ConditionError:
    return ConditionError(f"unexpected {shown} at position {position} in: {text}{hint}")


def _tokenize(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            # reported when the parser reaches it, so the leftmost error is the one shown
            char = text[position]
            if char in "'\"":
                error = ConditionError(f"unterminated string starting at position {position} in: {text}")
            else:
                hint = " (use == to compare)" if text.startswith("=", position) else ""
                error = _unexpected(text, repr(char), position, hint)
            tokens.append(_Token("bad", char, error, position))
            return tokens
        kind, raw = found.lastgroup, found.group()
        if kind == "string":
            tokens.append(_Token(kind, raw, raw[1:-1], position))
        elif kind == "number":
            tokens.append(_Token(kind, raw, _number(raw), position))
        elif kind == "name" and raw.lower() in _KEYWORDS:
            tokens.append(_Token("keyword", raw, raw.lower(), position))
        elif kind != "space":
            tokens.append(_Token(kind, raw, raw, position))
        position = found.end()
    tokens.append(_Token("end", "", None, len(text)))
    return tokens


def _number(raw: str) -> int | float:
    value = float(raw)
    return int(value) if re.fullmatch(r"-?\d+", raw) else value


# ------------------------------------------------------------------------------------------- nodes
def _literal(value) -> str:
    if isinstance(value, str):
        return f'"{value}"' if "'" in value else f"'{value}'"
    return repr(value)


def _distinct(series: pd.Series) -> tuple[np.ndarray, list]:
    """Codes and distinct values (missing -> code -1): text work is done once per distinct value."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, list(uniques)


def _empty(series: pd.Series) -> np.ndarray:
    codes, uniques = _distinct(series)
    blank = np.array([str(u).strip() == "" for u in uniques] + [True], dtype=bool)
    return blank[codes]


def _as_text(series: pd.Series) -> pd.Series:
    """The values as text; blanks and missing are NA, so they match nothing."""
    codes, uniques = _distinct(series)
    texts = np.array([None if str(u).strip() == "" else str(u) for u in uniques] + [None], dtype=object)
    return pd.Series(texts[codes], index=series.index, dtype="string")


def _as_number(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _true_where(result) -> np.ndarray:
    return pd.array(result, dtype="boolean").fillna(False).to_numpy(dtype=bool)


_OPERATORS = {"==": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Compare:
    column: str
    op: str
    value: object

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        if self.op == "!=":
            return ~Compare(self.column, "==", self.value).mask(df)
        if isinstance(self.value, str):
            left = _as_text(df[self.column])
        else:
            left = _as_number(df[self.column])
        return _true_where(_OPERATORS[self.op](left, self.value))

    def __str__(self) -> str:
        return f"{self.column} {self.op} {_literal(self.value)}"


@dataclass(frozen=True)
class InList:
    column: str
    values: tuple
    negated: bool = False

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        texts = [v for v in self.values if isinstance(v, str)]
        numbers = [v for v in self.values if not isinstance(v, str)]
        found = np.zeros(len(df), dtype=bool)
        if texts:
            found |= _true_where(_as_text(df[self.column]).isin(texts))
        if numbers:
            found |= np.isin(_as_number(df[self.column]), numbers)
        return ~found if self.negated else found

    def __str__(self) -> str:
        keyword = "not in" if self.negated else "in"
        return f"{self.column} {keyword} ({', '.join(_literal(v) for v in self.values)})"


@dataclass(frozen=True)
class IsEmpty:
    column: str
    negated: bool = False

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        empty = _empty(df[self.column])
        return ~empty if self.negated else empty

    def __str__(self) -> str:
        return f"{self.column} is {'not ' if self.negated else ''}empty"


@dataclass(frozen=True)
class Not:
    operand: object

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        return ~self.operand.mask(df)

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"not ({inner})" if isinstance(self.operand, (And, Or)) else f"not {inner}"


@dataclass(frozen=True)
class And:
    operands: tuple

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        return np.logical_and.reduce([o.mask(df) for o in self.operands])

    def __str__(self) -> str:
        return " and ".join(f"({o})" if isinstance(o, Or) else str(o) for o in self.operands)


@dataclass(frozen=True)
class Or:
    operands: tuple

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        return np.logical_or.reduce([o.mask(df) for o in self.operands])

    def __str__(self) -> str:
        return " or ".join(str(o) for o in self.operands)


def _columns(node) -> set[str]:
    if isinstance(node, (And, Or)):
        return set().union(*(_columns(o) for o in node.operands))
    if isinstance(node, Not):
        return _columns(node.operand)
    return {node.column}


# ------------------------------------------------------------------------------------------ parser
class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def token(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind == "bad":
            raise token.value
        return token

    def error(self, expected: str = "") -> ConditionError:
        token = self.token
        shown = "end of condition" if token.kind == "end" else repr(token.text)
        hint = f" (expected {expected})" if expected else ""
        if token.kind == "end":
            return ConditionError(f"unexpected end of condition at position {token.position} in: {self.text}{hint}")
        return _unexpected(self.text, shown, token.position, hint)

    def accept(self, kind: str, value=None) -> _Token | None:
        token = self.token
        if token.kind == kind and (value is None or token.value == value):
            self.index += 1
            return token
        return None

    def expect(self, kind: str, value=None, expected: str = "") -> _Token:
        token = self.accept(kind, value)
        if token is None:
            raise self.error(expected or repr(value))
        return token

    def parse(self):
        if self.token.kind == "end":
            raise ConditionError(f"empty condition: {self.text!r}")
        node = self.parse_or()
        if self.token.kind != "end":
            raise self.error("'and', 'or' or the end")
        return node

    def parse_or(self):
        operands = [self.parse_and()]
        while self.accept("keyword", "or"):
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(_flatten(operands, Or)))

    def parse_and(self):
        operands = [self.parse_not()]
        while self.accept("keyword", "and"):
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(_flatten(operands, And)))

    def parse_not(self):
        if self.accept("keyword", "not"):
            return Not(self.parse_not())
        if self.accept("punct", "("):
            node = self.parse_or()
            self.expect("punct", ")", "')'")
            return node
        return self.parse_test()

    def parse_test(self):
        column = self.expect("name", expected="a column name").text
        if self.token.kind == "op":
            op = self.accept("op").text
            return Compare(column, op, self.parse_literal())
        if self.accept("keyword", "is"):
            negated = self.accept("keyword", "not") is not None
            self.expect("keyword", "empty", "'empty'")
            return IsEmpty(column, negated)
        negated = self.accept("keyword", "not") is not None
        if self.accept("keyword", "in"):
            return InList(column, self.parse_list(), negated)
        raise self.error("'in'" if negated else "a comparison, 'in', 'not in' or 'is'")

    def parse_list(self) -> tuple:
        self.expect("punct", "(", "'('")
        values = [self.parse_literal()]
        while self.accept("punct", ","):
            if self.token.kind == "punct" and self.token.value == ")":
                break  # trailing comma
            values.append(self.parse_literal())
        self.expect("punct", ")", "',' or ')'")
        return tuple(values)

    def parse_literal(self):
        token = self.accept("string") or self.accept("number")
        if token is None:
            raise self.error("a quoted text or a number")
        return token.value


def _flatten(operands: list, kind: type) -> list:
    flat = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, kind) else [operand])
    return flat


# --------------------------------------------------------------------------------------------- API
@dataclass(frozen=True)
class Condition:
    """A parsed condition: ``columns`` it reads, ``evaluate(df)`` on whole columns, ``str`` canonical."""

    text: str
    root: object

    @property
    def columns(self) -> set[str]:
        return _columns(self.root)

    def evaluate(self, df: pd.DataFrame) -> pd.Series:
        missing = sorted(self.columns - set(df.columns))
        if missing:
            names = ", ".join(repr(m) for m in missing)
            noun = "column" if len(missing) == 1 else "columns"
            raise ConditionError(f"{noun} {names} not in the data, in condition: {self.text}")
        return pd.Series(self.root.mask(df), index=df.index, dtype=bool)

    def __str__(self) -> str:
        return str(self.root)

    def __eq__(self, other) -> bool:
        return isinstance(other, Condition) and self.root == other.root

    def __hash__(self) -> int:
        return hash(self.root)


def parse_condition(text: str) -> Condition:
    """Parse a spec condition; a syntax error raises ConditionError naming the token and position."""
    if not isinstance(text, str):
        raise ConditionError(f"a condition must be text, not {type(text).__name__}: {text!r}")
    return Condition(text, _Parser(text).parse())
