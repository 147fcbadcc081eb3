"""Micro-benchmark of onMessage policies per message (library only): prints figures, asserts
nothing. The relay adds one await of the chain per message, only for APIs with such policies.

Run: .venv/bin/python bench/message_policies_micro.py
"""

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.policies import PolicyRuntime, compile_policy, effective_document  # noqa: E402

SCHEMA = (
    '{"type": "object", "required": ["op", "n"], '
    '"properties": {"op": {"type": "string"}, "n": {"type": "integer"}}}'
)
CASES = {
    "limit-message-size": '<limit-message-size max-bytes="65536"/>',
    "rate-limit-messages (per connection)": (
        '<rate-limit-messages calls="100000000" renewal-period="60"/>'
    ),
    "rate-limit-messages (counter-key, memory://)": (
        '<rate-limit-messages calls="100000000" renewal-period="60" counter-key="bench"/>'
    ),
    "log-messages (1 %)": '<log-messages sampling-percentage="1"/>',
    "validate-message (small schema)": (
        f'<validate-message action="close"><schema>{SCHEMA}</schema></validate-message>'
    ),
    'choose on Json("op") (no branch taken)': (
        '<choose><when condition=\'@(context.Message.Json("op") == "debug")\'>'
        '<limit-message-size max-bytes="1"/></when></choose>'
    ),
    "choose on Size (no branch taken)": (
        "<choose><when condition='@(context.Message.Size &gt; 65536)'>"
        '<limit-message-size max-bytes="1"/></when></choose>'
    ),
}
MESSAGE = '{"op": "say", "n": 42}'
COUNT = 20000


async def per_message_us(xml_policy: str) -> float:
    doc = f"<policies><on-message><inbound>{xml_policy}</inbound></on-message></policies>"
    pipeline = compile_policy(effective_document(doc, [], None), PolicyRuntime())
    check = pipeline.messages.start(None).inbound
    size = len(MESSAGE)
    for _ in range(200):
        await check(MESSAGE, size)
    started = time.process_time()
    for _ in range(COUNT):
        assert await check(MESSAGE, size) is None
    return (time.process_time() - started) / COUNT * 1e6


def main() -> None:
    print(f"{'policy':48} µs CPU per message ({COUNT} messages, 64 B-ish JSON)")
    for name, xml in CASES.items():
        print(f"{name:48} {asyncio.run(per_message_us(xml)):8.2f}")


if __name__ == "__main__":
    main()
