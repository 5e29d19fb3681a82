"""A run's results folder: ``manifest.json`` says ``"incomplete"`` from the first byte written until the last
file is in place, then ``"complete"`` (written atomically by rename)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


class ResultsExistError(FileExistsError):
    """The output folder holds a complete run and ``force`` was not given."""


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def is_complete(folder: Path) -> bool:
    m = read_manifest(folder)
    return bool(m) and m.get("status") == "complete"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def prepare_folder(folder: Path, *, force: bool, manifest: dict[str, Any]) -> Path:
    """Create ``folder`` for a new run, marked incomplete. An incomplete run there is replaced; a complete one
    only with ``force``."""
    folder = Path(folder)
    if folder.exists():
        if is_complete(folder) and not force:
            raise ResultsExistError(f"{folder} holds a complete run; pass --force to replace it")
        if folder.is_dir() and (read_manifest(folder) is not None or force or not any(folder.iterdir())):
            shutil.rmtree(folder)
        elif folder.is_dir():
            raise ResultsExistError(f"{folder} exists and is not a gridledger results folder; choose another --out")
        else:
            raise ResultsExistError(f"{folder} exists and is not a folder")
    folder.mkdir(parents=True)
    write_json(folder / MANIFEST, {**manifest, "status": "incomplete"})
    return folder


def default_folder(root: Path, run_id: str) -> Path:
    """``root/run_id``, or ``root/run_id-2``, ``-3`` … if a complete run already sits there."""
    candidate, n = root / run_id, 1
    while candidate.exists() and (is_complete(candidate) or not candidate.is_dir()):
        n += 1
        candidate = root / f"{run_id}-{n}"
    return candidate


def complete(folder: Path) -> bool:
    """Whether ``folder`` is a complete results folder; if not, say so on stderr."""
    if is_complete(folder):
        return True
    print(f"{folder}: not a complete gridledger results folder", file=sys.stderr)
    return False
