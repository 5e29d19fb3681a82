"""The toolchain lock: compiler, EVM version and the sha256 of every contract's bytecode, kept in
``contracts/bytecode.lock.json``. A test compiles every contract and compares, so that a changed pin (vyper,
its EVM target) or source cannot slip through unnoticed. After a deliberate change:

    python -m contracts.lock --update
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import vyper

from contracts.compiler import EVM_VERSION, SOURCE_DIR, compile_contract

LOCK = SOURCE_DIR / "bytecode.lock.json"
LIBRARIES = ("signed_reading",)  # modules imported by contracts, not deployed on their own


def contract_names() -> list[str]:
    return sorted(p.stem for p in SOURCE_DIR.glob("*.vy") if p.stem not in LIBRARIES)


def current() -> dict:
    return {
        "vyper": vyper.__version__,
        "evm_version": EVM_VERSION,
        "bytecode_sha256": {n: compile_contract(n).bytecode_sha256 for n in contract_names()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", action="store_true", help="rewrite the lock from the current toolchain")
    args = ap.parse_args(argv)
    now = current()
    if args.update:
        LOCK.write_text(json.dumps(now, indent=2, sort_keys=True) + "\n")
        print(f"wrote {LOCK}")
        return 0
    locked = json.loads(Path(LOCK).read_text())
    print("lock matches" if locked == now else "lock differs: run python -m contracts.lock --update if intended")
    return 0 if locked == now else 1


if __name__ == "__main__":
    raise SystemExit(main())
