"""A run's results folder: ``manifest.json`` says ``"incomplete"`` from the first byte written until the last
file is in place, then ``"complete"`` (written atomically by rename).

gridledger replaces only a folder it made itself: each results folder carries a marker file (``MARKER``, with
the run id that made it). A folder without the marker is never deleted nor written into unless it is empty; the
working directory, any folder above it, the home folder and the file system's root are never replaced."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from sim.files.series import file_sha256

MANIFEST = "manifest.json"
MARKER = ".gridledger-results"  # a results folder gridledger made: {"made_by": "gridledger", "run_id": ...}
# every data file's sha256 is in the manifest ("sha256", ``data_hashes``): an edit of one file alone is caught; a
# forger who rewrites the manifest too is caught by ``gridledger verify`` (the chain archive re-executed), not here


class ResultsExistError(FileExistsError):
    """The output folder holds a complete run and ``force`` was not given."""


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None: no manifest, or none that can be read (not a folder, not JSON, not a table)."""
    try:
        m = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):  # a file given as the folder, no permission, not UTF-8, not JSON
        return None
    return m if isinstance(m, dict) else None


def is_complete(folder: Path) -> bool:
    m = read_manifest(folder)
    return bool(m) and m.get("status") == "complete"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def made_by_gridledger(folder: Path) -> bool:
    """Whether ``folder`` carries gridledger's results marker."""
    try:
        return json.loads((folder / MARKER).read_text()).get("made_by") == "gridledger"
    except (OSError, ValueError, AttributeError):
        return False


def _protected(folder: Path) -> str | None:
    """Why ``folder`` may never be replaced, or None."""
    here, target = Path.cwd().resolve(), folder.resolve()
    if target == here or target in here.parents:
        return "it is the working directory or a folder above it"
    if target == Path.home().resolve():
        return "it is the home folder"
    if target == Path(target.anchor):
        return "it is the root of the file system"
    return None


def _make_room(folder: Path, *, force: bool) -> None:
    """``prepare_folder``'s checks and the folder's creation (OSError or ValueError from the file system)."""
    if folder.exists() or folder.is_symlink():
        reason = _protected(folder) if folder.is_dir() else None
        if reason:
            raise ResultsExistError(f"{folder}: refusing to write results there: {reason}; choose another --out")
        if not folder.is_dir() or folder.is_symlink():
            raise ResultsExistError(f"{folder} exists and is not a folder; choose another --out")
        if made_by_gridledger(folder):
            if is_complete(folder) and not force:
                raise ResultsExistError(f"{folder} holds a complete run; pass --force to replace it")
            shutil.rmtree(folder)
        elif any(folder.iterdir()):
            raise ResultsExistError(f"{folder} exists and is not a results folder gridledger made (no {MARKER}); "
                                    "it is left untouched: choose another --out")
    folder.mkdir(parents=True, exist_ok=True)


def prepare_folder(folder: Path, *, force: bool, manifest: dict[str, Any]) -> Path:
    """Create ``folder`` for a new run, marked as gridledger's and incomplete. An incomplete run of gridledger's
    there is replaced, a complete one only with ``force``; an empty folder is used as it is; anything else is
    refused (``ResultsExistError``) and left untouched."""
    folder = Path(folder)
    try:
        _make_room(folder, force=force)
    except ResultsExistError:
        raise
    except (OSError, ValueError) as exc:  # a NUL in the name, a name too long, a parent that is a file, …
        shown = str(folder) if len(str(folder)) <= 120 else str(folder)[:120] + "…"
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ResultsExistError(f"{shown!r}: cannot be a results folder: {reason}; choose another --out") from None
    write_json(folder / MARKER, {"made_by": "gridledger", "run_id": manifest.get("run_id")})
    write_json(folder / MANIFEST, {**manifest, "status": "incomplete"})
    return folder


def default_folder(root: Path, run_id: str) -> Path:
    """``root/run_id``, or ``root/run_id-2``, ``-3`` … if a complete run, or anything gridledger did not make,
    already sits there."""
    candidate, n = root / run_id, 1
    while candidate.exists() and (is_complete(candidate) or not made_by_gridledger(candidate)):
        n += 1
        candidate = root / f"{run_id}-{n}"
    return candidate


def complete(folder: Path) -> bool:
    """Whether ``folder`` is a complete results folder; if not, say so on stderr."""
    if is_complete(folder):
        return True
    print(f"{folder}: not a complete gridledger results folder", file=sys.stderr)
    return False


def data_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file of the run in ``folder`` by its relative path, but the manifest, the marker and the
    views ``gridledger report`` may rewrite (``report.html``, ``plots/``)."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return {f: file_sha256(folder / f) for f in files
            if f not in (MANIFEST, MARKER, "report.html") and not f.startswith("plots/")}


def changed_files(folder: Path) -> list[str]:
    """The data files whose sha256 differs from the one the manifest recorded when the run wrote them (a folder
    written before the manifest kept them has none to compare: an empty list)."""
    recorded = (read_manifest(folder) or {}).get("sha256") or {}
    out = []
    for name, digest in sorted(recorded.items()):
        path = folder / name
        if not path.is_file():
            out.append(f"{name}: missing (the manifest records its sha256)")
        elif file_sha256(path) != digest:
            out.append(f"{name}: sha256 differs from the manifest's: edited after the run")
    return out
