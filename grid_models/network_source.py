"""Where a feeder network comes from, told from its name alone (no pandapower import): a Kerber feeder's name,
``simbench:<code>``, or a pandapower JSON file (``.json``), identified by its sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

SIMBENCH_PREFIX = "simbench:"


class NetworkError(ValueError):
    """A network that cannot be used; the message says why."""


def network_kind(name: str) -> str | None:
    """``"simbench"`` for ``simbench:<code>``, ``"file"`` for a ``.json`` path, else None."""
    if name.startswith(SIMBENCH_PREFIX):
        return "simbench"
    if name.lower().endswith(".json"):
        return "file"
    return None


def file_sha256(path: str | Path) -> str:
    """sha256 of a network file's bytes; a missing file raises NetworkError naming it."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO would block the read, a device never end
        raise NetworkError(f"network file {path}: not a regular file (a folder or special file)")
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise NetworkError(f"no such network file: {path}") from None
    except OSError as exc:
        raise NetworkError(f"cannot read network file {path}: {exc}") from None
