"""Compile the ``contracts/*.vy`` sources with the pinned vyper package; bytecode cached by source hash."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import vyper
from vyper.compiler import compile_code
from vyper.compiler.input_bundle import FilesystemInputBundle
from vyper.compiler.settings import Settings

SOURCE_DIR = Path(__file__).resolve().parent
EVM_VERSION = "prague"  # vyper 0.4.3's default and eth-tester 0.14's fork; passed explicitly so a change fails loudly


@dataclass(frozen=True)
class Compiled:
    name: str
    abi: list
    bytecode: bytes
    source_sha256: str
    bytecode_sha256: str


def cache_dir() -> Path:
    """Where compiled bytecode is kept: ``$GRIDLEDGER_CACHE`` or ``~/.cache/gridledger``."""
    root = os.environ.get("GRIDLEDGER_CACHE") or Path.home() / ".cache" / "gridledger"
    return Path(root) / f"vyper-{vyper.__version__}-{EVM_VERSION}"


def _sources_digest() -> str:
    """sha256 over every .vy source here, since a contract may import library modules."""
    h = hashlib.sha256()
    for p in sorted(SOURCE_DIR.glob("*.vy")):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@cache
def compile_contract(name: str) -> Compiled:
    """ABI and deployment bytecode of ``contracts/{name}.vy`` (library modules it imports resolve here)."""
    path = SOURCE_DIR / f"{name}.vy"
    source = path.read_text(encoding="utf-8")
    source_sha = hashlib.sha256(source.encode()).hexdigest()
    cached = cache_dir() / f"{name}-{source_sha}-{_sources_digest()[:16]}.json"
    if cached.exists():
        data = json.loads(cached.read_text())
    else:
        out = compile_code(
            source,
            output_formats=["abi", "bytecode"],
            contract_path=path.name,
            input_bundle=FilesystemInputBundle([SOURCE_DIR]),
            settings=Settings(evm_version=EVM_VERSION),
        )
        data = {"abi": out["abi"], "bytecode": out["bytecode"]}
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data))
        tmp.replace(cached)
    bytecode = bytes.fromhex(data["bytecode"].removeprefix("0x"))
    return Compiled(name, data["abi"], bytecode, source_sha, hashlib.sha256(bytecode).hexdigest())
