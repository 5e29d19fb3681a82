"""Re-check each accepted reading's signature (``readings.parquet``, ``sim.measurement.readings_log``'s
signature columns) against its meter, registered on the replayed chain: the EIP-712 digest is rebuilt from the
row's values (``contracts.eip712``), the signer recovered from v, r, s must be the row's ``signer``, the same for
every row of the meter, and a meter the verifying contract registered."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from eth_keys import keys

from contracts.eip712 import domain_separator, heat_reading_digest, reading_batch_digest, reading_digest
from contracts.replay_check import Differs

REGISTRY_VIEWS = ("member_of_meter", "consumer_of_meter", "device_of_meter")  # nonzero for a registered meter


def _recover(digest: bytes, v: int, r: str, s: str) -> str:
    try:
        sig = keys.Signature(vrs=(int(v) - 27, int(r, 16), int(s, 16)))
        return sig.recover_public_key_from_msg_hash(digest).to_checksum_address()
    except Exception:  # noqa: BLE001 - a malformed signature recovers to no one
        return ""


def _registered(chain, contract: str, meter: str, cache: dict) -> bool:
    key = (contract.lower(), meter)
    if key not in cache:
        c = chain.contract_at(contract)
        cache[key] = c is not None and any(
            chain.call(c, fn, meter) not in (0, "0x" + "00" * 20, "0x0000000000000000000000000000000000000000")
            for fn in REGISTRY_VIEWS if fn in c.functions)
    return cache[key]


def check_readings(path: Path, chain) -> int:
    """Number of signatures checked; raises ``contracts.replay_check.Differs`` naming the first reading that fails."""
    df = pd.read_parquet(path)
    if "sig_v" not in df.columns:
        return 0
    df = df[df["status"].eq("accepted") & df["sig_v"].notna()]
    domains: dict[str, bytes] = {}
    signer_of: dict[str, str] = {}
    registered: dict = {}
    checked = 0

    def where(row) -> str:
        return f"reading {row.meter} period {int(row.period)}"

    def domain(contract: str) -> bytes:
        if contract not in domains:
            domains[contract] = domain_separator(chain.chain_id, contract)
        return domains[contract]

    batches: dict[tuple, list] = {}
    for row in df.itertuples(index=False):
        if signer_of.setdefault(row.meter, row.signer) != row.signer:
            raise Differs(f"{where(row)}: signed by {row.signer}, other readings of the meter by "
                          f"{signer_of[row.meter]}")
        if not _registered(chain, row.sig_contract, row.signer, registered):
            raise Differs(f"{where(row)}: {row.signer} is no meter {row.sig_contract} registered")
        if row.sig_kind == "batch":
            batches.setdefault((row.signer, row.sig_contract, int(row.sig_first), row.sig_r, row.sig_s), []).append(row)
            continue
        if row.sig_kind == "heat":
            digest = heat_reading_digest(domain(row.sig_contract), row.signer, row.consumer, int(row.period),
                                         int(row.energy_wh), int(row.volume_ml), int(row.vt_supply_mlmc),
                                         int(row.vt_return_mlmc), int(row.quality))
        else:
            digest = reading_digest(domain(row.sig_contract), row.signer, int(row.period), int(row.energy_wh),
                                    int(row.quality))
        if _recover(digest, row.sig_v, row.sig_r, row.sig_s) != row.signer:
            raise Differs(f"{where(row)}: its signature does not match its value and meter {row.signer}")
        checked += 1
    for (signer, contract, first, r, s), rows in batches.items():
        rows = sorted(rows, key=lambda x: x.period)
        if [int(x.period) for x in rows] != list(range(first, first + len(rows))):
            raise Differs(f"{where(rows[0])}: its batch from period {first} is not every period once")
        digest = reading_batch_digest(domain(contract), signer, first, [int(x.energy_wh) for x in rows],
                                      [int(x.quality) for x in rows])
        if _recover(digest, rows[0].sig_v, r, s) != signer:
            raise Differs(f"{where(rows[0])} (a batch of periods {first}–{first + len(rows) - 1}): its signature "
                          f"does not match its values and meter {signer}")
        checked += 1
    return checked
