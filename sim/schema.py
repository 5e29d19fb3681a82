"""Building blocks of the scenario schema, shared by the kernel, every capability's section, the HIL device table
and sweeps: frozen, strict models that refuse unknown keys, number types, and errors that name the file, the
field and what was expected.

pydantic (v2) is used rather than dataclasses because it gives, for free and tested by others, what a
demanding user needs from a scenario parser: strict types, rejection of unknown keys, and error locations
(``population[0].pv_kwp``) that ``format_errors`` turns into one message naming the file and each field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import ScenarioError


class _Frozen(BaseModel):
    """Frozen, strict, unknown keys refused, and no infinite or NaN numbers anywhere."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]


REFERENCE = "docs/scenario.md"


def format_errors(source: str, exc: ValidationError, kind: str = "scenario") -> str:
    """One message for every problem pydantic found, each line naming ``source`` and the field's location;
    ``kind``: what the file is (scenario, device table, sweep file)."""
    lines = [f"{source}: invalid {kind} ({exc.error_count()} problem{'s' * (exc.error_count() > 1)})"]
    for err in exc.errors():
        loc = ""
        for part in err["loc"]:
            name = str(part) if str(part).isprintable() and str(part) else repr(part)  # keys from a TOML file
            loc += f"[{part}]" if isinstance(part, int) else (f".{name}" if loc else name)
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see scenarios/ for the accepted keys)"
        elif err["type"] == "missing":
            msg = "missing: this field (or section) is required"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if "input" in err and not isinstance(err["input"], dict | list):
                got = repr(err["input"])
                msg += f" (got {got[:80] + '…' if len(got) > 80 else got})"
        lines.append(f"  {source}: {loc or '<top>'}: {msg}")
    lines.append(f"  {source}: (every key, its type, unit and default: `gridledger schema` or {REFERENCE})")
    return "\n".join(lines)


MAX_FILE_BYTES = 16 * 2**20  # a scenario or device table larger than this is not one


def checked_path(path: Path, kind: str, max_bytes: int = MAX_FILE_BYTES, expected: str | None = None) -> Path:
    """``path`` if it is a readable regular file of at most ``max_bytes``; else ScenarioError naming it (missing, a
    folder or special file — a FIFO or device would block — too large, no permission, a symlink loop, …).
    ``expected``: what the message says was expected (default: a ``kind`` file)."""
    path = Path(path)
    try:
        if not path.exists():
            raise ScenarioError(f"{path}: no such {kind} file")
        if not path.is_file():
            raise ScenarioError(f"{path}: not a regular file (a folder or special file); expected "
                                f"{expected or f'a {kind} file'}")
        if path.stat().st_size > max_bytes:
            raise ScenarioError(f"{path}: {path.stat().st_size} bytes; a {kind} file is at most {max_bytes}")
        with open(path, "rb"):
            pass
    except OSError as exc:  # permission, a symlink loop, …
        raise ScenarioError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return path


def read_toml(path: Path, kind: str = "scenario") -> dict[str, Any]:
    """Parse a TOML file (UTF-8); a missing, unreadable, special or malformed file raises ScenarioError naming it.
    Only regular files are opened (``checked_path``)."""
    path = checked_path(path, kind, expected=f"a TOML {kind} file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start}); TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
