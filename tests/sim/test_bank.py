"""The bank's batch minting: the same balances and Transfer events as one ``mint_eur`` per account."""

from __future__ import annotations

from contracts.backends import make_chain
from sim.bank import Bank


def test_mint_many_eur_equals_one_mint_per_account_across_chunks():
    one, many = (Bank(make_chain("revm", 1_700_000_000, seed=5), seed=5) for _ in range(2))
    labels = [f"member-{i}" for i in range(300)]  # more than one mint_many call (256 per call)
    accounts = [one.open_account(x) for x in labels]
    assert [many.open_account(x) for x in labels] == accounts
    tx0 = many.chain.n_transactions
    for a in accounts:
        assert one.mint_eur(a, 12.3456789) == 12_345_679
    assert many.mint_many_eur(accounts, 12.3456789) == 12_345_679
    assert many.chain.n_transactions - tx0 == 2
    assert [many.token.balance_of(a) for a in accounts] == [one.token.balance_of(a) for a in accounts] == (
        [12_345_679] * 300)
    assert many.token.total_supply() == one.token.total_supply() == 300 * 12_345_679

    def transfers(bank):
        return [tuple(e.args.values()) for e in bank.chain.events if e.event == "Transfer"]

    assert transfers(many) == transfers(one) and len(transfers(one)) == 300
    assert many.mint_many_eur(accounts, 0.0) == 0 and many.chain.n_transactions - tx0 == 2  # nothing to mint
