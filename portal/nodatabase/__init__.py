"""A database backend for self-hosted gateway nodes, which must never use a database."""
