"""Every contract's constructor: the start of period 0 (t0), the period length and the number of periods at their
bounds (0, the documented maximum, one above, 2**255, 2**256 - 1), each beyond refused with its namespaced reason,
never a bare revert, the maxima themselves deployed; on both backends. (MutualInsurance's t0 and period_s are
in test_insurance_access.py with its other arguments; EuroToken's constructor takes none.)"""

from __future__ import annotations

import pytest

from contracts.backends import make_chain
from contracts.certificates import Certificates
from contracts.chain import ChainRevert
from contracts.eip712 import key_for
from contracts.flex import FlexDelays
from contracts.heat import HeatEfficiency
from contracts.token import EuroToken
from contracts.vpp import VppSettlement
from tests.contracts.bounds import BACKENDS, HUGE, short
from tests.contracts.conftest import GENESIS_S, PERIOD_S, T0_S

MAX_T0, MAX_N_PERIODS, DAY = 2**34, 2**32, 86_400


@pytest.fixture(scope="module", params=BACKENDS)
def chain(request):
    chain = make_chain(request.param, GENESIS_S, seed=0)
    deployer = chain.new_account(key_for(0, "deployer"))
    other = chain.new_account(key_for(0, "oracle"))
    token = EuroToken.deploy(chain, minter=deployer)
    return chain, deployer, other, token.address


def _certs(w, t0=T0_S, period_s=PERIOD_S, n_periods=48):
    chain, me, oracle, _ = w
    return Certificates.deploy(chain, issuer=me, oracle=oracle, t0_s=t0, period_s=period_s, n_periods=n_periods)


def _flex(w, t0=T0_S):
    chain, me, _, _ = w
    return FlexDelays.deploy(chain, operator=me, t0_s=t0, day_offset_min=0, tokens_per_kwh=1000)


def _heat(w, t0=T0_S, period_s=PERIOD_S, n_periods=48):
    chain, me, _, token = w
    return HeatEfficiency.deploy(chain, operator=me, token=token, t0_s=t0, period_s=period_s, n_periods=n_periods)


def _vpp(w, t0=T0_S, period_s=PERIOD_S, n_periods=48):
    chain, me, buyer, token = w
    return VppSettlement.deploy(chain, operator=me, token=token, buyer=buyer, t0_s=t0, period_s=period_s,
                                n_periods=n_periods, price_ueur_per_kwh=100_000, penalty_ueur_per_kwh=300_000,
                                tolerance_bps=1000)


# (contract, deploy, argument, lowest, highest accepted, reason beyond)
BOUNDS = [
    ("certs", _certs, "t0", 0, MAX_T0, "certs: t0 out of range"),
    ("certs", _certs, "period_s", 1, 3600, "certs: interval must be 1 s to 1 h"),
    ("certs", _certs, "n_periods", 0, MAX_N_PERIODS, "certs: too many intervals"),
    ("flex", _flex, "t0", 0, MAX_T0, "flex: t0 out of range"),
    ("heat", _heat, "t0", 0, MAX_T0, "heat: t0 out of range"),
    ("heat", _heat, "period_s", 1, DAY, "heat: period_s out of range"),
    ("heat", _heat, "n_periods", 0, MAX_N_PERIODS, "heat: too many periods"),
    ("vpp", _vpp, "t0", 0, MAX_T0, "vpp: t0 out of range"),
    ("vpp", _vpp, "period_s", 1, DAY, "vpp: period_s out of range"),
    ("vpp", _vpp, "n_periods", 0, MAX_N_PERIODS, "vpp: too many periods"),
]
CASES = [(b, v) for b in BOUNDS for v in sorted({0, b[3], b[4], b[4] + 1, *HUGE} | ({b[3] - 1} if b[3] else set()))]


@pytest.mark.parametrize("bound,value", CASES, ids=[f"{b[0]}-{b[2]}={short(v)}" for b, v in CASES])
def test_constructor_argument_at_its_bounds(chain, bound, value):
    _, deploy, arg, lo, hi, reason = bound
    if lo <= value <= hi:
        assert deploy(chain, **{arg: value}).address
        return
    with pytest.raises(ChainRevert) as exc:
        deploy(chain, **{arg: value})
    assert exc.value.reason == reason, (arg, value, exc.value.reason)
