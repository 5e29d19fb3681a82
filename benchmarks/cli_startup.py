"""How long ``gridledger --help`` takes: the CLI module imports no pandas, pydantic, chain or physics; each command
imports what it needs when it runs (issue 24; target < 0.5 s, 3.1 s before). A benchmark, not a timed test:

    python benchmarks/cli_startup.py [--repeat 5]

prints the median and best wall time of ``python -m sim.cli --help`` and ``--version`` in fresh processes, and
the heavy modules (if any) that importing ``sim.cli`` pulled in.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "pydantic", "pandapower", "pandapipes", "vyper", "eth_abi", "pvlib", "simpy", "mesa",
         "scipy", "pymodbus")


def wall_s(args: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=ROOT, check=True, capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    for args in (["--help"], ["--version"]):
        times = wall_s(args, a.repeat)
        print(f"gridledger {' '.join(args)}: median {statistics.median(times):.3f} s, best {min(times):.3f} s "
              f"({a.repeat} fresh processes; target < 0.5 s)")
    probe = ("import sys, sim.cli; sim.cli.build_parser(); "
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    heavy = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, capture_output=True,
                           text=True).stdout.strip()
    print(f"heavy modules imported by sim.cli and its parser: {heavy or 'none'}")


if __name__ == "__main__":
    main()
