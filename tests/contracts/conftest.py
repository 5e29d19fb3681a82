"""A VppSettlement with a token, a buyer and members, a Certificates registry with two devices and two
consumers, and a HeatEfficiency with a funded operator and its consumers, each on a fresh in-process chain."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from contracts.backends import make_chain
from contracts.certificates import Certificates
from contracts.chain import BaseChain
from contracts.eip712 import key_for, sign_heat_reading, sign_reading
from contracts.heat import HeatEfficiency
from contracts.token import EuroToken
from contracts.vpp import VppSettlement

GENESIS_S = 1_700_000_000
T0_S = GENESIS_S + 7200
PERIOD_S = 3600
PRICE = 100_000  # ueur/kWh
PENALTY = 300_000
TOL_BPS = 1000
COLLATERAL = 5_000_000
MAX_WH = 10_000


@dataclass
class Vpp:
    chain: BaseChain
    token: EuroToken
    vpp: VppSettlement
    bank: str
    operator: str
    buyer: str
    members: list[str]
    meter_keys: list
    shares: list[int]

    def at_period_end(self, period: int, offset_s: int = 60) -> None:
        self.chain.set_time(T0_S + (period + 1) * PERIOD_S + offset_s)


def make_vpp(shares=(5000, 3000, 2000), seal=True, seed=0, backend="py-evm", penalty_ueur_per_kwh=PENALTY,
             collateral_ueur=COLLATERAL) -> Vpp:
    chain = make_chain(backend, GENESIS_S, seed=seed)
    bank = chain.new_account(key_for(seed, "bank"))
    operator = chain.new_account(key_for(seed, "operator"))
    buyer = chain.new_account(key_for(seed, "buyer"))
    members = [chain.new_account(key_for(seed, f"member-{i}")) for i in range(len(shares))]
    meter_keys = [key_for(seed, f"meter-{i}") for i in range(len(shares))]
    token = EuroToken.deploy(chain, minter=bank)
    vpp = VppSettlement.deploy(
        chain, operator=operator, token=token.address, buyer=buyer, t0_s=T0_S, period_s=PERIOD_S, n_periods=48,
        price_ueur_per_kwh=PRICE, penalty_ueur_per_kwh=penalty_ueur_per_kwh, tolerance_bps=TOL_BPS,
    )
    token.mint(buyer, 10**12, sender=bank)
    token.approve(vpp.address, 10**12, sender=buyer)
    for m, k, s in zip(members, meter_keys, shares):
        vpp.register_member(m, k.public_key.to_checksum_address(), s, MAX_WH, sender=operator)
        token.mint(m, collateral_ueur, sender=bank)
        token.approve(vpp.address, collateral_ueur, sender=m)
    if seal:
        vpp.seal(sender=operator)
        for m in members:
            vpp.deposit_collateral(collateral_ueur, sender=m)
    return Vpp(chain, token, vpp, bank, operator, buyer, members, meter_keys, list(shares))


@pytest.fixture(params=["py-evm", "revm"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def v(backend) -> Vpp:
    return make_vpp(backend=backend)


# Certificates -------------------------------------------------------------------------------------------------
CONSUMER_MAX_WH = 50_000


@dataclass
class Certs:
    chain: BaseChain
    certs: Certificates
    issuer: str
    oracle: str
    producers: list[str]  # owner of device 1 (pv), device 2 (wind)
    device_keys: list  # meter keys of devices 1, 2
    consumers: list[str]
    consumer_keys: list

    def at_period_end(self, period: int, offset_s: int = 60) -> None:
        self.chain.set_time(T0_S + (period + 1) * PERIOD_S + offset_s)

    def reading(self, device_id: int, period: int, wh: int, quality: int = 0, key=None):
        return sign_reading(key or self.device_keys[device_id - 1], self.certs.domain_separator, period, wh, quality)

    def consumption(self, i: int, period: int, wh: int, quality: int = 0):
        return sign_reading(self.consumer_keys[i], self.certs.domain_separator, period, wh, quality)


def make_certs(seed: int = 0, n_periods: int = 48, backend: str = "py-evm") -> Certs:
    chain = make_chain(backend, GENESIS_S, seed=seed)
    issuer, oracle = (chain.new_account(key_for(seed, label)) for label in ("issuer", "oracle"))
    producers = [chain.new_account(key_for(seed, f"producer-{i}")) for i in range(2)]
    consumers = [chain.new_account(key_for(seed, f"consumer-{i}")) for i in range(2)]
    device_keys = [key_for(seed, f"device-meter-{i}") for i in range(2)]
    consumer_keys = [key_for(seed, f"consumer-meter-{i}") for i in range(2)]
    certs = Certificates.deploy(chain, issuer=issuer, oracle=oracle, t0_s=T0_S, period_s=PERIOD_S,
                                n_periods=n_periods)
    for (name, tech, kw), owner, key in zip((("pv-1", "pv", 500), ("wind-1", "wind", 800)), producers, device_keys):
        certs.register_device(owner, key.public_key.to_checksum_address(), name, tech, 48.1, 11.6, kw * 1000,
                              sender=issuer)
    for i, (consumer, key) in enumerate(zip(consumers, consumer_keys)):
        certs.register_consumer(consumer, key.public_key.to_checksum_address(), f"consumer-{i}", CONSUMER_MAX_WH,
                                sender=issuer)
    return Certs(chain, certs, issuer, oracle, producers, device_keys, consumers, consumer_keys)


@pytest.fixture
def c(backend) -> Certs:
    return make_certs(backend=backend)


# --- district heat -------------------------------------------------------------------------------------------
HEAT_MAX_WH = 50_000
HEAT_MAX_VOLUME_ML = 15_000_000  # the meter's 50 kWh at 3 K of cooling
HEAT_N_PERIODS = 48
OPERATOR_FLOAT_UEUR = 10**12


@dataclass
class Heat:
    chain: BaseChain
    token: EuroToken
    heat: HeatEfficiency
    bank: str
    operator: str
    consumers: list[str]
    meter_keys: list

    def at_period_end(self, period: int, offset_s: int = 60) -> None:
        self.chain.set_time(T0_S + (period + 1) * PERIOD_S + offset_s)

    def sign(self, i: int, period: int, volume_l: int, t_supply_c: float, t_return_c: float, *, quality: int = 0,
             key=None, consumer: str | None = None, heat_wh: int | None = None, domain: bytes | None = None):
        """A reading of consumer ``i``'s meter for constant temperatures over the period (heat from V·ρc_p·ΔT);
        the volume is given in litres, the reading carries millilitres."""
        volume_ml = round(volume_l * 1000)
        vts, vtr = round(volume_ml * t_supply_c * 1000), round(volume_ml * t_return_c * 1000)
        if heat_wh is None:
            heat_wh = int(volume_l * (t_supply_c - t_return_c) * 1.136)  # ~ rho*c_p of water [Wh/(l K)]
        return sign_heat_reading(key or self.meter_keys[i], domain or self.heat.domain_separator,
                                 consumer or self.consumers[i], period, heat_wh, volume_ml, vts, vtr, quality)


def make_heat(n: int = 3, seal: bool = True, seed: int = 0, references_k: dict[int, float] | None = None,
              backend: str = "py-evm") -> Heat:
    """A HeatEfficiency with ``n`` consumers, a funded operator, and references published for periods 0-5
    (40 K for every consumer unless ``references_k`` says otherwise), chain time before period 0."""
    chain = make_chain(backend, GENESIS_S, seed=seed)
    bank = chain.new_account(key_for(seed, "bank"))
    operator = chain.new_account(key_for(seed, "heat-operator"))
    consumers = [chain.new_account(key_for(seed, f"consumer-{i}")) for i in range(n)]
    meter_keys = [key_for(seed, f"heat-meter-{i}") for i in range(n)]
    token = EuroToken.deploy(chain, minter=bank)
    heat = HeatEfficiency.deploy(chain, operator=operator, token=token.address, t0_s=T0_S, period_s=PERIOD_S,
                                 n_periods=HEAT_N_PERIODS)
    token.mint(operator, OPERATOR_FLOAT_UEUR, sender=bank)
    token.approve(heat.address, OPERATOR_FLOAT_UEUR, sender=operator)
    for c, k in zip(consumers, meter_keys):
        heat.register_consumer(c, k.public_key.to_checksum_address(), HEAT_MAX_WH, HEAT_MAX_VOLUME_ML,
                               sender=operator)
    if seal:
        heat.seal(sender=operator)
        refs = {p: 40.0 for p in range(6)} | (references_k or {})
        for p, ref in refs.items():
            heat.publish_references(p, [round(ref * 1000)] * n, sender=operator)
    return Heat(chain, token, heat, bank, operator, consumers, meter_keys)


@pytest.fixture
def h() -> Heat:
    return make_heat()
