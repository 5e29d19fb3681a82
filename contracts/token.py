"""Wrapper of EuroToken: the community's money (ueur = micro-euro, 6 decimals)."""

from __future__ import annotations

from contracts.chain import BaseChain as Chain, Contract, Receipt

UEUR_PER_EUR = 1_000_000


def eur_to_ueur(eur: float) -> int:
    """Euros to integer micro-euros (rounded to the nearest)."""
    return round(eur * UEUR_PER_EUR)


MAX_BATCH = 256  # receivers per mint_many / transfer_many (EuroToken.vy MAX_BATCH)
BATCH_GAS_BASE = 100_000
BATCH_GAS_PER_RECEIVER = 40_000  # a new balance slot (22 100) + a Transfer log (~1 900) + calldata, with margin


def _check_batch(receivers: list[str], amounts_ueur: list[int]) -> None:
    if len(receivers) != len(amounts_ueur):
        raise ValueError(f"receivers ({len(receivers)}) and amounts_ueur ({len(amounts_ueur)}) differ in length")
    if len(receivers) > MAX_BATCH:
        raise ValueError(f"receivers: {len(receivers)} > {MAX_BATCH} per call")


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

    def mint_many(self, receivers: list[str], amounts_ueur: list[int], *, sender: str) -> Receipt:
        """Mint ``amounts_ueur[i]`` [ueur] to ``receivers[i]`` in one transaction (<= 256 receivers)."""
        _check_batch(receivers, amounts_ueur)
        return self.chain.transact(self.contract, "mint_many", list(receivers), list(amounts_ueur), sender=sender,
                                   gas=BATCH_GAS_BASE + BATCH_GAS_PER_RECEIVER * len(receivers))

    def transfer_many(self, receivers: list[str], amounts_ueur: list[int], *, sender: str) -> Receipt:
        """Pay ``amounts_ueur[i]`` [ueur] from ``sender`` to ``receivers[i]`` in one transaction (<= 256)."""
        _check_batch(receivers, amounts_ueur)
        return self.chain.transact(self.contract, "transfer_many", list(receivers), list(amounts_ueur),
                                   sender=sender, gas=BATCH_GAS_BASE + BATCH_GAS_PER_RECEIVER * len(receivers))

    def approve(self, spender: str, amount_ueur: int, *, sender: str) -> None:
        self.chain.transact(self.contract, "approve", spender, amount_ueur, sender=sender)

    def transfer(self, receiver: str, amount_ueur: int, *, sender: str) -> None:
        self.chain.transact(self.contract, "transfer", receiver, amount_ueur, sender=sender)

    def balance_of(self, account: str) -> int:
        """Balance read from the contract [ueur]."""
        return self.chain.call(self.contract, "balanceOf", account)

    def total_supply(self) -> int:
        return self.chain.call(self.contract, "totalSupply")
