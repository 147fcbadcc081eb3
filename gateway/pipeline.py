"""Compiles each API's effective onHandshake policy once per snapshot (none until policies land)."""


def compile_route_pipeline(api, products, catalog):
    return None
