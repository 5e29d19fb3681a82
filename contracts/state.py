"""The contracts' totals as the chain holds them: every argument-free view of every deployed contract, each
token's balance of every given holder (settled periods are in the events, compared log by log). ``summary.json``
reports them (``chain.state``); ``gridledger verify`` reads them again on the replayed chain and compares."""

from __future__ import annotations

from typing import Any

from contracts.chain import _plain

SKIP = ("DOMAIN_SEPARATOR",)  # depends on the chain id and address, compared through the signatures instead


def contract_state(chain, holders: list[str]) -> dict[str, dict[str, Any]]:
    """name -> {view: value, "balanceOf": {holder: balance}} for every deployed contract."""
    out = {}
    for contract in chain.contracts():
        fns, views = contract.functions, {}
        for fn, item in sorted(fns.items()):
            if item.get("stateMutability") in ("view", "pure") and not item["inputs"] and fn not in SKIP:
                views[fn] = _plain(chain.call(contract, fn))
        if "balanceOf" in fns and [i["type"] for i in fns["balanceOf"]["inputs"]] == ["address"]:
            views["balanceOf"] = {h: chain.call(contract, "balanceOf", h) for h in holders}
        out[contract.name] = views
    return out
