"""Expression source -> syntax tree (nodes.py), by precedence climbing.

A hand-written parser gives what a generated one makes awkward: JavaScript's `??` mixing
and `-a ** b` rules, arrow functions only as call arguments (`(a, b) =>` needs two tokens
of look-ahead), messages that say what was expected, and a nesting limit checked while
parsing so that 10,000 nested parentheses are an error and never a RecursionError.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from flowscript.errors import ExpressionError
from flowscript.expressions.lexer import EOF, NAME, NUM, PUNCT, STR, Token, error, tokenize
from flowscript.expressions.limits import MAX_NESTING
from flowscript.expressions.nodes import (
    ArrayLit,
    Arrow,
    Binary,
    Call,
    Conditional,
    Index,
    Literal,
    Member,
    Name,
    Node,
    ObjectLit,
    Property,
    Unary,
)
from flowscript.expressions.values import number_to_string

PRECEDENCE = {
    "??": 1, "||": 1, "&&": 2,
    "==": 3, "!=": 3, "===": 3, "!==": 3,
    "<": 4, "<=": 4, ">": 4, ">=": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6, "%": 6,
    "**": 7,
}  # fmt: skip
LITERALS = {
    "true": True, "false": False, "null": None, "undefined": None, "NaN": math.nan, "Infinity": math.inf,
}
RESERVED = {
    "this": "'this' is not available in expressions",
    "new": "'new' is not allowed: objects are written as literals {a: 1}",
    "function": "functions are written as arrows: x => x + 1",
    "class": "'class' is not allowed in expressions",
    "var": "declarations are not allowed in expressions",
    "let": "declarations are not allowed in expressions",
    "const": "declarations are not allowed in expressions",
    "return": "statements are not allowed: an expression is its own value",
    "throw": "statements are not allowed in expressions",
    "in": "the 'in' operator is not supported; use has(obj, key)",
    "instanceof": "'instanceof' is not supported; use typeof(x) or is_array(x)",
    "void": "'void' is not supported",
    "yield": "'yield' is not allowed in expressions",
    "await": "'await' is not allowed in expressions",
    "import": "'import' is not allowed in expressions",
    "export": "'export' is not allowed in expressions",
    "super": "'super' is not allowed in expressions",
}
_ARROW_PLACE = "arrow functions are only allowed as arguments of a function call"
_CALL_ONLY = {"typeof": "typeof(x)", "delete": "delete(obj, key)"}


def parse(source: str, hyphen_ids: Collection[str] = ()) -> Node:
    """Parses one expression (the whole source); raises ExpressionError EXPR_PARSE_ERROR."""
    tokens = tokenize(source, hyphen_ids)
    try:
        return _Parser(source, tokens).parse()
    except RecursionError:
        raise error(f"expression is too deeply nested (more than {MAX_NESTING} levels)", source, 0) from None


class _Parser:
    __slots__ = ("depth", "i", "source", "tokens")

    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    # ------------------------------------------------------------------ helpers

    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def at(self, value: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok.kind == PUNCT and tok.value == value

    def fail(self, message: str, pos: int | None = None, code: str = "EXPR_PARSE_ERROR",
             hint: str | None = None) -> ExpressionError:
        return error(message, self.source, self.peek().pos if pos is None else pos, code, hint)

    def expect(self, value: str, context: str) -> Token:
        tok = self.peek()
        if tok.kind == PUNCT and tok.value == value:
            self.i += 1
            return tok
        raise self.fail(f"expected '{value}' {context}, got {tok.describe()}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"expression is too deeply nested (more than {MAX_NESTING} levels)")

    # ------------------------------------------------------------------ grammar

    def parse(self) -> Node:
        if self.peek().kind == EOF:
            raise self.fail("empty expression: expected an expression")
        node = self.expression()
        tok = self.peek()
        if tok.kind != EOF:
            if tok.kind == NAME and tok.value in RESERVED:
                raise self.fail(RESERVED[tok.value])
            if tok.kind == PUNCT and tok.value == "=>":
                raise self.fail(_ARROW_PLACE)
            raise self.fail(f"unexpected {tok.describe()}: expected an operator or the end of the expression")
        return node

    def expression(self) -> Node:
        """A full expression: a conditional `c ? a : b` or anything tighter."""
        self.enter()
        test = self.binary(0)
        if self.at("?"):
            question = self.peek()
            self.i += 1
            then = self.expression()
            self.expect(":", "in the conditional expression (c ? a : b)")
            otherwise = self.expression()
            test = Conditional(question.pos, test, then, otherwise)
        self.depth -= 1
        return test

    def binary(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok.kind != PUNCT:
                break
            prec = PRECEDENCE.get(tok.value) if isinstance(tok.value, str) else None
            if prec is None or prec < min_prec:
                break
            op = str(tok.value)
            self.i += 1
            if op == "**":
                if isinstance(left, Unary) and not left.paren:
                    raise self.fail("a unary operator before '**' needs parentheses, e.g. (-2) ** 2",
                                    left.pos)
                self.enter()
                right = self.binary(prec)  # right-associative
                self.depth -= 1
            else:
                right = self.binary(prec + 1)
            self._check_nullish_mix(op, left, right, tok.pos)
            left = Binary(tok.pos, str(op), left, right)
        return left

    def _check_nullish_mix(self, op: str, left: Node, right: Node, pos: int) -> None:
        """JavaScript refuses `a ?? b || c` without parentheses; so do we."""
        other = ("||", "&&") if op == "??" else ("??",) if op in ("||", "&&") else ()
        for side in (left, right):
            if isinstance(side, Binary) and side.op in other and not side.paren:
                raise self.fail("'??' cannot be mixed with '||' or '&&' without parentheses", pos)

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == PUNCT and tok.value in ("!", "-", "+"):
            self.i += 1
            self.enter()
            operand = self.unary()
            self.depth -= 1
            return Unary(tok.pos, str(tok.value), operand)
        if tok.kind == NAME and tok.value in _CALL_ONLY and not self.at("(", 1):
            raise self.fail(f"'{tok.value}' is a function here: write {_CALL_ONLY[str(tok.value)]}")
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            tok = self.peek()
            if tok.kind != PUNCT:
                return node
            if tok.value == "?." and self.at("[", 1):
                self.i += 1
                node = self.index(node)
            elif tok.value in (".", "?."):
                if tok.value == "?." and self.at("(", 1):
                    raise self.fail("optional calls '?.()' are not supported: only built-in functions "
                                    "can be called", code="EXPR_BLOCKED_ACCESS")
                self.i += 1
                name = self.peek()
                if name.kind != NAME:
                    raise self.fail(f"expected a property name after '{tok.value}', got {name.describe()}")
                self.i += 1
                node = Member(name.pos, node, str(name.value))
                self._refuse_method_call(str(name.value), name.pos)
            elif tok.value == "[":
                node = self.index(node)
            elif tok.value == "(":
                raise self.fail("only built-in functions can be called (write name(args)); "
                                "this is not a function name")
            else:
                return node

    def index(self, obj: Node) -> Node:
        bracket = self.peek()
        self.i += 1
        key = self.expression()
        self.expect("]", "to close the index")
        if isinstance(key, Literal) and isinstance(key.value, str):
            self._refuse_method_call(key.value, bracket.pos)
            return Member(key.pos, obj, key.value)
        self._refuse_method_call(None, bracket.pos)
        return Index(bracket.pos, obj, key)

    def _refuse_method_call(self, name: str | None, pos: int) -> None:
        if not self.at("("):
            return
        from flowscript.expressions.functions import FUNCTIONS

        if name and name in FUNCTIONS:
            message = f"method calls are not allowed: write {name}(x, ...) instead of x.{name}(...)"
        else:
            message = "method calls are not allowed: call a built-in function as f(x, ...)"
        raise self.fail(message, pos, code="EXPR_BLOCKED_ACCESS")

    def primary(self) -> Node:
        tok = self.peek()
        self.i += 1
        if tok.kind == NUM or tok.kind == STR:
            return Literal(tok.pos, tok.value)
        if tok.kind == NAME:
            name = str(tok.value)
            if self.at("=>"):
                raise self.fail(_ARROW_PLACE, tok.pos)
            if name in LITERALS:
                return Literal(tok.pos, LITERALS[name])
            if name in RESERVED:
                raise self.fail(RESERVED[name], tok.pos)
            if self.at("("):
                return self.call(tok)
            return Name(tok.pos, name)
        if tok.kind == PUNCT:
            if tok.value == "(":
                if self.arrow_ahead(self.i - 1):
                    raise self.fail(_ARROW_PLACE, tok.pos)
                if self.at(")"):
                    raise self.fail("empty parentheses: expected an expression")
                node = self.expression()
                if self.peek().kind == EOF:
                    raise self.fail("missing ')' to close the parenthesis", tok.pos)
                self.expect(")", "to close the parenthesis")
                if isinstance(node, (Binary, Unary)):
                    node.paren = True
                return node
            if tok.value == "[":
                return self.array(tok)
            if tok.value == "{":
                return self.object(tok)
        self.i -= 1
        if tok.kind == NAME and tok.value in RESERVED:
            raise self.fail(RESERVED[str(tok.value)])
        raise self.fail(f"expected an expression, got {tok.describe()}")

    def call(self, name: Token) -> Node:
        self.i += 1  # '('
        args: list[Node] = []
        while not self.at(")"):
            if self.peek().kind == EOF:
                raise self.fail(f"missing ')' to close the call {name.value}(", name.pos)
            args.append(self.arrow() if self.arrow_ahead(self.i) else self.expression())
            if self.at(","):
                self.i += 1
            elif self.peek().kind == EOF:
                raise self.fail(f"missing ')' to close the call {name.value}(", name.pos)
            elif not self.at(")"):
                tok = self.peek()
                raise self.fail(f"expected ',' or ')' after an argument of {name.value}(), "
                                f"got {tok.describe()}")
        self.i += 1
        return Call(name.pos, str(name.value), args)

    def arrow_ahead(self, i: int) -> bool:
        """Whether an arrow function starts at token i: `x =>`, `() =>`, `(a, b) =>`."""
        toks = self.tokens
        last = len(toks) - 1
        tok = toks[i]
        if tok.kind == NAME:
            return i < last and toks[i + 1].kind == PUNCT and toks[i + 1].value == "=>"
        if not (tok.kind == PUNCT and tok.value == "("):
            return False
        j = i + 1
        while j < last:
            t = toks[j]
            if t.kind == PUNCT and t.value == ")":
                return toks[j + 1].kind == PUNCT and toks[j + 1].value == "=>"
            if t.kind != NAME:
                return False
            j += 1
            if toks[j].kind == PUNCT and toks[j].value == ",":
                j += 1
        return False

    def arrow(self) -> Node:
        start = self.peek()
        params: list[tuple[str, int]] = []
        if start.kind == NAME:
            params.append((str(start.value), start.pos))
            self.i += 1
        else:
            self.i += 1
            while not self.at(")"):
                tok = self.peek()
                params.append((str(tok.value), tok.pos))
                self.i += 1
                if self.at(","):
                    self.i += 1
            self.i += 1
        self.i += 1  # '=>'
        seen: set[str] = set()
        for name, pos in params:
            if name in LITERALS or name in RESERVED or name in _CALL_ONLY:
                raise self.fail(f"'{name}' cannot be a parameter name", pos)
            if name in seen:
                raise self.fail(f"duplicate parameter name '{name}'", pos)
            seen.add(name)
        if self.at("{") and self.peek(1).kind == NAME and self.peek(1).value == "return":
            raise self.fail("arrow functions take an expression body, not statements: write x => expr")
        body = self.expression()
        end = self.tokens[self.i - 1].end
        return Arrow(start.pos, [p for p, _ in params], body, self.source[start.pos:end])

    def array(self, open_: Token) -> Node:
        items: list[Node] = []
        while not self.at("]"):
            if self.peek().kind == EOF:
                raise self.fail("missing ']' to close the array", open_.pos)
            if self.at(","):
                raise self.fail("empty array slots are not supported")
            items.append(self.expression())
            if self.at(","):
                self.i += 1
            elif self.peek().kind == EOF:
                raise self.fail("missing ']' to close the array", open_.pos)
            elif not self.at("]"):
                raise self.fail(f"expected ',' or ']' in the array, got {self.peek().describe()}")
        self.i += 1
        return ArrayLit(open_.pos, items)

    def object(self, open_: Token) -> Node:
        props: list[Property] = []
        while not self.at("}"):
            tok = self.peek()
            self.i += 1
            key: str | Node
            if tok.kind == STR:
                key = str(tok.value)
            elif tok.kind == NUM:
                key = number_to_string(tok.value)  # type: ignore[arg-type]
            elif tok.kind == NAME:
                key = str(tok.value)
            elif tok.kind == PUNCT and tok.value == "[":
                key = self.expression()
                self.expect("]", "to close the computed key")
            elif tok.kind == EOF:
                raise self.fail("missing '}' to close the object", open_.pos)
            else:
                raise self.fail(f"expected a property name in the object, got {tok.describe()}", tok.pos)
            if self.at(":"):
                self.i += 1
                value = self.expression()
            elif tok.kind == NAME and (self.at(",") or self.at("}")):
                if key in LITERALS or key in RESERVED:
                    raise self.fail(f"'{key}' cannot be used as a shorthand property", tok.pos)
                value = Name(tok.pos, str(key))
            elif self.at("("):
                raise self.fail("methods are not allowed in object literals", tok.pos)
            else:
                raise self.fail(f"expected ':' after the property name, got {self.peek().describe()}")
            props.append(Property(key, value, tok.pos))
            if self.at(","):
                self.i += 1
            elif self.peek().kind == EOF:
                raise self.fail("missing '}' to close the object", open_.pos)
            elif not self.at("}"):
                raise self.fail(f"expected ',' or '}}' in the object, got {self.peek().describe()}")
        self.i += 1
        return ObjectLit(open_.pos, props)
