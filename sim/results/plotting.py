"""Figures of the results folder: matplotlib without a display, and one way to write a plot."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save(fig, path: Path) -> Path:
    """Write ``fig`` as PNG (110 dpi, no software stamp, so reruns give identical bytes), close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path
