"""Relaying frames between client and backend: framed relay, tunnel, frames, timer wheel."""
