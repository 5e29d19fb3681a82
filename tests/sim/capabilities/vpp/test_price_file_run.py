"""A price file changes the run as it should: a hand-made two-day hourly series (100 EUR/MWh every hour of day 1,
200 EUR/MWh of day 2) on the small VPP. The buyer publishes exactly the file's price for each period (read back from
the contract and its events), and pays Σ delivered x price: per period from the chain's settlement events, and in
total from its token balance against the energy in the readings log. ``gridledger run --set prices.tariff=file
--set prices.price_file=...`` equals the Python API's overrides on the same keys."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim.capabilities.vpp.capability import BUYER_FLOAT_EUR
from sim.cli import main
from sim.files.series import file_sha256
from sim.results.summary import event_args
from sim.runner import run_scenario
from tests.conftest import ROOT, SMALL
from tests.sim.capabilities.vpp.test_price_file import two_days

VPP = ROOT / "scenarios" / "vpp.toml"
FILE_PRICES = [100_000] * 24 + [200_000] * 24  # µEUR/kWh (1 EUR/MWh = 1000 µEUR/kWh)


@pytest.fixture(scope="module")
def priced(tmp_path_factory):
    path = two_days(tmp_path_factory.mktemp("prices") / "two_days.csv")
    run = run_scenario(VPP, overrides={**SMALL, "run.duration_s": 2 * 86_400, "prices.tariff": "file",
                                       "prices.price_file": str(path)})
    return run, path


@pytest.mark.slow
def test_the_buyer_publishes_the_files_price_for_every_period(priced):
    run, _ = priced
    published = event_args(run.ledger, "VppSettlement", "PricePublished").set_index("period").price_ueur_per_kwh
    assert published.sort_index().tolist() == FILE_PRICES and published.index.tolist() == list(range(48))
    vpp = run.twin.capabilities[0].vpp
    assert [vpp.call("price_of", p) for p in range(48)] == FILE_PRICES  # the contract's own answer
    settled = event_args(run.ledger, "VppSettlement", "PeriodSettled").set_index("period").sort_index()
    assert settled.price_ueur_per_kwh.tolist() == FILE_PRICES


@pytest.mark.slow
def test_the_buyer_pays_delivered_energy_times_the_files_price(priced):
    run, path = priced
    settled = event_args(run.ledger, "VppSettlement", "PeriodSettled").set_index("period").sort_index()
    assert (settled.revenue_ueur == settled.delivered_wh * pd.Series(FILE_PRICES) // 1000).all()
    # the energy from the readings log, the money from the buyer's balance on chain
    readings = run.readings[run.readings.status == "accepted"]
    delivered_wh = readings.groupby("period").energy_wh.sum().reindex(range(48), fill_value=0)
    assert delivered_wh.tolist() == settled.delivered_wh.tolist()
    expected_ueur = int((delivered_wh * pd.Series(FILE_PRICES) // 1000).sum())
    twin = run.twin
    buyer_balance = twin.bank.token.balance_of(twin.capabilities[0].buyer)
    assert round(BUYER_FLOAT_EUR * 1e6) - buyer_balance == expected_ueur
    # known totals: day 1 at 0.10 EUR/kWh, day 2 at 0.20 EUR/kWh (to the µEUR each period rounds down)
    day1_kwh, day2_kwh = delivered_wh[:24].sum() / 1000, delivered_wh[24:].sum() / 1000
    assert run.summary["vpp"]["revenue_eur"] == pytest.approx(0.1 * day1_kwh + 0.2 * day2_kwh, abs=48e-6)
    block = run.summary["vpp"]["price_file"]
    assert block["path"] == str(path) and block["sha256"] == file_sha256(path)
    assert block["periods_raised_to_floor"] == 0 and block["mean_published_eur_per_kwh"] == 0.15


@pytest.mark.slow
def test_set_equals_the_python_api_on_the_price_keys(tmp_path):
    path = two_days(tmp_path / "p.csv")
    keys = {**SMALL, "run.duration_s": 7200, "prices.tariff": "file", "prices.price_file": str(path)}
    sets = [f"{k}={json.dumps(v)}" for k, v in keys.items()]
    assert main(["run", str(VPP), *(x for s in sets for x in ("--set", s)), "--out", str(tmp_path / "cli")]) == 0
    api = run_scenario(VPP, overrides=keys, out=tmp_path / "api")
    cli_manifest = json.loads((tmp_path / "cli" / "manifest.json").read_text())
    assert cli_manifest["scenario"]["prices"]["price_file"] == str(path)
    assert cli_manifest["scenario_sha256"] == api.manifest["scenario_sha256"]
    for name in ("timeseries", "ledger", "readings"):
        assert pd.read_parquet(tmp_path / "cli" / f"{name}.parquet").equals(
            pd.read_parquet(tmp_path / "api" / f"{name}.parquet")), name
    assert (tmp_path / "cli" / "summary.json").read_bytes() == (tmp_path / "api" / "summary.json").read_bytes()
    prices = event_args(api.ledger, "VppSettlement", "PricePublished").price_ueur_per_kwh.tolist()
    assert prices == [100_000, 100_000]
