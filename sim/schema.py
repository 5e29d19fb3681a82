"""Building blocks of the scenario schema: frozen, strict models that refuse unknown keys, and number types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]
