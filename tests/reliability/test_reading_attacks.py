"""Signed-reading attacks: a generator of adversarial submissions (replayed, wrong chain id, wrong contract,
wrong key, high-s, tampered field, old period, unregistered meter, period not over) mixed with valid ones.
Every bad one reverts with a reason, every valid one is accepted exactly once, and the chain's count of
accepted readings equals the measurement layer's."""

from __future__ import annotations

import os
import random
from dataclasses import replace

import pytest
from eth_keys import keys

from contracts.chain import ChainRevert
from contracts.eip712 import domain_separator, sign_reading
from tests.contracts.conftest import MAX_WH, make_vpp

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
N_ATTACKS = {"revm": int(os.environ.get("GRIDLEDGER_ATTACKS", "10000")), "py-evm": 300}
EXPECTED_REASON = {
    "replay": "vpp: period already settled",  # a recorded reading of an earlier, settled period
    "wrong_chain": "vpp: bad signature",
    "wrong_contract": "vpp: bad signature",
    "wrong_key": "vpp: bad signature",
    "tampered": "vpp: bad signature",
    "high_s": "vpp: high-s signature",
    "old_period": "vpp: period already settled",
    "unregistered": "vpp: unregistered meter",
    "not_over": "vpp: period not over",
}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["revm", "py-evm"])
def test_adversarial_readings_are_all_refused_and_valid_ones_land_once(backend):
    rng = random.Random(11)
    v = make_vpp(shares=(4000, 3500, 2500), backend=backend)
    stranger = keys.PrivateKey(b"\x31" * 32)
    n_periods = 48
    valid_sent, tried = 0, {k: 0 for k in EXPECTED_REASON}
    recorded: list = []  # valid readings already on chain, to replay
    period = 0
    v.at_period_end(0)
    budget = N_ATTACKS[backend]
    while sum(tried.values()) < budget:
        # attacks on the period that just closed (none of its readings is in yet), then its valid readings
        for _ in range(min(budget // (n_periods - 2) + 1, budget - sum(tried.values()))):
            kind = rng.choice(sorted(EXPECTED_REASON))
            i = rng.randrange(3)
            base = sign_reading(v.meter_keys[i], v.vpp.domain_separator, period, rng.randrange(MAX_WH), 0)
            bad = {
                "replay": lambda: rng.choice(recorded) if recorded else base,
                "wrong_chain": lambda: sign_reading(v.meter_keys[i], domain_separator(v.chain.chain_id + 1,
                                                    v.vpp.address), period, base.energy_wh, 0),
                "wrong_contract": lambda: sign_reading(v.meter_keys[i], domain_separator(v.chain.chain_id,
                                                       v.token.address), period, base.energy_wh, 0),
                "wrong_key": lambda: replace(sign_reading(stranger, v.vpp.domain_separator, period, 5, 0),
                                             meter=base.meter),
                "tampered": lambda: replace(base, energy_wh=(base.energy_wh + 1 + rng.randrange(MAX_WH - 1)) % MAX_WH),
                "high_s": lambda: replace(base, v=55 - base.v,
                                          s=(SECP256K1_N - int.from_bytes(base.s, "big")).to_bytes(32, "big")),
                "old_period": lambda: sign_reading(v.meter_keys[i], v.vpp.domain_separator, max(0, period - 1), 7, 0),
                "unregistered": lambda: sign_reading(stranger, v.vpp.domain_separator, period, 5, 0),
                "not_over": lambda: sign_reading(v.meter_keys[i], v.vpp.domain_separator, period + 1, 5, 0),
            }[kind]()
            if kind in ("replay", "old_period") and period == 0:
                continue  # nothing settled yet to replay
            with pytest.raises(ChainRevert) as info:
                v.vpp._tx("submit_readings", [bad.as_tuple()], sender=v.operator)
            reason = info.value.reason
            assert reason == EXPECTED_REASON[kind], (kind, reason)
            tried[kind] += 1
        for i in range(3):
            r = sign_reading(v.meter_keys[i], v.vpp.domain_separator, period, rng.randrange(MAX_WH), 0)
            assert v.vpp.submit_readings([r], sender=v.operator) == []
            recorded.append(r)
            valid_sent += 1
        v.vpp.settle(period, sender=v.operator)
        period += 1
        v.at_period_end(period)
        if period >= n_periods - 1:
            break
    assert sum(tried.values()) >= min(budget, 9000 if backend == "revm" else budget)
    assert all(n > 0 for n in tried.values()), tried
    assert v.vpp.call("readings_accepted") == valid_sent == len(recorded)
