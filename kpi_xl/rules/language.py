"""The rule expression language: a tokenizer, a Pratt parser and the syntax tree.

Conditions and values on the Rules sheet are short formulas an HR analyst
types into a cell::

    tenure_days < 90
    department = "Sales" and attainment("REV") >= 110%
    grade in ("P1", "P2") or not eligible
    0.5 * target_bonus

This module only turns text into a tree of :class:`Node` and says, with the
position in the text, what is wrong with it.  Nothing is ever executed here:
there is no ``eval``, no ``compile`` and no attribute access.  What each name
means, and whether the types fit, is :mod:`kpi_xl.rules.checking`'s business;
turning a checked tree into array operations is :mod:`kpi_xl.rules.evaluation`'s.

The syntax follows Excel where Excel has an answer (``=`` and ``<>``,
``110%``, text in double quotes, TRUE/FALSE) and accepts the Python/SQL forms
people also type (``==``, ``!=``, ``and``/``or``/``not``, ``in (...)``), plus
Chinese ``且``/``或``/``非``, full-width punctuation and typographic quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_LENGTH = 2000  # characters: a condition longer than this is not a rule anyone can read
MAX_DEPTH = 60  # nesting of parentheses and operators


class ExpressionError(Exception):
    """What is wrong with an expression, at ``position`` (0-based) of its text."""

    def __init__(self, position: int, message: str):
        super().__init__(message)
        self.position = position
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "text", "bool", "name", "op", "end"
    value: Any
    start: int
    end: int
    text: str  # as written (for messages)


@dataclass
class Node:
    """A node of the syntax tree.

    kind: ``number``, ``text``, ``bool`` (value: the literal), ``name`` (value:
    the name as written), ``call`` (value: the function as written, children:
    the arguments), ``neg`` (children: [operand]), ``arith`` / ``compare``
    (op: ``+ - * /`` or ``= <> < <= > >=``; children: [left, right]), ``in``
    (op: ``in`` or ``not in``; children: [left, *items]), ``and`` / ``or``
    (children: [left, right]), ``not`` (children: [operand]).

    ``start``/``end`` delimit the node in the text (for messages); the checker
    fills in ``key`` (the canonical name or function), ``kpi`` (a KPI index)
    and ``type``.
    """

    kind: str
    start: int
    end: int
    value: Any = None
    op: str = ""
    children: list["Node"] = field(default_factory=list)
    parenthesized: bool = False
    key: str = ""
    kpi: int = -1
    type: str = ""


# ------------------------------------------------------------------ tokens

_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}  # " ' “” ‘’
_CLOSERS = {'"': '"\u201d', "'": "'\u2019", "\u201c": '\u201d"', "\u2018": "\u2019'"}
_TWO = {"<=": "<=", ">=": ">=", "<>": "<>", "!=": "<>", "==": "="}
_ONE = {
    "=": "=", "<": "<", ">": ">", "+": "+", "-": "-", "*": "*", "/": "/", "(": "(", ")": ")", ",": ",",
    "\u2264": "<=", "\u2265": ">=", "\u2260": "<>", "\u00d7": "*", "\u00f7": "/", "\u3001": ",", "\u2212": "-",
}
_CJK_WORDS = {"且": "and", "或": "or", "非": "not"}  # operators even when written without spaces
_WORDS = {"and": "and", "or": "or", "not": "not", "in": "in"}
_LITERALS = {"true": True, "false": False, "yes": True, "no": False, "是": True, "否": False}


def _halfwidth(ch: str) -> str:
    """Full-width ASCII (＞＝１（ ... typed with a Chinese input method) as ASCII."""
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if code == 0x3000:  # ideographic space
        return " "
    return ch


def tokenize(text: str) -> list[Token]:
    """The tokens of text, ending with an ``end`` token.  Raises ExpressionError."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(MAX_LENGTH, f"the expression is longer than {MAX_LENGTH} characters")
    s = "".join(_halfwidth(ch) for ch in text)  # the same length: positions stay valid
    tokens: list[Token] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "0123456789" or (ch == "." and i + 1 < n and s[i + 1] in "0123456789"):
            match = _NUMBER.match(s, i)
            assert match is not None
            j = match.end()
            value = float(match.group())
            if j < n and s[j] == "%":
                value /= 100.0
                j += 1
            if j < n and (s[j].isalpha() or s[j] == "_") and s[j] not in _CJK_WORDS:
                word_end = j
                while word_end < n and (s[word_end].isalnum() or s[word_end] == "_"):
                    word_end += 1
                raise ExpressionError(
                    i, f"'{text[i:word_end]}' is not a number: write the number alone, e.g. {match.group()}"
                )
            tokens.append(Token("number", value, i, j, text[i:j]))
            i = j
            continue
        if ch in _QUOTES:
            closers = _CLOSERS[ch]
            j = i + 1
            while j < n and s[j] not in closers:
                j += 1
            if j >= n:
                raise ExpressionError(i, f"the text starting with {ch} has no closing quote")
            tokens.append(Token("text", s[i + 1 : j], i, j + 1, text[i : j + 1]))
            i = j + 1
            continue
        if ch in _CJK_WORDS:
            tokens.append(Token("op", _CJK_WORDS[ch], i, i + 1, ch))
            i += 1
            continue
        if ch.isalpha() or ch == "_":
            j = i + 1
            while j < n and (s[j].isalnum() or s[j] == "_") and s[j] not in _CJK_WORDS:
                j += 1
            word = s[i:j]
            folded = word.casefold()
            if folded in _WORDS:
                tokens.append(Token("op", _WORDS[folded], i, j, text[i:j]))
            elif folded in _LITERALS:
                tokens.append(Token("bool", _LITERALS[folded], i, j, text[i:j]))
            else:
                tokens.append(Token("name", word, i, j, text[i:j]))
            i = j
            continue
        pair = s[i : i + 2]
        if pair in _TWO:
            tokens.append(Token("op", _TWO[pair], i, i + 2, text[i : i + 2]))
            i += 2
            continue
        if ch in _ONE:
            tokens.append(Token("op", _ONE[ch], i, i + 1, text[i]))
            i += 1
            continue
        raise ExpressionError(i, f"unexpected character '{text[i]}'")
    tokens.append(Token("end", None, n, n, ""))
    return tokens


# ------------------------------------------------------------------ parser

COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
_BINDING = {"or": 10, "and": 20, **{op: 40 for op in COMPARISONS}, "in": 40, "+": 50, "-": 50, "*": 60, "/": 60}
_NOT_OPERAND = 30  # `not a = 1 and b` is `(not (a = 1)) and b`
_UNARY = 70


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.at]
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def previous(self) -> Token | None:
        return self.tokens[self.at - 1] if self.at >= 1 else None

    def binding(self, token: Token) -> int:
        if token.kind != "op":
            return 0
        if token.value == "not":  # infix only as `not in`
            after = self.peek(1)
            return _BINDING["in"] if after.kind == "op" and after.value == "in" else 0
        return _BINDING.get(token.value, 0)

    def parse(self) -> Node | None:
        if self.peek().kind == "end":
            return None
        node = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token)
        return node

    def expression(self, right_binding: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(self.peek().start, "the expression is nested too deeply")
        left = self.prefix(self.advance())
        while right_binding < self.binding(self.peek()):
            left = self.infix(self.advance(), left)
        self.depth -= 1
        return left

    # -------------------------------------------------------------- prefix

    def prefix(self, token: Token) -> Node:
        if token.kind == "number":
            return Node("number", token.start, token.end, token.value)
        if token.kind == "text":
            return Node("text", token.start, token.end, token.value)
        if token.kind == "bool":
            return Node("bool", token.start, token.end, token.value)
        if token.kind == "name":
            if self.peek().kind == "op" and self.peek().value == "(":
                return self.call(token)
            return Node("name", token.start, token.end, token.text)
        if token.kind == "op" and token.value == "(":
            if self.peek().kind == "op" and self.peek().value == ")":
                raise ExpressionError(token.start, "empty parentheses: put a value or a condition inside")
            inner = self.expression(0)
            self.expect_closing(token)
            inner.parenthesized = True
            return inner
        if token.kind == "op" and token.value in ("-", "+"):
            operand = self.expression(_UNARY)
            if token.value == "+":
                return operand
            return Node("neg", token.start, operand.end, children=[operand])
        if token.kind == "op" and token.value == "not":
            operand = self.expression(_NOT_OPERAND)
            return Node("not", token.start, operand.end, children=[operand])
        raise self.missing_value(token)

    def call(self, name: Token) -> Node:
        opening = self.advance()  # "("
        arguments: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().value == ")"):
            while True:
                arguments.append(self.expression(0))
                if self.peek().kind == "op" and self.peek().value == ",":
                    self.advance()
                    continue
                break
        closing = self.expect_closing(opening)
        return Node("call", name.start, closing.end, name.text, children=arguments)

    def expect_closing(self, opening: Token) -> Token:
        token = self.peek()
        if token.kind == "op" and token.value == ")":
            return self.advance()
        if token.kind == "end":
            raise ExpressionError(opening.start, "this '(' is never closed: add a ')'")
        raise ExpressionError(
            token.start, f"expected ')' to close the '(' at col {opening.start + 1}, found '{token.text}'"
        )

    # -------------------------------------------------------------- infix

    def infix(self, token: Token, left: Node) -> Node:
        op = token.value
        if op in ("and", "or"):
            right = self.expression(_BINDING[op])
            return Node(op, left.start, right.end, op=op, children=[left, right])
        if op in ("+", "-", "*", "/"):
            right = self.expression(_BINDING[op])
            return Node("arith", left.start, right.end, op=op, children=[left, right])
        if op in COMPARISONS or op in ("in", "not"):
            if left.kind in ("compare", "in") and not left.parenthesized:
                raise ExpressionError(
                    token.start,
                    f"comparisons cannot be chained ('{self.text[left.start:token.end]} ...'): "
                    "join two comparisons with and, e.g. x > 1 and x < 3",
                )
            if op == "not":
                token = self.advance()  # "in"
                return self.membership(token, left, negated=True)
            if op == "in":
                return self.membership(token, left, negated=False)
            right = self.expression(_BINDING[op])
            return Node("compare", left.start, right.end, op=op, children=[left, right])
        raise self.unexpected(token)  # pragma: no cover - binding() admits only the operators above

    def membership(self, token: Token, left: Node, negated: bool) -> Node:
        opening = self.peek()
        if not (opening.kind == "op" and opening.value == "("):
            raise ExpressionError(
                token.start, "'in' needs a list in parentheses, e.g. department in (\"Sales\", \"Support\")"
            )
        self.advance()
        if self.peek().kind == "op" and self.peek().value == ")":
            raise ExpressionError(opening.start, "the list after 'in' is empty")
        items = [self.expression(0)]
        while self.peek().kind == "op" and self.peek().value == ",":
            self.advance()
            items.append(self.expression(0))
        closing = self.expect_closing(opening)
        op = "not in" if negated else "in"
        return Node("in", left.start, closing.end, op=op, children=[left, *items])

    # -------------------------------------------------------------- messages

    def missing_value(self, token: Token) -> ExpressionError:
        before = self.previous_of(token)
        if before is None:
            if token.kind == "end":  # pragma: no cover - parse() handles empty text
                return ExpressionError(0, "the expression is empty")
            return ExpressionError(token.start, f"expected a value before '{token.text}'")
        return ExpressionError(before.start, f"expected a value after '{before.text}'")

    def previous_of(self, token: Token) -> Token | None:
        index = next(i for i, t in enumerate(self.tokens) if t is token)
        return self.tokens[index - 1] if index > 0 else None

    def unexpected(self, token: Token) -> ExpressionError:
        if token.kind == "op" and token.value == ")":
            return ExpressionError(token.start, "unexpected ')': there is no '(' for it to close")
        if token.kind == "op" and token.value == ",":
            return ExpressionError(token.start, "unexpected ',': commas separate the items of a list in ( )")
        return ExpressionError(
            token.start,
            f"unexpected '{token.text}' after a complete expression — is an 'and' or 'or' missing?",
        )


def parse(text: str) -> Node | None:
    """The syntax tree of text, or None when it is blank.  Raises ExpressionError."""
    return _Parser(text).parse()


def source(text: str, node: Node) -> str:
    """The text a node was parsed from, as written."""
    return text[node.start : node.end].strip()
