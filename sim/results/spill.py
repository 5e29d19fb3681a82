"""A run's spill folder: records a long run would otherwise hold in memory (readings log rows, decoded events)
written out in chunks as they come and read back once, when the results are assembled.

Chunks are pickled, so what is read back is exactly what was written (dtypes, None and NaN included). The
folder is ``spill/`` inside the run's results folder when there is one, else a private temporary folder. It is
removed once the results are assembled, or when the object is collected (a run that raised) or the process
exits; a process killed outright leaves it in a results folder whose manifest says incomplete, which a rerun
replaces whole.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

SPILL_FOLDER = "spill"


class SpillDir:
    """Numbered chunk files in one folder: ``write(obj)`` -> path, ``read(path)`` -> obj; ``remove()`` deletes
    the folder and everything in it."""

    def __init__(self, root: Path | None = None):
        if root is None:
            self.root = Path(tempfile.mkdtemp(prefix="gridledger-spill-"))
        else:
            self.root = Path(root)
            self.root.mkdir(parents=True, exist_ok=True)
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.root), True)
        self._n = 0

    def write(self, obj: Any, stem: str = "chunk") -> Path:
        """Pickle ``obj`` to a new file in the folder; its path."""
        path = self.root / f"{stem}-{self._n:06d}.pkl"
        self._n += 1
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        return path

    def read(self, path: Path) -> Any:
        """The object written as ``path`` (found by its name in the folder, wherever the folder has moved)."""
        with open(self.root / Path(path).name, "rb") as f:
            return pickle.load(f)

    def move_out(self) -> None:
        """Move the folder's chunks to a private temporary folder (removed as this object is), so that a results
        folder can be completed without them while what was spilled stays readable."""
        new = Path(tempfile.mkdtemp(prefix="gridledger-spill-"))
        if self.root.exists():
            for path in sorted(self.root.iterdir()):
                shutil.move(str(path), str(new / path.name))
        self._remove()
        self.root = new
        self._remove = weakref.finalize(self, shutil.rmtree, str(new), True)

    def remove(self) -> None:
        """Delete the folder (once the spilled records have been read back)."""
        self._remove()
