"""The Site, Outlet and Ledger models under mosaik (nothing fed): mosaik stepping the twin reproduces
``gridledger run`` exactly (the same decoded chain), and what mosaik's own OutputSimulator collected from the
entities step by step is what the chain's events say: each site's interval cap and mint (``CapPosted``,
``Issued``), the outlets holding in each minute (the run's own ``outlets_holding`` series) and the FLEX tokens."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sim.cosim.world import run_world
from sim.results.summary import event_args
from sim.runner import run_scenario
from tests.conftest import CERTS_SMALL, ROOT

SITE_ATTRS = ("interval", "cap_wh", "minted_wh", "minted_total_wh")
EVENING = {"run.start": dt.datetime(2025, 1, 13, 15, 0), "run.duration_s": 10_800}  # tests/sim/capabilities/dsr


def _ledger(folder):
    return pd.read_parquet(folder / "ledger.parquet")


# Each interval minted when it closes, so that a site's per-step outputs have something to show at every step (in
# bulk, the default, a day's certificates are minted at once when the day is final: docs/mosaik.md)
HOURLY = {**CERTS_SMALL, "certificates.settlement": "per_action"}


@pytest.fixture(scope="module")
def certs_mosaik(tmp_path_factory):
    root = tmp_path_factory.mktemp("cosim")
    run = run_world(ROOT / "scenarios" / "certificates.toml",
                    {"Site": {None: SITE_ATTRS}, "Ledger": {None: ("certificates_minted_wh",)}},
                    overrides=HOURLY, out=root / "certs")
    native = run_scenario(ROOT / "scenarios" / "certificates.toml", overrides=HOURLY, out=root / "native")
    return run, root / "certs", native


@pytest.mark.slow
def test_sites_give_their_certificates_as_the_chain_logged_them(certs_mosaik):
    run, out, native = certs_mosaik
    ledger = _ledger(out)
    pd.testing.assert_frame_equal(ledger, _ledger(native.folder))  # mosaik's stepping = Twin.run
    devices = event_args(ledger, "Certificates", "DeviceRegistered").set_index("name").device_id
    caps = event_args(ledger, "Certificates", "CapPosted").set_index(["device_id", "period"]).cap_wh
    issued = event_args(ledger, "Certificates", "Issued").set_index(["device_id", "period"]).amount_wh
    checked = 0
    for site, device in devices.items():
        for _, out_ in sorted(run["outputs"][site].items()):
            p = out_["interval"]
            if p < 0:
                assert out_["minted_wh"] is None
                continue
            assert out_["cap_wh"] == caps[(device, p)]
            assert out_["minted_wh"] == issued.get((device, p), 0)
            checked += 1
        total = int(issued.xs(device, level="device_id").sum()) if device in issued.index.get_level_values(0) else 0
        assert out_["minted_total_wh"] == total
    assert checked > 0 and (issued > 0).any()
    last = run["outputs"]["ledger"]
    assert last[max(last)]["certificates_minted_wh"] == int(issued.sum())


@pytest.fixture(scope="module")
def dsr_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cosim")
    co = run_world(ROOT / "scenarios" / "micro_dsr.toml",
                   {"Outlet": {None: ("holding", "delay_min")}, "Ledger": {None: ("flex_tokens",)}},
                   overrides=EVENING, out=root / "mosaik")
    native = run_scenario(ROOT / "scenarios" / "micro_dsr.toml", overrides=EVENING, out=root / "native")
    return co, root / "mosaik", native


@pytest.mark.slow
def test_outlets_give_their_delays_minute_by_minute(dsr_runs):
    co, out, native = dsr_runs
    pd.testing.assert_frame_equal(_ledger(out), _ledger(native.folder))
    ts = native.timeseries
    holding = ts[(ts.entity == "dsr") & (ts.quantity == "outlets_holding")].value.to_numpy()
    outlets = {eid: rec for eid, rec in co["outputs"].items() if eid != "ledger"}
    assert len(outlets) == native.summary["dsr"]["outlets"]
    per_minute = [sum(rec[k * 60]["holding"] for rec in outlets.values()) for k in range(len(holding))]
    assert per_minute == holding.astype(int).tolist() and max(per_minute) > 0
    # a delay's minutes count up while it lasts; the held minutes of all outlets are the run's delay minutes
    assert sum(per_minute) == native.summary["dsr"]["delay_min"]
    for rec in outlets.values():
        for k in range(1, len(holding)):
            now, before = rec[k * 60], rec[(k - 1) * 60]
            assert now["delay_min"] in ((1, before["delay_min"] + 1) if now["holding"] else (0,))
    tokens = co["outputs"]["ledger"]
    assert tokens[max(tokens)]["flex_tokens"] == native.summary["dsr"]["tokens_total"] > 0
