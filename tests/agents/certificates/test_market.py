"""The hourly certificate market: pro-rata grants by largest remainder, never above demand or supply; the
consumer claims each interval's certificates against its own consumption there."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agents.allocation import largest_remainder
from agents.certificates.consumer import CertificateConsumer
from agents.certificates.market import Offer, clear_pro_rata
from sim.capabilities.vpp.shares import shares_bps


def test_largest_remainder_sums_exactly_and_is_the_vpp_share_rule():
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert largest_remainder(10_000, [8, 8, 5]) == shares_bps([8, 8, 5]) == [3810, 3809, 2381]


def test_clearing_splits_a_short_hour_pro_rata():
    offers = [Offer("pv", 1, 300), Offer("wind", 2, 200)]
    sales = clear_pro_rata(offers, {"a": 600, "b": 300, "c": 0, "d": 100})
    got = {c: sum(s.wh for s in sales if s.consumer == c) for c in "abcd"}
    assert got == {"a": 300, "b": 150, "c": 0, "d": 50}
    assert sum(s.wh for s in sales if s.producer == "pv") == 300  # the first offer is sold out first


@given(offers=st.lists(st.integers(0, 10_000), max_size=5), demand=st.lists(st.integers(0, 10_000), max_size=8))
def test_clearing_never_sells_more_than_offered_or_demanded(offers, demand):
    offer_list = [Offer(f"p{i}", i, wh) for i, wh in enumerate(offers)]
    want = {f"c{i}": wh for i, wh in enumerate(demand)}
    sales = clear_pro_rata(offer_list, want)
    assert all(s.wh > 0 for s in sales)
    assert sum(s.wh for s in sales) == min(sum(offers), sum(demand))
    for c, wh in want.items():
        assert sum(s.wh for s in sales if s.consumer == c) <= wh
    for o in offer_list:
        assert sum(s.wh for s in sales if s.id == o.id) <= o.wh


class _Recorder:
    def __init__(self):
        self.claims = []

    def retire_many(self, claims, *, sender):
        self.claims += claims
        return []


def test_consumer_claims_each_interval_against_itself_within_its_consumption():
    import mesa

    certs = _Recorder()
    c = CertificateConsumer(mesa.Model(), name="office-01", account="0xA", certificates=certs)
    c.retire({7: {70: 400, 71: 300}, 8: {80: 50}}, {7: 500, 8: 80})
    assert [(x.id, x.amount_wh, x.beneficiary, x.consumption_interval) for x in certs.claims] == [
        (70, 400, "0xA", 7), (71, 100, "0xA", 7), (80, 50, "0xA", 8)]
