"""Every input file a scenario names: for the manifest (``input_files``: role, path, sha256) and for the
scenario's digest (a file enters by its content, not where it lies).

A scenario names a file under one of ``FILE_KEYS``, anywhere in its sections (``population[0].load_file``,
``certificates.consumers[1].load_file``, …); a new kind of input file is one more entry there. The feeder's
network file (``feeder.network = "<file>.json"``) and the weather file (``weather.file``) are ones too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

from sim.files.series import file_sha256

# a key naming an input file -> the keys that only matter with it (left out of the digest, with the file key,
# when no file is given: scenarios written before these keys keep their run ids)
FILE_KEYS: dict[str, tuple[str, ...]] = {
    "load_file": ("load_scale",),
    "pv_file": ("pv_scale",),
    "demand_file": ("demand_scale",),
    "price_file": (),
    "co2_file": (),
}


def resolve_file(v: str | None, info: ValidationInfo) -> str | None:
    """A file named in a scenario as an absolute, normalised path: a relative one is found from the scenario
    file's folder (``info.context["base_dir"]``; the working directory without one)."""
    if v is None:
        return None
    path = Path(v).expanduser()
    if not path.is_absolute():
        base = (info.context or {}).get("base_dir")
        path = (Path(base) if base is not None else Path.cwd()) / path
    return os.path.normpath(path.absolute())


def _walk(node: Any, where: str):
    """(location, the dict holding it, key) of every file key in a dumped scenario."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}" if where else key
            if key in FILE_KEYS:
                yield here, node, key
            else:
                yield from _walk(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{where}[{i}]")


def named_files(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, path) of every input file in a dumped scenario (``model_dump(mode="json")``), in document order."""
    files = []
    network = (data.get("feeder") or {}).get("network")
    if isinstance(network, str) and network.lower().endswith(".json"):
        files.append(("feeder.network", network))
    weather = (data.get("weather") or {}).get("file")
    if isinstance(weather, str):
        from sim.files.weather import weather_path

        files.append(("weather.file", str(weather_path(weather))))
    files += [(role, node[key]) for role, node, key in _walk(data, "") if node[key] is not None]
    return files


def input_files(scenario) -> list[dict[str, str]]:
    """The manifest's ``input_files``: ``{role, path, sha256}`` of every file the scenario names."""
    return [{"role": role, "path": path, "sha256": file_sha256(path)}
            for role, path in named_files(scenario.model_dump(mode="json"))]


def digest_files(data: dict[str, Any]) -> None:
    """In a dumped scenario, in place: each named file replaced by ``sha256:<its content's>``; a file key not
    given is left out, with the keys that only matter with it."""
    for _role, node, key in list(_walk(data, "")):
        if node[key] is None:
            for k in (key, *FILE_KEYS[key]):
                node.pop(k, None)
        else:
            node[key] = f"sha256:{file_sha256(node[key])}"
