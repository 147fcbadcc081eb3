"""The last good configuration of a self-hosted node, on disk: read at start, replaced atomically.

The file holds the control plane's JSON answer (subscription keys only as keyed hashes) and its
ETag. It is written to a temporary file created with mode 0600, flushed to disk and renamed over
the old one, so a crash or a second worker writing at the same moment never leaves half a file.
"""

import json
import os
import tempfile
from pathlib import Path


def config_path(var_dir: Path, gateway: str) -> Path:
    return Path(var_dir) / f"gateway-{gateway}.config.json"


def save(path: Path, *, etag: str, catalog: dict) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"etag": etag, "catalog": catalog}, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> tuple[str, dict] | None:
    """(etag, catalog JSON) from the saved file, or None when there is none."""
    try:
        with open(path) as handle:
            saved = json.load(handle)
    except FileNotFoundError:
        return None
    return saved["etag"], saved["catalog"]
