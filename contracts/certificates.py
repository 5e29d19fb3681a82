"""Wrapper of Certificates: devices and consumers, weather caps, mints from signed readings, consumption,
transfers and retirements (batched), and reads. Ids are ``device_id << 128 | period``."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.batch import MAX_BATCH, post_in_batches
from contracts.chain import SETUP_GAS, Call
from contracts.chain import BaseChain as Chain
from contracts.eip712 import SignedReading, SignedReadingBatch
from contracts.vpp import day_batch_tuple
from contracts.wrapper import ContractWrapper

ID_SHIFT = 128
# items per transaction where a day's worth goes at once, so that a batch stays under the 12 Mgas limit of a
# transaction (measured: ~53 kgas per consumption reading, ~80 kgas per sale and claim, both with new slots)
BULK_READINGS = 160
BULK_SALES = 120
# consumers' day batches (up to 24 readings under one signature) per transaction: ~30 kgas a value with its new slot
BULK_DAY_BATCHES = 14


def cert_id(device_id: int, period: int) -> int:
    """The certificate id of a device's interval (as the contract computes it)."""
    return (device_id << ID_SHIFT) | period


def split_id(id_: int) -> tuple[int, int]:
    """(device_id, period) of a certificate id."""
    return id_ >> ID_SHIFT, id_ & ((1 << ID_SHIFT) - 1)


@dataclass(frozen=True)
class CapPost:
    """The oracle's weather-limited maximum for a device and interval [Wh] and its weather record hash."""

    device_id: int
    period: int
    cap_wh: int
    weather_hash: bytes

    def as_tuple(self) -> tuple:
        return (self.device_id, self.period, self.cap_wh, self.weather_hash)


@dataclass(frozen=True)
class MintRequest:
    device_id: int
    amount_wh: int
    reading: SignedReading

    def as_tuple(self) -> tuple:
        return (self.device_id, self.amount_wh, self.reading.as_tuple())


@dataclass(frozen=True)
class Transfer:
    owner: str
    receiver: str
    id: int
    amount_wh: int

    def as_tuple(self) -> tuple:
        return (self.owner, self.receiver, self.id, self.amount_wh)


@dataclass(frozen=True)
class Retirement:
    id: int
    amount_wh: int
    beneficiary: str
    consumption_interval: int

    def as_tuple(self) -> tuple:
        return (self.id, self.amount_wh, self.beneficiary, self.consumption_interval)


class Certificates(ContractWrapper):
    @classmethod
    def deploy(cls, chain: Chain, *, issuer: str, oracle: str, t0_s: int, period_s: int, n_periods: int
               ) -> Certificates:
        return cls(chain, chain.deploy("Certificates", oracle, t0_s, period_s, n_periods, sender=issuer))

    def _batched(self, fn: str, items: list, sender: str, max_batch: int = MAX_BATCH) -> list[tuple[object, str]]:
        return post_in_batches(lambda batch: self._tx(fn, [x.as_tuple() for x in batch], sender=sender), items,
                               max_batch)

    # writes -----------------------------------------------------------------------------------------------
    def register_device(self, owner: str, meter: str, name: str, technology: str, lat: float, lon: float,
                        nameplate_w: int, *, sender: str) -> int:
        """Register a production device (lat, lon in degrees, nameplate in W); returns its id (from 1), read from
        the DeviceRegistered event."""
        return self.register_devices([(owner, meter, name, technology, lat, lon, nameplate_w)], sender=sender)[0]

    def register_devices(self, devices: list[tuple[str, str, str, str, float, float, int]], *, sender: str
                         ) -> list[int]:
        """``register_device`` for each ``(owner, meter, name, technology, lat, lon, nameplate_w)``, in order, all
        in one block; their ids."""
        receipts = self._tx_many("register_device", [(owner, meter, name, tech, round(lat * 1e6), round(lon * 1e6), w)
                                                     for owner, meter, name, tech, lat, lon, w in devices],
                                 sender=sender)
        return [next(e.args["device_id"] for e in r.events if e.event == "DeviceRegistered") for r in receipts]

    def register_consumer(self, consumer: str, meter: str, name: str, max_wh_per_period: int, *, sender: str
                          ) -> None:
        """Register ``consumer`` with its meter's signing address and range [Wh per interval]."""
        self.register_consumers([(consumer, meter, name, max_wh_per_period)], sender=sender)

    def register_consumers(self, consumers: list[tuple[str, str, str, int]], *, sender: str) -> None:
        """``register_consumer`` for each ``(consumer, meter, name, max_wh_per_period)``, in order, all in one
        block."""
        self._tx_many("register_consumer", consumers, sender=sender)

    def post_caps(self, caps: list[CapPost], *, sender: str) -> list[tuple[CapPost, str]]:
        return self._batched("post_caps", caps, sender, BULK_READINGS)

    def mint(self, requests: list[MintRequest], *, sender: str) -> list[tuple[MintRequest, str]]:
        return self._batched("mint", requests, sender, BULK_READINGS)

    def record_consumption(self, readings: list[SignedReading], *, sender: str) -> list[tuple[SignedReading, str]]:
        return self._batched("record_consumption", readings, sender, BULK_READINGS)

    def record_consumption_days(self, batches: list[SignedReadingBatch], *, sender: str
                                ) -> list[tuple[SignedReadingBatch, str]]:
        """Consumers' readings, each batch a meter's run of 1 to 24 consecutive intervals under one signature
        (``Certificates.record_consumption_days``), ``BULK_DAY_BATCHES`` to a transaction; the refused batches with
        the contract's reason (a transaction that reverts is retried batch by batch)."""
        return post_in_batches(lambda chunk: self._tx("record_consumption_days", [day_batch_tuple(b) for b in chunk],
                                                      sender=sender), batches, BULK_DAY_BATCHES)

    def set_approval_for_all(self, operator: str, approved: bool, *, sender: str) -> None:
        self._tx("setApprovalForAll", operator, approved, sender=sender)

    def set_retirer(self, retirer: str, approved: bool, *, sender: str) -> None:
        """The consumer ``sender`` allows (or forbids) ``retirer`` to retire certificates on its behalf."""
        self._tx("set_retirer", retirer, approved, sender=sender)

    def set_retirer_for(self, consumers: list[str], retirer: str) -> None:
        """``set_retirer(retirer, True)`` sent by each consumer, in order, as many to a block as fit."""
        self.chain.transact_many([Call(self.contract, "set_retirer", (retirer, True), c, SETUP_GAS) for c in consumers])

    def transfer(self, owner: str, receiver: str, id_: int, amount_wh: int, *, sender: str) -> None:
        self._tx("safeTransferFrom", owner, receiver, id_, amount_wh, b"", sender=sender)

    def transfer_many(self, transfers: list[Transfer], *, sender: str) -> list[tuple[Transfer, str]]:
        return self._batched("transfer_many", transfers, sender)

    def retire(self, id_: int, amount_wh: int, beneficiary: str, consumption_interval: int, *, sender: str):
        return self._tx("retire", id_, amount_wh, beneficiary, consumption_interval, sender=sender)

    def retire_many(self, retirements: list[Retirement], *, sender: str) -> list[tuple[Retirement, str]]:
        return self._batched("retire_many", retirements, sender)

    def sell_and_retire(self, sales: list[Transfer], *, sender: str) -> list[tuple[Transfer, str]]:
        """Each sale moved from its producer to its consumer and retired for that consumer against its consumption
        in the certificate's interval (``Certificates.sell_and_retire``), ``BULK_SALES`` to a transaction; the
        refused sales with the contract's reason (a batch that reverts is retried sale by sale)."""
        return self._batched("sell_and_retire", sales, sender, BULK_SALES)

    # reads ------------------------------------------------------------------------------------------------
    def balance_of(self, owner: str, id_: int) -> int:
        return self.call("balanceOf", owner, id_)

    def balances(self, pairs: list[tuple[str, int]]) -> list[int]:
        """Balances of (owner, id) pairs [Wh], read in batched calls."""
        out: list[int] = []
        for i in range(0, len(pairs), MAX_BATCH):
            chunk = pairs[i : i + MAX_BATCH]
            out.extend(self.call("balanceOfBatch", [o for o, _ in chunk], [x for _, x in chunk]))
        return out

    def caps(self, ids: list[int]) -> list[int]:
        """Weather caps of certificate ids [Wh] (0 where none is posted), read in batched calls."""
        return [c for i in range(0, len(ids), MAX_BATCH) for c in self.call("caps_of", ids[i : i + MAX_BATCH])]

    def minted_wh(self, id_: int) -> int:
        return self.call("minted_wh", id_)

    def retired_wh(self, id_: int) -> int:
        return self.call("retired_wh", id_)

    def cap_wh(self, id_: int) -> int:
        return self.call("cap_wh", id_)

    def consumed_wh(self, consumer: str, period: int) -> int:
        return self.call("consumed_wh", consumer, period)

    def claimed_wh(self, consumer: str, period: int) -> int:
        return self.call("claimed_wh", consumer, period)
