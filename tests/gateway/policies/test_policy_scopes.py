"""Merging API, product and global documents through <base/>."""

# ruff: noqa: E501 - policy XML is clearer on one line

from __future__ import annotations

import pytest

from gateway.policies import PolicyError, effective_document, parse_document
from gateway.policies.headers import SetHeader


def doc(*names: str, base: bool = True, where: str = "end") -> str:
    items = "".join(f'<set-header name="{n}"><value>v</value></set-header>' for n in names)
    b = "<base />" if base else ""
    body = b + items if where == "start" else items + b
    return f"<policies><inbound>{body}</inbound><outbound><base /></outbound></policies>"


def names(effective) -> list[str]:
    return [p.name for p in effective.inbound if isinstance(p, SetHeader)]


def test_base_at_api_product_and_global():
    eff = effective_document(
        doc("A1", where="start"),
        [doc("P1", where="end"), doc("Q1", where="start")],
        doc("G1", base=False),
    )
    # api: <base/> first -> products in order; P1's base (at end) -> global once; Q1 inherits too
    assert names(eff) == ["P1", "G1", "Q1", "A1"]
    assert eff.warnings == ()
    assert "<base" not in eff.to_xml()
    assert parse_document(eff.to_xml(), "global") == eff.document


def test_missing_documents_behave_as_base():
    eff = effective_document(None, [None, ""], doc("G", base=False))
    assert names(eff) == ["G"]
    assert names(effective_document(doc("A"), [], None)) == ["A"]
    assert names(effective_document(None, [], None)) == []


def test_no_base_drops_parent_policies():
    eff = effective_document(doc("A", base=False), [doc("P")], doc("G", base=False))
    assert names(eff) == ["A"]
    eff = effective_document(doc("A"), [doc("P", base=False)], doc("G", base=False))
    assert names(eff) == ["A", "P"]


def test_inherited_excluded_policy_skipped_with_warning():
    product = '<policies><inbound><base /><cors /><set-header name="P"><value>v</value></set-header></inbound></policies>'
    eff = effective_document(doc("A", where="start"), [product], None)
    assert names(eff) == ["P", "A"]
    assert len(eff.warnings) == 1 and "cors" in eff.warnings[0] and "product 1" in eff.warnings[0]
    with pytest.raises(PolicyError):
        parse_document(product, "product")


def test_global_scope_base_refused_strictly_and_ignored_leniently():
    with pytest.raises(PolicyError, match="global"):
        parse_document(doc("G"), "global")
    assert names(effective_document(None, [], doc("G"))) == ["G"]
