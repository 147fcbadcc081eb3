"""Azure API Management onHandshake policies for WebSocket APIs: parse, validate, evaluate.

Pure Python (no Django). Save time: `parse_document(xml, scope)`. Catalog snapshot:
`effective_document(...)` then `compile_policy(effective, runtime)`. Handshake:
`await pipeline.run(ctx)` -> `Refusal | None`.
"""

from .context import Change, HandshakeContext, Refusal, apply_changes
from .document import (
    EXCLUDED_ON_HANDSHAKE,
    POLICY_TYPES,
    EffectivePolicy,
    PolicyDocument,
    effective_document,
    merge,
    parse_document,
    to_xml,
    validate_document,
)
from .errors import PolicyError
from .expressions import SUPPORTED_EXPRESSIONS
from .jwt_validation import Jwt
from .pipeline import CompiledPipeline, compile_policy
from .runtime import PolicyRuntime
from .snippets import SNIPPETS

__all__ = [
    "EXCLUDED_ON_HANDSHAKE",
    "POLICY_TYPES",
    "SNIPPETS",
    "SUPPORTED_EXPRESSIONS",
    "Change",
    "CompiledPipeline",
    "EffectivePolicy",
    "HandshakeContext",
    "Jwt",
    "PolicyDocument",
    "PolicyError",
    "PolicyRuntime",
    "Refusal",
    "apply_changes",
    "compile_policy",
    "effective_document",
    "merge",
    "parse_document",
    "to_xml",
    "validate_document",
]
