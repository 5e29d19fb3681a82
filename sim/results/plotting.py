"""Figures of the results folder: matplotlib without a display, one way to write a plot, and what every plot
shares: names instead of addresses, local time axes (the site's zone, said on the axis) and settlement periods
turned into local times.

A plot is a PNG (identical bytes on a rerun); its words — title, axis labels, tick labels, legend — are written
into the PNG's ``Description`` text chunk, which the report uses as the figure's alternative text (so a reader
without the image, and the report's tests, see what the figure says)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def _texts(fig) -> list[str]:
    """Every word the figure shows: titles, axis labels, tick labels, legend entries (drawn first)."""
    fig.canvas.draw()
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        out += [ax.xaxis.get_offset_text().get_text()]
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in dict.fromkeys(" ".join(x.split()) for x in out) if t]


def save(fig, path: Path) -> Path:
    """Write ``fig`` as PNG (110 dpi, no software stamp, so reruns give identical bytes) with its words in the
    ``Description`` chunk, close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None, "Description": " | ".join(_texts(fig))})
    plt.close(fig)
    return path


def description(path: Path) -> str:
    """The words of a plot written by ``save`` ('' for another PNG)."""
    from PIL import Image

    with Image.open(path) as im:
        return im.text.get("Description", "")


@dataclass(frozen=True)
class RunInfo:
    """What a plot needs to know of its run, read from the folder: the site's time zone, the run's start (local),
    the settlement period, and names for account and contract addresses."""

    tz: str = "UTC"
    start: pd.Timestamp = pd.Timestamp("1970-01-01", tz="UTC")
    settlement_s: int = 3600
    names: dict[str, str] = field(default_factory=dict)  # lower-case address -> name

    def name(self, address: str) -> str:
        """The name of an account or contract (its label without the role prefix), else the address shortened."""
        return self.names.get(str(address).lower(), str(address)[:10] + "…")

    def period_time(self, periods) -> pd.DatetimeIndex:
        """The local start time of settlement periods (numbers from the run's start)."""
        return self.start + pd.to_timedelta(pd.Series(periods).to_numpy() * self.settlement_s, unit="s")

    def local(self, times) -> pd.DatetimeIndex:
        """UTC times (the timeseries' ``time``) in the site's zone."""
        return pd.DatetimeIndex(times).tz_convert(self.tz)


def address_names(summary: dict) -> dict[str, str]:
    """Lower-case address -> name, from summary.json's address book (``prosumer/pv-battery-01`` names
    ``pv-battery-01``) and contracts."""
    chain = summary.get("chain", {})
    names = {str(a).lower(): label.split("/", 1)[-1] for label, a in chain.get("accounts", {}).items()}
    names.update({str(a).lower(): f"{c} contract" for c, a in chain.get("contracts", {}).items()})
    return names


def run_info(folder: Path) -> RunInfo:
    """The ``RunInfo`` of a results folder (defaults where manifest.json or summary.json is missing)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        summary = {}
    scenario = manifest.get("scenario") or {}
    run, site = scenario.get("run", {}), scenario.get("site", {})
    tz = site.get("tz") or "UTC"
    start = pd.Timestamp(run["start"]) if run.get("start") else pd.Timestamp("1970-01-01")
    start = start.tz_localize(tz) if start.tzinfo is None else start.tz_convert(tz)
    settlement_s = run.get("settlement_s") or summary.get("run", {}).get("settlement_s") or 3600
    return RunInfo(tz=tz, start=start, settlement_s=int(settlement_s), names=address_names(summary))


def info_for(plots: Path) -> RunInfo:
    """The ``RunInfo`` of the run whose ``plots`` folder this is."""
    return run_info(Path(plots).parent)


def time_axis(ax, info: RunInfo) -> None:
    """Date ticks in the site's local time, and an axis label naming the zone."""
    locator = mdates.AutoDateLocator(tz=info.tz)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=info.tz))
    ax.set_xlabel(f"local time ({info.tz})")
