"""Base of the contract wrappers: a deployed contract on its chain, transactions and reads by function name."""

from __future__ import annotations

from contracts.chain import BaseChain, Contract
from contracts.eip712 import domain_separator


class ContractWrapper:
    """``_tx(fn, *args, sender=)`` sends a transaction (raises ``ChainRevert`` with the contract's reason),
    ``call(fn, *args)`` reads; ``domain_separator`` is the contract's EIP-712 domain (signed readings)."""

    def __init__(self, chain: BaseChain, contract: Contract):
        self.chain, self.contract = chain, contract
        self.domain_separator = domain_separator(chain.chain_id, contract.address)

    @property
    def address(self) -> str:
        return self.contract.address

    def _tx(self, fn: str, *args, sender: str):
        return self.chain.transact(self.contract, fn, *args, sender=sender)

    def call(self, fn: str, *args):
        return self.chain.call(self.contract, fn, *args)
