"""``gridledger validate FILE``: a scenario, a HIL device table or a sweep file, recognised by its sections
(``[run]``: a scenario; ``[sweep]``/``[[points]]``: a sweep file; ``[[devices]]`` without ``[run]``: a device
table), checked as what it is; errors name the kind ("invalid device table", "invalid sweep file")."""

from __future__ import annotations

from pathlib import Path


def file_kind(data: dict) -> str:
    if "sweep" in data or "points" in data:
        return "sweep file"
    if "run" not in data and ("devices" in data or "simulator" in data or "faults" in data):
        return "device table"
    return "scenario"


def validate_file(path: str) -> str:
    """The line ``gridledger validate`` prints for a valid file; raises ScenarioError naming the kind."""
    from sim.schema import read_toml

    kind = file_kind(read_toml(Path(path), "TOML"))
    if kind == "device table":
        return _device_table(path)
    if kind == "sweep file":
        return _sweep(path)
    return _scenario(path)


def _device_table(path: str) -> str:
    from sim.hil.table import load_device_table

    t = load_device_table(path)
    kinds = {k: sum(d.kind == k for d in t.devices) for k in ("meter", "relay", "setpoint")}
    ends = sorted({f"{d.host}:{d.port}" for d in t.devices})
    return (f"{path}: valid device table — " + ", ".join(f"{n} {k}(s)" for k, n in kinds.items() if n)
            + f" on {', '.join(ends)}, {len(t.faults)} scheduled fault(s), simulator time factor "
            f"{t.simulator.time_factor:g}")


def _sweep(path: str) -> str:
    from sim.schema import ScenarioError
    from sim.sweeps.sweep import load_sweep, plan

    spec, folder = load_sweep(path)
    try:
        runs = plan(spec, folder)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: invalid sweep file: a point's scenario does not validate:\n{exc}") from None
    return (f"{path}: valid sweep file — {spec.sweep.name}: {len(spec.points)} point(s)"
            + (f" x {len(runs) // (len(spec.points) * spec.sweep.seeds)} grid combination(s)" if spec.grid else "")
            + f" x {spec.sweep.seeds} seed(s) = {len(runs)} runs, every point's scenario valid")


def _scenario(path: str) -> str:
    from sim.capabilities.base import load
    from sim.registry import REGISTRY
    from sim.scenario import FEEDERS, load_scenario, network_provenance

    s = load_scenario(path)
    parts = [f"{len(s.prosumer_ids())} prosumers on {s.feeder.network}"] if s.feeder else []
    if s.feeder and s.feeder.network not in FEEDERS:
        n = network_provenance(s)
        left = ", ".join(f"{k} {v}" for k, v in n["left_out"].items())
        parts[0] += (f" ({n['households']} households, loads: {s.feeder.loads}"
                     + (f"; left out of the network: {left}" if left else "") + ")")
    parts += [load(info.describe)(s) for info in REGISTRY if info.describe and info.enabled(s)]
    if s.devices:
        parts.append(f"{len(s.devices)} HIL device(s), require_devices {str(s.hil.require_devices).lower()}")
    return (f"{path}: valid scenario — {s.run.name}: {', '.join(parts) or 'no actors'}, "
            f"{s.n_steps} steps of {s.run.step_s} s, {s.n_periods} settlement periods")
