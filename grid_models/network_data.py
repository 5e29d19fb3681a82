"""SimBench and file networks (``grid_models.networks``) read, checked, normalised and probed once, then kept in the
process and pickled to a cache file, as the Kerber feeders are (``network_cache_file``)."""

from __future__ import annotations

import copy
import importlib.metadata as md
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandapower as pp

from grid_models.direct_flow import GridModelFlow
from grid_models.network_source import SIMBENCH_PREFIX, file_sha256, network_kind
from grid_models.networks import LoadProfiles, network_load_profiles, network_problems, normalise, read_network

CACHE_FORMAT = 1  # bump when the way a network is built changes (seeding, builder arguments)


def network_cache_file(network: str) -> Path:
    """Where a built network is kept between processes: ``$GRIDLEDGER_CACHE`` (or ``~/.cache/gridledger``)
    ``/feeders/<network>-pandapower<version>-v<CACHE_FORMAT>.pkl``."""
    root = Path(os.environ.get("GRIDLEDGER_CACHE") or Path.home() / ".cache" / "gridledger")
    return root / "feeders" / f"{network}-pandapower{pp.__version__}-v{CACHE_FORMAT}.pkl"


def cached(path: Path, build):
    """The object pickled at ``path``, or else ``build()``'s, then pickled there (atomically)."""
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass  # missing or unreadable: build it again
    obj = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs the build next time
    return obj


NETWORK_FORMAT = 1  # bump when the way a SimBench or file network is checked or normalised changes


@dataclass(frozen=True)
class NetworkData:
    """A SimBench or file network, read, checked and normalised once (``grid_models.networks``).

    ``problems``: why it cannot be used at all (then ``net`` is None); ``direct_problem``: why the direct
    lightsim2grid path cannot solve it (None: it agrees with ``pp.runpp`` within 1e-6 pu on the network's own
    operating point and on half of it); ``profiles``: the load profiles it carries, or None and
    ``profiles_problem``; ``left_out``: elements in service the twin does not use (``{"sgen": 4}``).
    """

    net: object | None
    problems: tuple[str, ...]
    direct_problem: str | None = None
    profiles: LoadProfiles | None = None
    profiles_problem: str | None = None
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def households(self) -> int:
        return len(self.net.load) if self.net is not None else 0


_DATA: dict[str, NetworkData] = {}


def network_key(network: str) -> str:
    """The cache key of a SimBench or file network: its code and the simbench release, or the file's sha256."""
    if network_kind(network) == "simbench":
        return f"simbench-{network[len(SIMBENCH_PREFIX):]}-simbench{md.version('simbench')}-n{NETWORK_FORMAT}"
    return f"file-{file_sha256(network)[:32]}-n{NETWORK_FORMAT}"


def network_data(network: str) -> NetworkData:
    """A SimBench (``simbench:<code>``) or file (absolute ``.json`` path) network, checked and normalised, with
    its load profiles; kept in the process and pickled to ``network_cache_file`` like the Kerber feeders (a file
    by its sha256, so an edited file is read again). A missing file or an unknown code raises NetworkError."""
    key = network_key(network)
    if key not in _DATA:
        _DATA[key] = cached(network_cache_file(key), lambda: _prepare(read_network(network)))
    return _DATA[key]


def _prepare(raw) -> NetworkData:
    profiles, profiles_problem = network_load_profiles(raw)
    problems = network_problems(raw)
    if problems:
        return NetworkData(None, tuple(problems), profiles_problem=profiles_problem)
    net, left_out = normalise(raw)
    try:
        pp.runpp(copy.deepcopy(net), numba=False)
    except pp.LoadflowNotConverged:
        return NetworkData(None, ("the power flow does not converge at the network's own operating point (its "
                                  "loads' p_mw)",), profiles_problem=profiles_problem)
    return NetworkData(net, (), _direct_path_problem(net), profiles, profiles_problem, left_out)


def _direct_path_problem(net) -> str | None:
    """Why the direct lightsim2grid path cannot solve ``net`` as ``pp.runpp`` does (None: it can): both solve the
    network's own loads, then half of them, from the first solution."""
    try:
        ref = copy.deepcopy(net)
        pp.runpp(ref, numba=False)
        none = np.arange(0)
        flow = GridModelFlow(ref, ref.load.index.to_numpy(), none, none)
        half = ref.load.p_mw.to_numpy() / 2
        flow.set_injections(half, np.zeros(0), np.zeros(0))
        result, _ = flow.solve(none)
        ref.load["p_mw"] = half
        pp.runpp(ref, numba=False, init="results")
    except Exception as exc:  # noqa: BLE001 - lightsim2grid's converter raises RuntimeError, ValueError, …
        return f"the direct lightsim2grid path cannot take this network ({type(exc).__name__}: {exc})"
    if result is None:
        return "the direct lightsim2grid path does not converge on this network"
    diff = float(np.abs(np.abs(flow.V) - ref.res_bus.vm_pu.to_numpy()).max())
    if not diff <= 1e-6:
        return f"the direct lightsim2grid path differs from pp.runpp by {diff:.1e} pu on this network"
    return None
