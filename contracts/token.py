"""Wrapper of EuroToken: the community's money (ueur = micro-euro, 6 decimals)."""

from __future__ import annotations

from contracts.chain import BaseChain as Chain
from contracts.chain import Contract, Receipt

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


MAX_PACKED_UEUR = 2**96 - 1  # transfer_packed: a payment's amount shares its word with the receiver's address


def pack_payment(receiver: str, amount_ueur: int) -> int:
    """One ``transfer_packed`` word: ``amount_ueur << 160 | receiver`` (0 <= amount_ueur < 2**96 [ueur])."""
    if not 0 <= amount_ueur <= MAX_PACKED_UEUR:
        raise ValueError(f"amount_ueur {amount_ueur} does not pack beside an address (0 .. 2**96 - 1)")
    return amount_ueur << 160 | int(receiver, 16)


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

    def transfer_packed(self, payments: list[tuple[str, int]], *, sender: str) -> Receipt:
        """Pay each (receiver, amount_ueur) [ueur] from ``sender`` in one transaction, one word per payment (<= 256);
        an amount of 2**96 ueur or more raises ValueError (it would not fit its word)."""
        if len(payments) > MAX_BATCH:
            raise ValueError(f"payments: {len(payments)} > {MAX_BATCH} per call")
        words = [pack_payment(receiver, amount_ueur) for receiver, amount_ueur in payments]
        return self.chain.transact(self.contract, "transfer_packed", words, sender=sender,
                                   gas=BATCH_GAS_BASE + BATCH_GAS_PER_RECEIVER * len(payments))

    def approve(self, spender: str, amount_ueur: int, *, sender: str) -> None:
        self.chain.transact(self.contract, "approve", spender, amount_ueur, sender=sender)

    def transfer(self, receiver: str, amount_ueur: int, *, sender: str) -> None:
        self.chain.transact(self.contract, "transfer", receiver, amount_ueur, sender=sender)

    def balance_of(self, account: str) -> int:
        """Balance read from the contract [ueur]."""
        return self.chain.call(self.contract, "balanceOf", account)

    def total_supply(self) -> int:
        return self.chain.call(self.contract, "totalSupply")
