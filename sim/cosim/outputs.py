"""What the simulator's entities give, read from the twin after a step: power and state from the twin's records,
energy, periods and money from the chain through the contract wrappers. A chain read is remembered until the
chain's next block (state changes only with blocks), nothing longer: no copy of the ledger is kept here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.certificates import cert_id
from contracts.flex import FLEX_UNITS_PER_TOKEN
from contracts.token import UEUR_PER_EUR
from sim.twin import Twin


class ChainReader:
    """Reads a run's chain for the simulator's outputs. Which periods are settled is asked of the VPP contracts
    (``period_settled``), from the last one found settled onwards."""

    def __init__(self, twin: Twin):
        self.twin = twin
        self.vpp = twin.capability("vpp")
        self._settled_through = {id(p): -1 for p in self.vpp.pools} if self.vpp is not None else {}
        self.certificates, self.dsr = twin.capability("certificates"), twin.capability("dsr")
        self._minted_total: dict[int, tuple[int, int]] = {}  # site index -> (through interval, Wh minted)
        self._memo: dict[tuple, Any] = {}
        self._memo_block = -1

    def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, a read of the chain, asked once per block."""
        block = self.twin.chain.block_number
        if block != self._memo_block:
            self._memo, self._memo_block = {}, block
        key = (fn, *args)
        if key not in self._memo:
            self._memo[key] = fn(*args)
        return self._memo[key]

    def settled_through(self, pool) -> int:
        """The last period of ``pool`` settled on chain, -1 if none (periods settle in order)."""
        last = self._settled_through[id(pool)]
        while last + 1 < self.twin.n_periods and self.read(pool.vpp.period_settled, last + 1):
            last += 1
        self._settled_through[id(pool)] = last
        return last

    def meter(self, j: int, k: int, attrs: list[str]) -> dict[str, Any]:
        """The outputs ``attrs`` of prosumer ``j``'s meter after step ``k`` (None where the run has no VPP)."""
        twin, out = self.twin, {}
        pid = twin.prosumer_ids[j]
        account = twin.accounts[pid]
        pool = self.vpp.pool_of.get(pid) if self.vpp is not None else None
        for attr in attrs:
            if attr in ("export_p_kw", "soc_kwh"):
                value = twin.recorder.prosumer["export_kw" if attr == "export_p_kw" else attr][k, j]
                out[attr] = None if value != value else float(value)  # NaN: no feeder, nothing recorded
            elif attr == "register_wh":
                out[attr] = float(twin.prosumer_meters[j].export_register_wh)
            elif attr == "balance_eur":
                out[attr] = self._balance(account)
            elif pool is None:
                out[attr] = None
            elif attr == "declared_wh":
                period = twin.period_of_step(min(k + 1, twin.n_steps - 1))  # the period of the next step
                out[attr] = self.read(pool.vpp.declared_wh, period, account)
            elif attr == "collateral_eur":
                out[attr] = self.read(pool.vpp.collateral_ueur, account) / UEUR_PER_EUR
            elif attr in ("reading_period", "reading_wh"):
                last = self.settled_through(pool)
                out[attr] = last if attr == "reading_period" else (
                    self.read(pool.vpp.delivered_wh, last, account) if last >= 0 else None)
            else:
                raise ValueError(f"Meter has no attribute {attr!r}")
        return out

    def site(self, i: int, k: int, attrs: list[str]) -> dict[str, Any]:
        """The outputs ``attrs`` of certificate site ``i`` after step ``k``."""
        certs, out = self.certificates, {}
        device = certs.producers[i].device_id
        last = self.twin.settled_through
        for attr in attrs:
            if attr == "p_kw":
                out[attr] = float(certs.gen_kw[k, i])
            elif attr == "interval":
                out[attr] = last
            elif attr in ("cap_wh", "minted_wh"):
                fn = certs.certs.cap_wh if attr == "cap_wh" else certs.certs.minted_wh
                out[attr] = self.read(fn, cert_id(device, last)) if last >= 0 else None
            elif attr == "minted_total_wh":
                through, total = self._minted_total.get(i, (-1, 0))
                for p in range(through + 1, last + 1):
                    total += self.read(certs.certs.minted_wh, cert_id(device, p))
                self._minted_total[i] = (max(through, last), total)
                out[attr] = total
            else:
                raise ValueError(f"Site has no attribute {attr!r}")
        return out

    def outlet(self, n: int, attrs: list[str]) -> dict[str, Any]:
        """The outputs ``attrs`` of smart outlet ``n`` after the step just run."""
        dsr, out = self.dsr, {}
        o = dsr.outlets[n]
        for attr in attrs:
            if attr == "holding":
                out[attr] = bool(o.holding)
            elif attr == "delay_min":
                out[attr] = o.state.hold.minutes if o.holding else 0
            elif attr == "customer_delay_min":
                out[attr] = self.read(dsr.flex.call, "delay_min_of", o.customer)
            elif attr == "customer_flex_tokens":
                out[attr] = self.read(dsr.flex.balance_of, o.customer) / FLEX_UNITS_PER_TOKEN
            else:
                raise ValueError(f"Outlet has no attribute {attr!r}")
        return out

    def operator(self, k: int, attrs: list[str]) -> dict[str, Any]:
        """The outputs ``attrs`` of the micro-DSR grid operator after step ``k``: the DR event on in it (as its
        creation went on chain) and what the outlets held."""
        dsr, out = self.dsr, {}
        ev = next((e for e in reversed(dsr.operator.events) if e.start_min <= k < e.end_min), None)
        for attr in attrs:
            if attr == "event_id":
                out[attr] = -1 if ev is None else ev.event_id
            elif attr == "requested_w":
                out[attr] = 0 if ev is None else ev.requested_w
            elif attr in ("held_kw", "outlets_holding"):
                value = dsr.series[attr][k]
                out[attr] = float(value) if attr == "held_kw" else int(value)
            else:
                raise ValueError(f"GridOperator has no attribute {attr!r}")
        return out

    def _balance(self, account: str) -> float:
        """``account``'s EuroToken balance [EUR]."""
        return self.read(self.twin.bank.token.balance_of, account) / UEUR_PER_EUR

    def ledger(self, attrs: list[str]) -> dict[str, Any]:
        """The outputs ``attrs`` of the ledger entity, read from the chain now."""
        twin, out = self.twin, {}
        for attr in attrs:
            if attr == "block_number":
                out[attr] = int(twin.chain.block_number)
            elif attr == "settled_periods":
                out[attr] = sum(self.settled_through(p) + 1 for p in self.vpp.pools) if self.vpp is not None else 0
            elif attr == "supply_eur":
                out[attr] = self.read(twin.bank.token.total_supply) / UEUR_PER_EUR
            elif attr == "balances_eur":
                out[attr] = {label: self._balance(address)
                             for label, address in twin.bank.accounts.items()}
            elif attr == "flex_tokens":
                out[attr] = (self.read(self.dsr.flex.total_supply) / FLEX_UNITS_PER_TOKEN
                              if self.dsr is not None else 0.0)
            elif attr in ("certificates_minted_wh", "certificates_retired_wh"):
                total = "total_minted_wh" if attr == "certificates_minted_wh" else "total_retired_wh"
                out[attr] = self.read(self.certificates.certs.call, total) if self.certificates is not None else 0
            else:
                raise ValueError(f"Ledger has no attribute {attr!r}")
        return out
