"""`condition="@(...)"` expressions: a small recursive-descent parser that builds closures.

The grammar is a C#-like subset (no eval, no Python evaluation of the text):

    or       := and ("||" and)*
    and      := equality ("&&" equality)*
    equality := relation (("==" | "!=") relation)*
    relation := unary (("<" | "<=" | ">" | ">=") unary)*
    unary    := "!" unary | postfix
    postfix  := primary ("." Name ["(" args ")"] | "[" string "]")*
    primary  := string | integer | true | false | null | "(" or ")" | "(" Type ")" unary
              | context

`context.…` paths are resolved while parsing to one accessor each, so a typo is a save-time
error naming its column. Each node becomes a closure `fn(ctx, msg)`; the gateway compiles a
condition once per snapshot and only calls the closure per handshake or message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .condition_lexer import (  # noqa: F401 - ConditionError and MessageView are this module's API
    _ORDER,
    ConditionError,
    Fn,
    MessageView,
    _claims,
    _compare,
    _equal,
    _json_path,
    _Node,
    _num,
    _text,
    _Tok,
    _tokenize,
    _truth,
    _walk,
)
from .context import CERTIFICATE_MEMBERS

MAX_DEPTH = 32  # parentheses and "!" nest at most this deep (the parser recurses)


# --- parser ---------------------------------------------------------------------------------


class _Parser:
    def __init__(self, toks: list[_Tok], allow_message: bool) -> None:
        self.toks = toks
        self.i = 0
        self.allow_message = allow_message
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at(self, text: str) -> bool:
        return self.tok.kind in ("op", "name") and self.tok.text == text

    def expect(self, text: str) -> _Tok:
        if not self.at(text):
            raise self.error(f'expected "{text}"')
        return self.take()

    def error(self, message: str, tok: _Tok | None = None) -> ConditionError:
        tok = tok or self.tok
        found = "the end of the condition" if tok.kind == "end" else f'"{tok.text}"'
        return ConditionError(f"{message}, found {found}", tok.pos, quoted=tok.text)

    # or / and / equality / relation ---------------------------------------------------------

    def parse_or(self) -> _Node:
        left = self.parse_and()
        while self.at("||"):
            op = self.take()
            right = self.parse_and()
            self.need_bool(left, op)
            self.need_bool(right, op)
            lf, rf = left.fn, right.fn
            left = _Node(
                lambda c, m, lf=lf, rf=rf: lf(c, m) is True or rf(c, m) is True, "bool", op.pos
            )
        return left

    def parse_and(self) -> _Node:
        left = self.parse_equality()
        while self.at("&&"):
            op = self.take()
            right = self.parse_equality()
            self.need_bool(left, op)
            self.need_bool(right, op)
            lf, rf = left.fn, right.fn
            left = _Node(
                lambda c, m, lf=lf, rf=rf: lf(c, m) is True and rf(c, m) is True, "bool", op.pos
            )
        return left

    def parse_equality(self) -> _Node:
        left = self.parse_relation()
        while self.at("==") or self.at("!="):
            op = self.take()
            right = self.parse_relation()
            lf, rf = left.fn, right.fn
            if op.text == "==":
                fn = lambda c, m, lf=lf, rf=rf: _equal(lf(c, m), rf(c, m))  # noqa: E731
            else:
                fn = lambda c, m, lf=lf, rf=rf: not _equal(lf(c, m), rf(c, m))  # noqa: E731
            left = _Node(fn, "bool", op.pos)
        return left

    def parse_relation(self) -> _Node:
        left = self.parse_unary()
        while self.tok.kind == "op" and self.tok.text in _ORDER:
            op = self.take()
            right = self.parse_unary()
            for side in (left, right):
                if side.type in ("bool", "jwt"):
                    raise ConditionError(
                        f'"{op.text}" compares numbers or strings',
                        side.pos,
                        quoted=op.text,
                        at=op.pos,
                    )
            lf, rf, o = left.fn, right.fn, op.text
            left = _Node(
                lambda c, m, lf=lf, rf=rf, o=o: _compare(o, lf(c, m), rf(c, m)), "bool", op.pos
            )
        return left

    def need_bool(self, node: _Node, op: _Tok) -> None:
        if node.type not in ("bool", "any"):
            raise ConditionError(
                f'"{op.text}" needs true/false on both sides (compare with == first)', node.pos
            )

    def parse_unary(self) -> _Node:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.error(f"nested more than {MAX_DEPTH} levels deep")
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self) -> _Node:
        if self.at("!"):
            op = self.take()
            inner = self.parse_unary()
            self.need_bool(inner, op)
            f = inner.fn
            return _Node(lambda c, m, f=f: f(c, m) is not True, "bool", op.pos)
        return self.parse_postfix(self.parse_primary())

    # primary ----------------------------------------------------------------------------------

    def parse_primary(self) -> _Node:
        tok = self.tok
        if tok.kind == "str":
            self.take()
            v = tok.value
            return _Node(lambda c, m, v=v: v, "str", tok.pos)
        if tok.kind == "int":
            self.take()
            v = tok.value
            return _Node(lambda c, m, v=v: v, "int", tok.pos)
        if tok.kind == "name":
            if tok.text in ("true", "false"):
                self.take()
                v = tok.text == "true"
                return _Node(lambda c, m, v=v: v, "bool", tok.pos)
            if tok.text == "null":
                self.take()
                return _Node(lambda c, m: None, "any", tok.pos)
            if tok.text == "context":
                self.take()
                return self.parse_context(tok)
            raise self.error(f'unknown name "{tok.text}"; expressions start with context')
        if self.at("("):
            self.take()
            nxt, after = self.toks[self.i], self.toks[self.i + 1]
            if nxt.kind == "name" and nxt.text in ("string", "Jwt", "int") and after.text == ")":
                self.i += 2
                return self.cast(nxt, self.parse_unary())  # depth-counted
            inner = self.parse_or()
            self.expect(")")
            return inner
        raise self.error("expected a value")

    def cast(self, type_tok: _Tok, inner: _Node) -> _Node:
        f = inner.fn
        if type_tok.text == "string":
            return _Node(lambda c, m, f=f: _text(f(c, m)), "str", type_tok.pos)
        if type_tok.text == "int":
            return _Node(lambda c, m, f=f: _num(f(c, m)), "int", type_tok.pos)
        if inner.type not in ("any", "jwt"):
            raise ConditionError("(Jwt) applies to a context.Variables value", inner.pos)
        return _Node(f, "jwt", type_tok.pos)

    def args(self, count: tuple[int, int], what: str) -> list[_Tok]:
        """String-literal arguments in parentheses (the accessors take names, not expressions)."""
        start = self.expect("(")
        out: list[_Tok] = []
        while not self.at(")"):
            if out:
                self.expect(",")
            if self.tok.kind != "str":
                raise self.error(f"{what} takes string literals")
            out.append(self.take())
        self.expect(")")
        low, high = count
        if not low <= len(out) <= high:
            want = str(low) if low == high else f"{low} or {high}"
            raise ConditionError(f"{what} takes {want} argument(s)", start.pos)
        return out

    def name(self) -> _Tok:
        self.expect(".")
        if self.tok.kind != "name":
            raise self.error("expected a member name")
        return self.take()

    def _certificate(self, member: _Tok) -> _Node:
        """`context.Request.Certificate` (null when none) or one of its members."""
        if not self.at("."):
            return _Node(lambda c, m: c.client_certificate, "any", member.pos)
        field = self.name()
        getter = CERTIFICATE_MEMBERS.get(field.text)
        if getter is None:
            raise self.error("expected " + ", ".join(CERTIFICATE_MEMBERS), field)
        return _Node(
            lambda c, m, g=getter: g(c.client_certificate) if c.client_certificate else "",
            "str",
            field.pos,
        )

    def parse_context(self, start: _Tok) -> _Node:
        """Resolve `context.A.B…` to one accessor now, so a wrong path fails at save time."""
        first = self.name()
        group = first.text
        if group == "Variables":
            if self.at("["):
                self.take()
                if self.tok.kind != "str":
                    raise self.error("context.Variables[...] takes a string literal")
                key = self.take().value
                self.expect("]")
                return _Node(lambda c, m, k=key: c.variables.get(k), "any", first.pos)
            member = self.name()
            if member.text == "GetValueOrDefault":
                a = self.args((1, 2), "GetValueOrDefault")
                key = a[0].value
                if len(a) == 2:
                    d = a[1].value
                    return _Node(lambda c, m, k=key, d=d: c.variables.get(k, d), "any", member.pos)
                return _Node(lambda c, m, k=key: c.variables.get(k), "any", member.pos)
            if member.text == "ContainsKey":
                key = self.args((1, 1), "ContainsKey")[0].value
                return _Node(lambda c, m, k=key: k in c.variables, "bool", member.pos)
            raise self.error("expected GetValueOrDefault, ContainsKey or [...]", member)
        if group == "Request":
            member = self.name()
            if member.text == "IpAddress":
                return _Node(lambda c, m: c.client_ip or c.peer_ip or "", "str", member.pos)
            if member.text == "Headers":
                getter = self.name()
                if getter.text != "GetValueOrDefault":
                    raise self.error("expected GetValueOrDefault", getter)
                a = self.args((1, 2), "GetValueOrDefault")
                key, d = a[0].value, a[1].value if len(a) == 2 else ""
                return _Node(lambda c, m, k=key, d=d: c.header(k, d), "str", getter.pos)
            if member.text == "Certificate":
                return self._certificate(member)
            if member.text == "Url":
                query = self.name()
                if query.text == "Host":
                    return _Node(lambda c, m: c.host, "str", query.pos)
                if query.text != "Query":
                    raise self.error("expected Host or Query", query)
                getter = self.name()
                if getter.text != "GetValueOrDefault":
                    raise self.error("expected GetValueOrDefault", getter)
                a = self.args((1, 2), "GetValueOrDefault")
                key, d = a[0].value, a[1].value if len(a) == 2 else ""
                return _Node(
                    lambda c, m, k=key, d=d: ",".join(c.query_values(k)) or d, "str", getter.pos
                )
            raise self.error("expected IpAddress, Headers, Url or Certificate", member)
        if group == "Message":
            if not self.allow_message:
                raise ConditionError(
                    "context.Message exists only in <on-message> conditions", first.pos
                )
            member = self.name()
            if member.text == "Text":
                return _Node(lambda c, m: m.text, "str", member.pos)
            if member.text == "Size":
                return _Node(lambda c, m: m.size, "int", member.pos)
            if member.text == "IsBinary":
                return _Node(lambda c, m: m.is_binary, "bool", member.pos)
            if member.text == "Json":
                path = self.args((1, 1), "Json")[0]
                steps = _json_path(path)
                return _Node(lambda c, m, s=steps: _walk(m.json(), s), "any", member.pos)
            raise self.error("expected Text, Size, IsBinary or Json", member)
        simple = _SIMPLE.get(group)
        if simple is None:
            raise self.error(
                "expected Subscription, Request, Api, Product, User, Deployment, Variables"
                + (" or Message" if self.allow_message else ""),
                first,
            )
        member = self.name()
        getter = simple.get(member.text)
        if getter is None:
            raise self.error("expected " + " or ".join(simple), member)
        return _Node(getter, "str", member.pos)

    # postfix: string methods and JWT members ----------------------------------------------

    def parse_postfix(self, node: _Node) -> _Node:
        while self.at("."):
            member = self.name()
            f = node.fn
            if node.type == "jwt":
                if member.text == "Subject":
                    node = _Node(
                        lambda c, m, f=f: _text(_claims(f(c, m)).get("sub")), "str", member.pos
                    )
                    continue
                if member.text == "Claims":
                    getter = self.name()
                    if getter.text != "GetValueOrDefault":
                        raise self.error("expected GetValueOrDefault", getter)
                    a = self.args((1, 2), "GetValueOrDefault")
                    key, d = a[0].value, a[1].value if len(a) == 2 else ""
                    node = _Node(
                        lambda c, m, f=f, k=key, d=d: _text(_claims(f(c, m)).get(k, d)),
                        "str",
                        member.pos,
                    )
                    continue
                raise self.error("expected Subject or Claims", member)
            if node.type not in ("str", "any"):
                raise ConditionError(
                    f'"{member.text}" applies to text', member.pos, quoted=member.text
                )
            method = _STRING_METHODS.get(member.text)
            if method is None:
                if member.text == "Length":
                    node = _Node(lambda c, m, f=f: len(_text(f(c, m))), "int", member.pos)
                    continue
                raise self.error(
                    "expected a string method (" + ", ".join([*_STRING_METHODS, "Length"]) + ")",
                    member,
                )
            arity, op = method
            self.expect("(")
            argv: list[_Node] = []
            while not self.at(")"):
                if argv:
                    self.expect(",")
                argv.append(self.parse_or())
            self.expect(")")
            if len(argv) != arity:
                raise ConditionError(
                    f"{member.text} takes {arity} argument(s)", member.pos, quoted=member.text
                )
            if arity == 0:
                node = _Node(lambda c, m, f=f, op=op: op(_text(f(c, m))), "str", member.pos)
            else:
                g = argv[0].fn
                node = _Node(
                    lambda c, m, f=f, g=g, op=op: op(_text(f(c, m)), _text(g(c, m))),
                    "bool",
                    member.pos,
                )
        return node


_STRING_METHODS: dict[str, tuple[int, Callable]] = {
    "StartsWith": (1, str.startswith),
    "EndsWith": (1, str.endswith),
    "Contains": (1, str.__contains__),
    "Equals": (1, str.__eq__),
    "ToLower": (0, str.lower),
    "ToUpper": (0, str.upper),
    "Trim": (0, str.strip),
}

_SIMPLE: dict[str, dict[str, Fn]] = {
    "Subscription": {
        "Id": lambda c, m: c.subscription_id or "",
        "Name": lambda c, m: c.subscription_name or "",
    },
    "Api": {"Id": lambda c, m: c.api_id or "", "Name": lambda c, m: c.api_name or ""},
    "Product": {"Name": lambda c, m: c.product_names[0] if c.product_names else ""},
    "User": {"Id": lambda c, m: c.user_id or "", "Email": lambda c, m: c.user_email or ""},
    "Deployment": {"Region": lambda c, m: c.region or ""},
}


class Condition:
    """A compiled `@(...)` condition: `test(ctx, msg)` is True or False, never raises."""

    __slots__ = ("source", "fn")

    def __init__(self, source: str, fn: Fn) -> None:
        self.source = source
        self.fn = fn

    def test(self, ctx: Any, msg: Any = None) -> bool:
        try:
            return self.fn(ctx, msg) is True
        except (TypeError, ValueError, AttributeError, IndexError, KeyError):
            return False  # data of an unexpected shape: the branch is not taken

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return f"Condition({self.source!r})"


def parse_condition(source: str, *, allow_message: bool = False) -> Condition:
    """Parse `@(...)` into a `Condition`, or raise ConditionError naming the column."""
    text = source.strip()
    if not text.startswith("@(") or not text.endswith(")"):
        raise ConditionError('a condition is written "@(...)"', 1)
    lead = len(source) - len(source.lstrip())
    body = text[2:-1]
    parser = _Parser(_tokenize(body, lead + 3), allow_message)
    if parser.tok.kind == "end":
        raise ConditionError("the condition is empty", lead + 3)
    node = parser.parse_or()
    if parser.tok.kind != "end":
        raise parser.error("expected an operator or the end of the condition")
    if node.type not in ("bool", "any"):
        raise ConditionError(
            "a condition must be true or false (compare the value with == or a method)",
            lead + 3,
        )
    return Condition(text, node.fn)


class TextExpression:
    """A compiled `@(...)` text expression: parts joined with "+" (an event source's name)."""

    __slots__ = ("source", "fn")

    def __init__(self, source: str, fn: Fn) -> None:
        self.source = source
        self.fn = fn

    def evaluate(self, ctx: Any) -> str:
        return self.fn(ctx, None)


def parse_text_expression(source: str) -> TextExpression:
    """Parse `@(part + part ...)`, each part a string or a context value, into a
    `TextExpression`; raise ConditionError naming the column."""
    text = source.strip()
    if not text.startswith("@(") or not text.endswith(")"):
        raise ConditionError('an expression is written "@(...)"', 1)
    parser = _Parser(_tokenize(text[2:-1], 3), False)
    if parser.tok.kind == "end":
        raise ConditionError("the expression is empty", 3)
    parts = [parser.parse_unary().fn]
    while parser.at("+"):
        parser.take()
        parts.append(parser.parse_unary().fn)
    if parser.tok.kind != "end":
        raise parser.error('expected "+" or the end of the expression')
    fns = tuple(parts)
    return TextExpression(text, lambda c, m: "".join(_text(f(c, m)) for f in fns))
