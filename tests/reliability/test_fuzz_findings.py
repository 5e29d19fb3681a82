"""What the run-what-validates fuzz (``test_run_what_validates.py``) found: scenarios that validated and then
crashed the run (or crashed validation itself). Each is now refused by ``validate``, naming the field; the
values just inside each new bound still run (see the fuzz)."""

from __future__ import annotations

import copy
import re

import pytest

from sim.scenario import ScenarioError, validate_scenario
from tests.reliability.scenario_strategies import SHRUNK, put


@pytest.mark.parametrize("base, path, value, field, message", [
    # zoneinfo raised IsADirectoryError / OSError(ENAMETOOLONG) out of validation (a traceback)
    ("vpp", ("site", "tz"), "Europe", "site.tz", "an IANA time zone"),
    # 1e308 EUR of collateral overflowed the token's supply when the pool opened (deep run, seed 22)
    ("vpp", ("prices", "member_collateral_eur"), 1e308, "prices.member_collateral_eur", "less than or equal to 1000000000"),
    ("vpp", ("site", "tz"), "x" * 300, "site.tz", "an IANA time zone"),
    # validated, then reverted on chain in register_member: "share must be 1 to 10000 bps" (0 bp from no PV; with
    # every member at -0.0 kWp the shares were NaN: "-9223372036854775808 is not a uint256")
    ("vpp", ("population", 0, "pv_kwp"), 0.0, "<top>", r"vpp.share_rule: 'pv_kwp' .* 0 basis points"),
    ("vpp", ("population", 0, "pv_kwp"), 100_000.0, "<top>", r"vpp.share_rule: 'pv_kwp' .* 0 basis points"),
    # validated, then reverted on chain: a meter range beyond the contract's bound
    ("vpp", ("population", 0, "pv_kwp"), 1e30, r"population\[0\].pv_kwp", "less than or equal to 100000"),
    ("vpp", ("population", 0, "battery_kw"), 1e30, r"population\[0\].battery_kw", "less than or equal to 100000"),
    ("certificates", ("certificates", "consumers", 0, "annual_kwh"), 2.0**64,
     r"certificates.consumers\[0\].annual_kwh", "less than or equal to 1000000000"),
    ("certificates", ("certificates", "sites", 0, "nameplate_kw"), 1e30, r"certificates.sites\[0\].nameplate_kw",
     "less than or equal to 10000000"),
    ("certificates", ("certificates", "sites", 1, "nameplate_kw"), 1e-6, r"certificates.sites\[1\].nameplate_kw",
     "greater than or equal to 0.001"),  # 0 W on chain: "certs: nameplate out of range" (the deep run found it)
    ("insurance", ("insurance", "producers", 0, "nameplate_kw"), 1e30, r"insurance.producers\[0\].nameplate_kw",
     "less than or equal to 10000000"),
    ("district_heating", ("heat", "buildings", 0, "annual_heat_kwh"), 1e30,
     r"heat.buildings\[0\].annual_heat_kwh", "less than or equal to 100000000"),
    ("insurance", ("insurance", "price_eur_per_kwh"), 1e30, "insurance.price_eur_per_kwh",
     "less than or equal to 1000"),
    # validated, then the operator's network model found no pipe flow: every substation returning at 2**70 degC
    # (the deep run found it; the bound is the substation model's: at most MIN_COOLING_K below the supply)
    ("district_heating", ("heat", "reference", "expected_return_c", 1), 2**70, "heat",
     r"reference.expected_return_c: the expected return at supply 70 degC is 2.95148e\+20 degC"),
    ("district_heating", ("heat", "reference", "expected_return_c"), [-0.5, 0.0], "heat",
     "must lie from 0 degC"),
    # validated, then the pipe flow did not converge (a pipe losing 2**31 W/(m K): the deep run found it)
    ("district_heating", ("heat", "network", "pipe_loss_w_per_mk"), 2**31, "heat.network.pipe_loss_w_per_mk",
     "less than or equal to 100"),
    ("district_heating", ("heat", "network", "segment_length_m"), 1e30, "heat.network.segment_length_m",
     "less than or equal to 10000"),
    # validated, then reverted on chain: "certs: meter range out of bounds" (a 0 Wh meter range; deep run, seed 22)
    ("community", ("certificates", "consumers", 0, "annual_kwh"), 5e-324, r"certificates.consumers\[0\].annual_kwh",
     "greater than or equal to 0.001"),
    # validated, then the power flow did not converge (1e30 kWh a year on a household)
    ("vpp", ("population", 0, "annual_load_kwh"), 1e30, r"population\[0\].annual_load_kwh",
     "less than or equal to 100000000"),
])
def test_what_crashed_the_run_is_refused_naming_the_field(base, path, value, field, message):
    data = copy.deepcopy(SHRUNK[base])
    put(data, path, value)
    with pytest.raises(ScenarioError) as err:
        validate_scenario(data, source="s.toml")
    text = str(err.value)
    assert re.search(rf"s.toml: {field}: .*{message}", text), text


@pytest.mark.parametrize("annual_heat_kwh", [2.0, 100.0])
def test_a_building_with_a_tiny_heat_demand_runs(annual_heat_kwh):
    """Validated, then the run stopped with PipeflowNotConverged (a random 1000-example fuzz run found it): the
    flow meeting so small a demand is the one at which the pipe alone cools the supply to the return set point,
    where the substation's equation is singular. The substation now keeps its keep-warm flow (the summer bypass;
    grid_models.heat_network.HeatNetwork.solve) and the run goes to the end."""
    from sim.runner import run_scenario

    data = copy.deepcopy(SHRUNK["district_heating"])
    put(data, ("heat", "buildings", 0, "annual_heat_kwh"), annual_heat_kwh)
    run_scenario(validate_scenario(data, source="s.toml"))


@pytest.mark.parametrize("base, muts", [
    ("vpp", [(("population", 0, "annual_load_kwh"), 1e7)]),  # 1e5 runs; 1e6 at some hours, 1e7 and the cap 1e8 not
    ("micro_dsr", [(("population", 0, "annual_load_kwh"), 1e6),  # found by the deep run
                   (("run", "start"), "2000-01-01T00:00+03:20")]),
    ("vpp", [(("population", 0, "pv_kwp"), 1e5), (("population", 1, "pv_kwp"), 1e5), (("run", "start"), "noon")]),
], ids=["annual_load_kwh-1e7", "annual_load_kwh-1e6-micro_dsr", "pv_kwp-1e5-at-noon"])
def test_what_the_feeder_cannot_carry_trips_it_and_the_run_completes(base, muts):
    """Large values inside their caps (the contracts' meter range) on the smallest feeder,
    kerber_landnetz_kabel_1, validated and then stopped the run (``PowerFlowError``; found by the deep runs). Where
    the power flow has no solution the feeder's protection now trips for the step (de-energised: every meter reads
    0) and the run goes to the end, every period settled, the tripped steps counted."""
    import datetime as dt

    from sim.runner import run_scenario

    data = copy.deepcopy(SHRUNK[base])
    for path, value in muts:
        put(data, path, dt.datetime(2025, 6, 1, 12) if value == "noon" else
            dt.datetime.fromisoformat(value) if isinstance(value, str) else value)
    result = run_scenario(validate_scenario(data, source="s.toml"))
    physics = result.summary["physics"]
    assert physics["feeder_tripped_steps"] > 0
    assert physics["energy_balance_max_abs_error_kw"] < 1e-3
    for name in ("vpp", "dsr"):
        if "periods_settled" in result.summary.get(name, {}):
            assert result.summary[name]["periods_settled"] == result.summary[name]["periods"]
