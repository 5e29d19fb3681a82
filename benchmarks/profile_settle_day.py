"""Opcode profile of one ``settle_day`` (100 members x 24 periods) on py-evm: opcodes by mnemonic and by source
line of contracts/VppSettlement.vy (compiler-generated code counted with the mapped line before it; lines of
the imported signed_reading module show under their own line numbers, not resolved here). Child calls made by
settle_day (EuroToken's transferFrom and transfer_packed) are counted too, their code mapped to unrelated lines.

    python benchmarks/profile_settle_day.py [--members 100] [--periods 24] [--top 40] [--year-day D]

With ``--year-day D`` the day settled is day D of the 100-prosumer year (benchmarks/year_day.py: captured from
the revm run, replayed on a fresh py-evm chain; 166 = 16 June), else a synthetic day of ``day_settlement.py``.

A development tool for the day-settlement work (see WIP.md): py-evm's wall time is ~3 µs per opcode, so the
opcode count is the figure to bring down. Counting slows the run ~1.5x; the wall time printed includes that.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import eth.vm.computation as evm_computation  # noqa: E402
from vyper import compile_code  # noqa: E402
from vyper.compiler.input_bundle import FilesystemInputBundle  # noqa: E402
from vyper.compiler.settings import Settings  # noqa: E402

from benchmarks.day_settlement import PERIOD_S, T0_S, day_data, setup  # noqa: E402
from benchmarks.year_day import load_or_capture, replay  # noqa: E402
from contracts.compiler import EVM_VERSION, SOURCE_DIR  # noqa: E402
from contracts.eip712 import sign_reading_batch  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--periods", type=int, default=24)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--year-day", type=int, help="settle day D of the VPP year (benchmarks/year_day.py)")
    ap.add_argument("--all", action="store_true",
                    help="count the token's code too (transferFrom/transfer calls); lines then mix both contracts")
    a = ap.parse_args()
    src = (SOURCE_DIR / "VppSettlement.vy").read_text()
    pos = compile_code(src, output_formats=["source_map_runtime"], contract_path="VppSettlement.vy",
                       input_bundle=FilesystemInputBundle([SOURCE_DIR]),
                       settings=Settings(evm_version=EVM_VERSION))["source_map_runtime"]["pc_pos_map"]
    pos = {int(k): v for k, v in pos.items()}
    mapped = sorted(pos)

    if a.year_day is not None:
        captured = load_or_capture(a.year_day)
        a.members, a.periods = len(captured["energy_wh"]), len(captured["declared_wh"])
        chain, vpp, operator, (first, declared, batches) = replay(captured, "py-evm")
    else:
        chain, _, vpp, operator, _, _, keys = setup("py-evm", a.members, a.periods)
        declared, delivered = day_data(a.members, a.periods, 0)
        vpp.commit_declarations(0, declared, sender=operator)
        chain.set_time(T0_S + a.periods * PERIOD_S + 60)
        batches = [sign_reading_batch(keys[i], vpp.domain_separator, 0, delivered[i], [0] * a.periods,
                                      meter=keys[i].public_key.to_checksum_address()) for i in range(a.members)]

    target = bytes.fromhex(vpp.address[2:].lower())
    by_op: collections.Counter = collections.Counter()
    by_pc: collections.Counter = collections.Counter()
    original = evm_computation.BaseComputation.apply_computation.__func__

    def counted(op_fn):
        name = getattr(op_fn, "mnemonic", "?")

        def run(computation):
            by_op[name] += 1
            by_pc[computation.code.program_counter - 1] += 1
            return op_fn(computation=computation)
        return run

    def apply(cls, state, message, transaction_context, *rest, **kw):
        if message.code_address == target or a.all:
            cls = type("Counted", (cls,), {"opcodes": {op: counted(fn) for op, fn in cls.opcodes.items()}})
        return original(cls, state, message, transaction_context, *rest, **kw)

    evm_computation.BaseComputation.apply_computation = classmethod(apply)
    try:
        t = time.perf_counter()
        receipt = vpp.settle_day(0, declared, batches, sender=operator)
        wall_s = time.perf_counter() - t
    finally:
        evm_computation.BaseComputation.apply_computation = classmethod(original)
    n = sum(by_op.values())
    print(f"settle_day {a.members} x {a.periods}: gas {receipt.gas_used}, opcodes {n} "
          f"({n / (a.members * a.periods):.0f} per value), wall {wall_s:.2f} s while counting")
    print("by opcode:", ", ".join(f"{k} {v}" for k, v in by_op.most_common(15)))
    lines: collections.Counter = collections.Counter()
    for pc, count in by_pc.items():
        j = bisect.bisect_right(mapped, pc) - 1
        lines[pos[mapped[j]][0] if j >= 0 else None] += count
    text = src.splitlines()
    for line, count in lines.most_common(a.top):
        shown = text[line - 1].strip()[:90] if line and line <= len(text) else ""
        print(f"{count:9d} {line!s:>5} {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
