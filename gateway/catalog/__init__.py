"""The contract between the planes (catalog dataclasses, wire formats, ticket codec, key hash)."""
