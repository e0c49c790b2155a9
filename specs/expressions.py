"""The expression and condition grammar of specs: parsed by us, evaluated on whole columns, once per
distinct combination of the columns an expression reads. No text reaches eval, exec or DataFrame.query.

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | test
    test       := sum [ ("==" | "!=" | "<" | "<=" | ">" | ">=") sum
                      | ["not"] "in" "(" literal ("," literal)* [","] ")"
                      | "is" ["not"] "empty"
                      | ["not"] "matches" 'regular expression' ]
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := literal | reference | FUNCTION "(" [condition ("," condition)*] ")" | "(" condition ")"
    reference  := NAME | `any column name` | DOMAIN "." NAME
    literal    := 'text' | "text" | number

A NAME ([A-Za-z_][A-Za-z0-9_]*) or a name in backticks (`AE Start Date`, `IT.AETERM`, `2ND_DOSE`) is a
column of the records at hand: the raw record when mapping, the domain's records in a derivation's
``where``. ``DOMAIN.NAME`` (no backticks) is a mapped SDTM variable: of the same domain (``AE.AESTDTC``) or of
the subject's record in another domain (``DM.RFXSTDTC``). Keywords (and, or, not, in, is, empty, matches)
are case-insensitive. The semantics of values, comparisons and functions are in ``specs.functions``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from specs.errors import CdiscError


class ConditionError(CdiscError, ValueError):
    """An expression or condition that does not parse, or that names a column the data lacks."""


QUOTING_HINT = ("put a column name with spaces, dots or a leading digit in backticks: `AE Start Date`, "
                "`IT.AETERM`")

# ------------------------------------------------------------------------------------------ tokens
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<quoted>`[^`]*`)
      | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/)
      | (?P<punct>[(),.])
    """,
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "is", "empty", "matches"}
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Token:
    kind: str  # string, quoted, number, name, keyword, op, punct, end, bad (value: the error)
    text: str
    value: object
    position: int


def _unexpected(text: str, shown: str, position: int, hint: str = "") -> ConditionError:
    return ConditionError(f"unexpected {shown} at position {position} in: {text}{hint}")


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            # reported when the parser reaches it, so that the leftmost error is the one shown
            char = text[position]
            if char in "'\"`":
                what = "name" if char == "`" else "string"
                error = ConditionError(f"unterminated {what} starting at position {position} in: {text}")
            else:
                hint = " (use == to compare)" if text.startswith("=", position) else ""
                error = _unexpected(text, repr(char), position, hint)
            tokens.append(Token("bad", char, error, position))
            return tokens
        kind, raw = found.lastgroup, found.group()
        if kind == "number" and found.end() < len(text) and (text[found.end()].isalpha() or text[found.end()] == "_"):
            kind = "bad"  # 2ND_DOSE: a name with a leading digit
        if kind == "bad":
            error = _unexpected(text, repr(text[position:].split()[0]), position, f" ({QUOTING_HINT})")
            tokens.append(Token("bad", raw, error, position))
            return tokens
        if kind == "string":
            tokens.append(Token(kind, raw, raw[1:-1], position))
        elif kind == "quoted":
            tokens.append(Token(kind, raw, raw[1:-1], position))
        elif kind == "number":
            value = float(raw)
            tokens.append(Token(kind, raw, int(value) if re.fullmatch(r"\d+", raw) else value, position))
        elif kind == "name" and raw.lower() in KEYWORDS:
            tokens.append(Token("keyword", raw, raw.lower(), position))
        elif kind != "space":
            tokens.append(Token(kind, raw, raw, position))
        position = found.end()
    tokens.append(Token("end", "", None, len(text)))
    return tokens


def show_name(name: str) -> str:
    """A column name as the grammar writes it: bare when it can be, in backticks otherwise."""
    return name if _PLAIN_NAME.fullmatch(name) and name.lower() not in KEYWORDS else f"`{name}`"


def show_literal(value) -> str:
    if isinstance(value, str):
        return f'"{value}"' if "'" in value else f"'{value}'"
    return repr(value)


# ------------------------------------------------------------------------------------------- nodes
@dataclass(frozen=True)
class Literal:
    value: object

    def __str__(self) -> str:
        return show_literal(self.value)


@dataclass(frozen=True)
class Column:
    """A column of the records at hand (raw columns when mapping)."""

    name: str

    def __str__(self) -> str:
        return show_name(self.name)


@dataclass(frozen=True)
class Variable:
    """DOMAIN.NAME: a mapped SDTM variable of this or another domain."""

    domain: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.name}"

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple

    def __str__(self) -> str:
        return f"{self.function}({', '.join(str(a) for a in self.args)})"


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


@dataclass(frozen=True)
class Arithmetic:
    op: str
    left: object
    right: object

    def __str__(self) -> str:
        def side(node, right_side: bool) -> str:
            if isinstance(node, Arithmetic) and (_PRECEDENCE[node.op] < _PRECEDENCE[self.op] or
                                                 (right_side and _PRECEDENCE[node.op] == _PRECEDENCE[self.op])):
                return f"({node})"
            return f"({node})" if isinstance(node, (Compare, InList, IsEmpty, Matches, Not, And, Or)) else str(node)
        return f"{side(self.left, False)} {self.op} {side(self.right, True)}"


@dataclass(frozen=True)
class Negate:
    operand: object

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"-({inner})" if isinstance(self.operand, Arithmetic) else f"-{inner}"


@dataclass(frozen=True)
class Compare:
    left: object
    op: str
    right: object

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


@dataclass(frozen=True)
class InList:
    operand: object
    values: tuple
    negated: bool = False

    def __str__(self) -> str:
        keyword = "not in" if self.negated else "in"
        return f"{self.operand} {keyword} ({', '.join(show_literal(v) for v in self.values)})"


@dataclass(frozen=True)
class IsEmpty:
    operand: object
    negated: bool = False

    def __str__(self) -> str:
        return f"{self.operand} is {'not ' if self.negated else ''}empty"


@dataclass(frozen=True)
class Matches:
    operand: object
    pattern: str
    negated: bool = False

    def __str__(self) -> str:
        return f"{self.operand} {'not ' if self.negated else ''}matches {show_literal(self.pattern)}"


@dataclass(frozen=True)
class Not:
    operand: object

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"not ({inner})" if isinstance(self.operand, (And, Or)) else f"not {inner}"


@dataclass(frozen=True)
class And:
    operands: tuple

    def __str__(self) -> str:
        return " and ".join(f"({o})" if isinstance(o, Or) else str(o) for o in self.operands)


@dataclass(frozen=True)
class Or:
    operands: tuple

    def __str__(self) -> str:
        return " or ".join(str(o) for o in self.operands)


BOOLEAN = (Compare, InList, IsEmpty, Matches, Not, And, Or)


def is_condition(node) -> bool:
    return isinstance(node, BOOLEAN) or (isinstance(node, Call) and node.function in BOOLEAN_FUNCTIONS)


def walk(node):
    """Every node of a tree, depth first."""
    yield node
    children = ()
    if isinstance(node, Call):
        children = node.args
    elif isinstance(node, (Arithmetic,)):
        children = (node.left, node.right)
    elif isinstance(node, Compare):
        children = (node.left, node.right)
    elif isinstance(node, (InList, IsEmpty, Matches, Not, Negate)):
        children = (node.operand,)
    elif isinstance(node, (And, Or)):
        children = node.operands
    for child in children:
        yield from walk(child)


# ------------------------------------------------------------------------------------------ parser
BOOLEAN_FUNCTIONS: set[str] = set()  # filled by specs.functions


class Parser:
    def __init__(self, text: str, functions: dict):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.functions = functions

    @property
    def token(self) -> Token:
        token = self.tokens[self.index]
        if token.kind == "bad":
            raise token.value
        return token

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def error(self, expected: str = "") -> ConditionError:
        token = self.token
        hint = f" (expected {expected})" if expected else ""
        if token.kind == "end":
            return ConditionError(f"unexpected end of condition at position {token.position} in: {self.text}{hint}")
        return _unexpected(self.text, repr(token.text), token.position, hint)

    def accept(self, kind: str, value=None) -> Token | None:
        token = self.token
        if token.kind == kind and (value is None or token.value == value):
            self.index += 1
            return token
        return None

    def expect(self, kind: str, value=None, expected: str = "") -> Token:
        token = self.accept(kind, value)
        if token is None:
            raise self.error(expected or repr(value))
        return token

    def require(self, node, position: int, condition: bool):
        """A condition where one is needed, a value where one is needed."""
        if condition and not is_condition(node):
            raise ConditionError(f"a condition is expected at position {position} in: {self.text} ('{node}' is a "
                                 f"value: compare it, e.g. {node} == 'Y', or test it with is empty)")
        if not condition and is_condition(node):
            raise ConditionError(f"a value is expected at position {position} in: {self.text} ('{node}' is a "
                                 f"condition)")
        return node

    def parse(self, condition: bool):
        if self.token.kind == "end":
            what = "condition" if condition else "expression"
            raise ConditionError(f"empty {what}: {self.text!r}")
        position = self.token.position
        node = self.parse_or()
        if self.token.kind != "end":
            raise self.error("'and', 'or' or the end" if condition else "an operator or the end")
        return self.require(node, position, condition)

    def parse_or(self):
        position = self.token.position
        operands = [self.parse_and()]
        while self.accept("keyword", "or"):
            operands.append(self.parse_and())
        if len(operands) == 1:
            return operands[0]
        for operand in operands:
            self.require(operand, position, True)
        return Or(tuple(_flatten(operands, Or)))

    def parse_and(self):
        position = self.token.position
        operands = [self.parse_not()]
        while self.accept("keyword", "and"):
            operands.append(self.parse_not())
        if len(operands) == 1:
            return operands[0]
        for operand in operands:
            self.require(operand, position, True)
        return And(tuple(_flatten(operands, And)))

    def parse_not(self):
        if self.accept("keyword", "not"):
            position = self.token.position
            return Not(self.require(self.parse_not(), position, True))
        return self.parse_test()

    def parse_test(self):
        position = self.token.position
        left = self.parse_sum()
        token = self.token
        if token.kind == "op" and token.value in COMPARISONS:
            self.index += 1
            self.require(left, position, False)
            right_position = self.token.position
            return Compare(left, token.value, self.require(self.parse_sum(), right_position, False))
        if self.accept("keyword", "is"):
            negated = self.accept("keyword", "not") is not None
            self.expect("keyword", "empty", "'empty'")
            return IsEmpty(self.require(left, position, False), negated)
        if token.kind == "keyword" and token.value in ("not", "in", "matches"):
            negated = self.accept("keyword", "not") is not None
            if self.accept("keyword", "in"):
                return InList(self.require(left, position, False), self.parse_list(), negated)
            if self.accept("keyword", "matches"):
                pattern = self.expect("string", expected="a quoted regular expression")
                try:
                    re.compile(pattern.value)
                except re.error as exc:
                    raise ConditionError(f"not a regular expression at position {pattern.position} in: "
                                         f"{self.text} ({exc})") from None
                return Matches(self.require(left, position, False), pattern.value, negated)
            raise self.error("'in' or 'matches'")
        return left

    def parse_sum(self):
        node = self.parse_product()
        while self.token.kind == "op" and self.token.value in ("+", "-"):
            op, position = self.token.value, self.token.position
            self.index += 1
            self.require(node, position, False)
            right_position = self.token.position
            node = Arithmetic(op, node, self.require(self.parse_product(), right_position, False))
        return node

    def parse_product(self):
        node = self.parse_unary()
        while self.token.kind == "op" and self.token.value in ("*", "/"):
            op, position = self.token.value, self.token.position
            self.index += 1
            self.require(node, position, False)
            right_position = self.token.position
            node = Arithmetic(op, node, self.require(self.parse_unary(), right_position, False))
        return node

    def parse_unary(self):
        if self.token.kind == "op" and self.token.value == "-":
            self.index += 1
            position = self.token.position
            operand = self.require(self.parse_unary(), position, False)
            if isinstance(operand, Literal) and not isinstance(operand.value, str):
                return Literal(-operand.value)
            return Negate(operand)
        return self.parse_primary()

    def parse_primary(self):
        token = self.token
        if token.kind in ("string", "number"):
            self.index += 1
            return Literal(token.value)
        if token.kind == "quoted":
            self.index += 1
            if not token.value:
                raise ConditionError(f"empty column name at position {token.position} in: {self.text}")
            return Column(token.value)
        if token.kind == "name":
            self.index += 1
            if self.token.kind == "punct" and self.token.value == "(":
                return self.parse_call(token)
            if self.token.kind == "punct" and self.token.value == ".":
                self.index += 1
                name = self.token
                if name.kind != "name":
                    raise self.error(f"a variable name after '{token.text}.' ({QUOTING_HINT})")
                self.index += 1
                return Variable(token.text, name.text)
            return Column(token.text)
        if self.accept("punct", "("):
            node = self.parse_or()
            self.expect("punct", ")", "')'")
            return node
        raise self.error("a column name, a quoted text, a number or a function")

    def parse_call(self, name: Token):
        spec = self.functions.get(name.text.lower())
        if spec is None:
            known = ", ".join(sorted(self.functions))
            raise ConditionError(f"unknown function '{name.text}' at position {name.position} in: {self.text} "
                                 f"(known: {known}; see docs/spec-reference.md#functions)")
        self.expect("punct", "(", "'('")
        args = []
        if not self.accept("punct", ")"):
            while True:
                position = self.token.position
                args.append((self.parse_or(), position))
                if self.accept("punct", ")"):
                    break
                self.expect("punct", ",", "',' or ')'")
        nodes = spec.check(args, name, self)
        return Call(name.text.lower(), tuple(nodes))

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
        negative = self.token.kind == "op" and self.token.value == "-" and self.peek().kind == "number"
        if negative:
            self.index += 1
        token = self.accept("string") or self.accept("number")
        if token is None:
            raise self.error("a quoted text or a number")
        return -token.value if negative else token.value


def _flatten(operands: list, kind: type) -> list:
    flat = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, kind) else [operand])
    return flat

