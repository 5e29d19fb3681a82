"""Mutual insurance's line after ``gridledger run``."""

from __future__ import annotations


def run_line(d: dict, name: str) -> str:
    queued = f", {d['claims_queued']} queued ({d['owed_eur']:.2f} EUR owed)" if d["claims_queued"] else ""
    return (f"{name}: {d['members']} members ({d['variant']}), premiums {d['premiums_eur']:.2f} EUR, payouts "
            f"{d['payouts_eur']:.2f} EUR in {d['claims_paid']} claims{queued}, loss ratio {d['loss_ratio']:.2f} "
            f"(target {d['target_loss_ratio']:.2f}), pool {d['pool_eur']:.2f} EUR")
