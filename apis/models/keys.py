"""Random secrets and the hashes stored for them: subscription keys, node tokens."""

import hashlib
import secrets


def generate_secret() -> str:
    """A random, url-safe secret of 256 bits (subscription keys, key-hash secrets)."""
    return secrets.token_urlsafe(32)


NODE_TOKEN_PREFIX = "pgw_"


def generate_node_token() -> str:
    """A gateway node token: recognisable by its prefix (secret scanners), 256 random bits."""
    return NODE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_node_token(token: str) -> str:
    """Node tokens are stored as SHA-256: they are long and random, so no slow hash is needed."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def unusable_token_hash() -> str:
    """The hash of a token nobody was shown: a new gateway has no usable token until one is
    generated on its page (which shows it once)."""
    return hash_node_token(generate_node_token())
