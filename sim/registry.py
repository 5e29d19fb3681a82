"""The registry: the one central list of capabilities. Each capability declares what it adds in its own
package's ``__init__`` (a ``CapabilityInfo``: scenario sections, class, RNG streams, plots, CLI commands, sweep
KPIs); adding a capability is a new package here plus one line below. The order is the order capabilities are
built, open accounts and act each step: append only, so that existing runs stay identical."""

from __future__ import annotations

from sim.capabilities import certificates, dsr, heat, insurance, tariffs, vpp
from sim.capabilities.base import CapabilityInfo, load

REGISTRY: tuple[CapabilityInfo, ...] = (vpp.INFO, certificates.INFO, insurance.INFO, dsr.INFO, heat.INFO,
                                         tariffs.INFO)


def _check(registry: tuple[CapabilityInfo, ...]) -> None:
    """Names, sections and RNG stream indices must be unique across capabilities."""
    for what, values in (("name", [i.name for i in registry]),
                         ("section", [s for i in registry for s in i.sections]),
                         ("RNG stream", [s for i in registry for s in i.rng_streams]),
                         ("RNG stream index", [n for i in registry for n in i.rng_streams.values()])):
        if len(set(values)) != len(values):
            raise RuntimeError(f"capability registry: duplicate {what} in {values}")


_check(REGISTRY)


def plotters() -> list:
    """Every capability's plotter, in registry order (``f(timeseries, ledger, plots_dir) -> [paths]``)."""
    return [load(info.plots) for info in REGISTRY if info.plots]
