"""Every log record stays on one line: client strings with line breaks are escaped (issue 12
item 12), whichever logger writes them."""

import logging

from gateway.logredact import RedactSecrets, escape_line_breaks


def test_line_breaks_are_escaped_in_every_message():
    record = logging.LogRecord(
        "portico.gateway", logging.INFO, __file__, 1, "refused path=%s", ("/x\r\nFORGED",), None
    )
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "refused path=/x\\r\\nFORGED"


def test_every_kind_of_line_break_is_escaped_and_plain_text_untouched():
    assert escape_line_breaks("a\nb\rc\u2028d\x85e\x0bf") == "a\\nb\\rc\\u2028d\\x85e\\x0bf"
    assert escape_line_breaks("Zoë 名前\tok") == "Zoë 名前\tok"
