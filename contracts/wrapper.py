"""Base of the contract wrappers: a deployed contract on its chain, transactions and reads by function name."""

from __future__ import annotations

from contracts.chain import SETUP_GAS, BaseChain, Call, Contract, Receipt
from contracts.eip712 import domain_separator


class ContractWrapper:
    """``_tx(fn, *args, sender=)`` sends a transaction (raises ``ChainRevert`` with the contract's reason),
    ``_tx_many(fn, [args, ...], sender=)`` sends many in few blocks, ``call(fn, *args)`` reads;
    ``domain_separator`` is the contract's EIP-712 domain (signed readings)."""

    def __init__(self, chain: BaseChain, contract: Contract):
        self.chain, self.contract = chain, contract
        self.domain_separator = domain_separator(chain.chain_id, contract.address)

    @property
    def address(self) -> str:
        return self.contract.address

    def _tx(self, fn: str, *args, sender: str):
        return self.chain.transact(self.contract, fn, *args, sender=sender)

    def _tx_many(self, fn: str, args: list[tuple], *, sender: str, gas: int = SETUP_GAS) -> list[Receipt]:
        """``_tx(fn, *a, sender=sender)`` for each ``a`` in ``args``, in order, each with a gas limit of ``gas``
        [gas units], as many to a block as fit."""
        return self.chain.transact_many([Call(self.contract, fn, tuple(a), sender, gas) for a in args])

    def call(self, fn: str, *args):
        return self.chain.call(self.contract, fn, *args)
