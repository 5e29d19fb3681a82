"""Wrapper of EuroToken: the community's money (ueur = micro-euro, 6 decimals)."""

from __future__ import annotations

from contracts.chain import BaseChain as Chain, Contract

UEUR_PER_EUR = 1_000_000


def eur_to_ueur(eur: float) -> int:
    """Euros to integer micro-euros (rounded to the nearest)."""
    return round(eur * UEUR_PER_EUR)


class EuroToken:
    def __init__(self, chain: Chain, contract: Contract):
        self.chain, self.contract = chain, contract

    @classmethod
    def deploy(cls, chain: Chain, *, minter: str) -> EuroToken:
        return cls(chain, chain.deploy("EuroToken", sender=minter))

    @property
    def address(self) -> str:
        return self.contract.address

    def mint(self, receiver: str, amount_ueur: int, *, sender: str) -> None:
        self.chain.transact(self.contract, "mint", receiver, amount_ueur, sender=sender)

    def approve(self, spender: str, amount_ueur: int, *, sender: str) -> None:
        self.chain.transact(self.contract, "approve", spender, amount_ueur, sender=sender)

    def transfer(self, receiver: str, amount_ueur: int, *, sender: str) -> None:
        self.chain.transact(self.contract, "transfer", receiver, amount_ueur, sender=sender)

    def balance_of(self, account: str) -> int:
        """Balance read from the contract [ueur]."""
        return self.chain.call(self.contract, "balanceOf", account)

    def total_supply(self) -> int:
        return self.chain.call(self.contract, "totalSupply")
