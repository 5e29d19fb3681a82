"""Money on chain: the EuroToken, its minter (the scenario's bank), and accounts for every actor with money."""

from __future__ import annotations

from contracts.chain import BaseChain as Chain
from contracts.eip712 import key_for
from contracts.token import MAX_BATCH, EuroToken, eur_to_ueur


class Bank:
    """Opens funded accounts (deterministic keys from the run seed) and mints euros (ueur) to them."""

    def __init__(self, chain: Chain, seed: int):
        self.chain, self.seed = chain, seed
        self.address = chain.new_account(key_for(seed, "bank"))
        self.token = EuroToken.deploy(chain, minter=self.address)
        self.accounts: dict[str, str] = {"bank": self.address}

    def open_account(self, label: str) -> str:
        """A new account for ``label`` (``"vpp-operator"``, ``"prosumer/pv-01"`` …), funded with ether for gas."""
        return self.open_accounts([label])[0]

    def open_accounts(self, labels: list[str]) -> list[str]:
        """New accounts for ``labels``, funded with ether for gas, as many to a block as fit; their addresses in
        order."""
        seen = set(self.accounts)
        for label in labels:
            if label in seen:
                raise ValueError(f"account {label!r} already open")
            seen.add(label)
        addresses = self.chain.new_accounts([key_for(self.seed, label) for label in labels])
        self.accounts.update(zip(labels, addresses))
        return addresses

    def mint_eur(self, account: str, eur: float) -> int:
        """Mint ``eur`` (rounded to ueur) to ``account``; returns the amount [ueur]."""
        amount = eur_to_ueur(eur)
        if amount:
            self.token.mint(account, amount, sender=self.address)
        return amount

    def mint_many_eur(self, accounts: list[str], eur: float) -> int:
        """Mint ``eur`` (rounded to ueur) to each of ``accounts``, one transaction per 256 accounts (EuroToken's
        ``mint_many``); the same balances and Transfer events as ``mint_eur`` for each. Returns ueur per account."""
        amount = eur_to_ueur(eur)
        if amount:
            for at in range(0, len(accounts), MAX_BATCH):
                chunk = list(accounts[at:at + MAX_BATCH])
                self.token.mint_many(chunk, [amount] * len(chunk), sender=self.address)
        return amount
