"""Where telemetry batches wait until they are written: bounded, oldest first.

`MemorySpool` (managed processes) keeps batches in memory; `DiskSpool` (self-hosted nodes)
keeps each batch in its own file under PORTICO_VAR_DIR (mode 0600, written atomically), so a
node that restarts during a control-plane outage still sends them when it returns. Both refuse
a batch that would take them past `max_records`: only then is anything dropped.
"""

import json
import os
import tempfile
import time
from collections import deque
from pathlib import Path


def _weight(records: int) -> int:
    return max(records, 1)  # a batch of per-minute figures only still takes room


class MemorySpool:
    def __init__(self, max_records: int) -> None:
        self.max_records = max_records
        self.records = 0
        self._batches: deque[tuple[dict, int]] = deque()

    def add(self, batch: dict) -> bool:
        weight = _weight(len(batch["records"]))
        if self.records + weight > self.max_records:
            return False
        self._batches.append((batch, weight))
        self.records += weight
        return True

    def peek(self) -> dict | None:
        return self._batches[0][0] if self._batches else None

    def done(self, batch: dict) -> None:
        """`batch` (the one `peek` gave) was written: forget it."""
        if self._batches and self._batches[0][0] is batch:
            _batch, weight = self._batches.popleft()
            self.records -= weight

    def __len__(self) -> int:
        return len(self._batches)


class DiskSpool:
    """One JSON file per batch, named `<time ns>-<records>-<batch id>.json`, read in name order.

    Worker processes of one node share the directory: a batch two of them send is stored once
    by the control plane (batch ids), and a file already gone is simply skipped."""

    def __init__(self, directory: Path, max_records: int, encode) -> None:
        self.directory = Path(directory)
        self.max_records = max_records
        self.encode = encode  # batch -> JSON-ready dict
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.json"))

    @property
    def records(self) -> int:
        return sum(_weight(int(path.name.split("-")[1])) for path in self._files())

    def add(self, batch: dict) -> bool:
        count = len(batch["records"])
        if self.records + _weight(count) > self.max_records:
            return False
        name = f"{time.time_ns():020d}-{count}-{batch['batch_id']}.json"
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.directory)  # 0600
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(self.encode(batch), handle, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.directory / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def peek(self) -> dict | None:
        for path in self._files():
            try:
                with open(path) as handle:
                    batch = json.load(handle)
            except FileNotFoundError:  # another worker sent it meanwhile
                continue
            except ValueError:  # a torn file cannot happen (atomic rename); keep it aside
                path.rename(path.with_suffix(".corrupt"))
                continue
            batch["_path"] = str(path)
            return batch
        return None

    def done(self, batch: dict) -> None:
        """`batch` (the one `peek` gave) was written: delete its file."""
        Path(batch["_path"]).unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self._files())
