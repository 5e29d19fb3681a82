"""Chain backends behind one interface: ``py-evm`` (eth-tester; the default and the reference) and ``revm``
(pyrevm; the fast backend for long runs and sweeps). Both run the same vyper bytecode and wrappers. ``web3``
(web3 contract calls over eth-tester, a block per transaction) is the straightforward reference path that
``benchmarks/year_vpp.py`` measures the others against."""

from __future__ import annotations

from contracts.chain import BaseChain
from contracts.pyevm_chain import Chain
from contracts.revm_chain import RevmChain
from contracts.web3_chain import Web3Chain

BACKENDS: dict[str, type[BaseChain]] = {"py-evm": Chain, "revm": RevmChain, "web3": Web3Chain}


def make_chain(backend: str, genesis_timestamp: int, seed: int = 0) -> BaseChain:
    try:
        cls = BACKENDS[backend]
    except KeyError:
        raise ValueError(f"unknown chain backend {backend!r}; expected one of {sorted(BACKENDS)}") from None
    return cls(genesis_timestamp, seed)
