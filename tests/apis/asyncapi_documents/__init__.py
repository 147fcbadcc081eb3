"""Realistic AsyncAPI documents (2.6 and 3.0, YAML and JSON) for the tests and docs/asyncapi.md."""

from pathlib import Path

HERE = Path(__file__).parent


def text(name: str) -> str:
    return (HERE / name).read_text()
