"""How a gateway node runs: uvicorn, its protocols, worker processes and socket helpers."""
