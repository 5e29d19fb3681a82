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


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]


REFERENCE = "docs/scenario.md"


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file, the field and what was expected."""


def format_errors(source: str, exc: ValidationError) -> str:
    """One message for every problem pydantic found, each line naming ``source`` and the field's location."""
    lines = [f"{source}: invalid scenario ({exc.error_count()} problem{'s' * (exc.error_count() > 1)})"]
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
                msg += f" (got {err['input']!r})"
        lines.append(f"  {source}: {loc or '<top>'}: {msg}")
    lines.append(f"  (every key, its type, unit and default: `gridledger schema` or {REFERENCE})")
    return "\n".join(lines)


def read_toml(path: Path, kind: str = "scenario") -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file raises ScenarioError naming it."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such {kind} file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
