"""Named values and policy fragments in the policy library: resolution, expansion, errors with
line and column, and the text shipped to nodes."""

import pytest

from gateway.policies import PolicyError, parse_document
from gateway.policies.document import validate_fragment
from gateway.policies.fragments import fragment_ids, resolve_text
from gateway.policies.namedvalues import (
    is_valid_name,
    referenced_names,
    resolve_named_values,
)

CHECK = (
    '<check-header name="{{header}}" failed-check-httpcode="401" '
    'failed-check-error-message="no"><value>{{key}}</value></check-header>'
)
DOC = f"<policies>\n  <inbound>\n    {CHECK}\n  </inbound>\n</policies>"


def test_values_fill_attributes_and_text_escaped_and_lines_kept():
    text = resolve_named_values(DOC, {"header": "X-Key", "key": "a<b&\"c'\nd"})
    assert text.count("\n") == DOC.count("\n")
    policy = parse_document(text).inbound[0]
    assert policy.name == "X-Key" and policy.values == ("a<b&\"c'\nd",)


def test_unknown_and_malformed_names_name_line_and_column():
    with pytest.raises(PolicyError) as info:
        resolve_named_values(DOC, {"header": "X"})
    assert info.value.line == 3 and info.value.column == 104, str(info.value)
    assert "unknown named value {{key}}" in str(info.value)
    with pytest.raises(PolicyError) as info:
        resolve_named_values("<policies>{{bad name}}</policies>", {})
    assert "not a valid named value name" in str(info.value) and info.value.column == 11


def test_comments_are_left_alone_and_a_value_cannot_hold_another():
    xml = "<policies><!-- {{later}} --><inbound /></policies>"
    assert resolve_named_values(xml, {}) == xml
    assert referenced_names(xml) == set()
    with pytest.raises(PolicyError, match="was not resolved"):
        parse_document(resolve_named_values(DOC, {"header": "X", "key": "{{other}}"}))


@pytest.mark.parametrize(
    ("name", "ok"),
    [("a", True), ("A.b-c_9", True), ("x" * 256, True), ("x" * 257, False), ("a b", False),
     ("", False), ("a/b", False), ("é", False)],
)  # fmt: skip
def test_azure_name_rules(name, ok):
    assert is_valid_name(name) is ok


FRAGMENTS = {
    "key-check": f"<fragment>\n  {CHECK}\n</fragment>",
    "outer": '<fragment><include-fragment fragment-id="key-check" /></fragment>',
    "size": '<fragment><limit-message-size max-bytes="10" /></fragment>',
}
VALUES = {"header": "X-Key", "key": "k1"}


def resolved_fragments():
    return {k: resolve_named_values(v, VALUES) for k, v in FRAGMENTS.items()}


def test_includes_expand_in_sections_branches_and_on_message():
    xml = (
        "<policies><inbound><base />"
        '<include-fragment fragment-id="outer" />'
        '<choose><when condition="@(true)"><include-fragment fragment-id="key-check"/></when>'
        '<otherwise><include-fragment fragment-id="key-check"/></otherwise></choose>'
        '</inbound><on-message><inbound><include-fragment fragment-id="size" /></inbound>'
        "</on-message></policies>"
    )
    doc = parse_document(xml, fragments=resolved_fragments())
    assert [p.tag for p in doc.inbound] == ["base", "check-header", "choose"]
    assert doc.inbound[2].whens[0].policies[0].name == "X-Key"
    assert doc.inbound[2].otherwise[0].values == ("k1",)
    assert doc.on_message_inbound[0].tag == "limit-message-size"
    # What nodes receive: plain text that parses to the same document without the catalog.
    shipped = resolve_text(xml, VALUES, resolved_fragments())
    assert "include-fragment" not in shipped and "{{" not in shipped
    assert parse_document(shipped) == doc
    assert fragment_ids(xml) == {"outer", "key-check", "size"}


def test_unknown_fragment_and_cycles_name_line_and_column():
    xml = '<policies>\n<inbound>\n  <include-fragment fragment-id="nope" />\n</inbound></policies>'
    with pytest.raises(PolicyError) as info:
        parse_document(xml, fragments={})
    assert (info.value.line, info.value.column) == (3, 3)
    assert "unknown policy fragment 'nope'" in str(info.value)
    with pytest.raises(PolicyError, match="unknown policy fragment"):
        parse_document(xml)  # a node given unexpanded text fails closed
    cycle = {
        "a": '<fragment><include-fragment fragment-id="b" /></fragment>',
        "b": '<fragment>\n <include-fragment fragment-id="a" /></fragment>',
    }
    with pytest.raises(PolicyError) as info:
        validate_fragment(cycle["a"], "a", cycle)
    assert "cycle: a -> b -> a" in str(info.value) and "fragment 'b'" in str(info.value)
    assert (info.value.line, info.value.column) == (2, 2)


def test_a_fragment_in_the_wrong_section_names_the_fragment():
    xml = '<policies><on-message><inbound><include-fragment fragment-id="key-check" />'
    xml += "</inbound></on-message></policies>"
    with pytest.raises(PolicyError) as info:
        parse_document(xml, fragments=resolved_fragments())
    assert "in policy fragment 'key-check'" in str(info.value) and info.value.line == 2


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        ("<policies />", "must be <fragment>"),
        ("<fragment><base /></fragment>", "not allowed in a policy fragment"),
        ("<fragment><nope /></fragment>", "unknown policy <nope>"),
        ('<fragment a="1" />', "takes no attributes"),
        ("<fragment><check-header /></fragment>", "check-header"),
        ('<fragment><include-fragment fragment-id="x" extra="1"/></fragment>', "extra"),
    ],
)
def test_fragment_validation(xml, words):
    with pytest.raises(PolicyError, match=words):
        validate_fragment(xml, "f", {"x": "<fragment />"})


def test_fragments_of_either_kind_validate():
    for name, text in resolved_fragments().items():
        assert validate_fragment(text, name, resolved_fragments()) == 1
