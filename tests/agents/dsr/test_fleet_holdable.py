"""The outlets' shared holdability of a thermostatic fleet (``FleetHoldable``) answers, step after step, what the
fleet's own one-appliance call ``ThermostaticFleet.holdable(k, [i])`` answers: through thermostats switching,
holds, and a relay's read-back rerunning a step already run (which changes temperatures in place)."""

from __future__ import annotations

import numpy as np

from agents.dsr.outlet import FleetHoldable, ThermostaticPlug
from grid_models.appliances import THERMAL_TYPES, ThermostaticFleet

N_STEPS = 240


def _fleet(rng) -> ThermostaticFleet:
    names = ["refrigerator", "freezer", "water_heater"] * 4
    types = [THERMAL_TYPES[n] for n in names]
    draws_wh = np.zeros((N_STEPS, len(types)))
    tanks = [j for j, n in enumerate(names) if n == "water_heater"]
    draws_wh[:, tanks] = rng.choice([0.0, 0.0, 0.0, 60.0, 200.0], size=(N_STEPS, len(tanks)))
    temp0 = np.array([rng.uniform(t.dead_band_c[0] - 1.0, t.dead_band_c[1] + 1.0) for t in types])
    return ThermostaticFleet(types, draws_wh, temp0, rng.random(len(types)) < 0.5)


def test_shared_answers_are_the_fleets_own_one_appliance_answers():
    rng = np.random.default_rng(7)
    f = _fleet(rng)
    held = np.zeros(f.n, dtype=bool)
    shared = FleetHoldable(f)
    plugs = [ThermostaticPlug(f, i, held, shared) for i in range(f.n)]
    answers = {True: 0, False: 0}
    for k in range(N_STEPS):
        if k > 0 and k % 17 == 0:  # a relay read back the last minute off: that step is run again for one appliance
            plugs[k % f.n].cut(k - 1)
        f.demand(k)
        held[:] = False
        for i, plug in enumerate(plugs):
            expected = bool(f.holdable(k, [i])[0])  # the reference: the fleet's call for this appliance alone
            assert plug.holdable(k) is expected, (k, i)
            answers[expected] += 1
            if expected and rng.random() < 0.3:
                plug.hold(k)
        f.step(k, held)
    assert answers[True] > 100 and answers[False] > 100  # both answers exercised, not a trivially constant one
