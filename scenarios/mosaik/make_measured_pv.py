"""How measured_pv.csv was made (THE FILE IS AN EXAMPLE OF THE LAYOUT, NOT MEASUREMENTS): pvlib's output of each
prosumer of pv_day.toml under gridledger's synthetic weather of another seed (other clouds than the scenario's own),
times a per-prosumer derate (soiling, shading: 0.85-1.0) and 2 % noise per interval, bounded to [0, pv_kwp], in
whole W. Run from the repository root: ``python scenarios/mosaik/make_measured_pv.py``."""

from pathlib import Path

import numpy as np
import pandas as pd

from sim.inputs import compute_inputs, prosumer_params
from sim.scenario import load_scenario

HERE = Path(__file__).parent
WEATHER_SEED = 2025

scenario = load_scenario(HERE / "pv_day.toml").with_overrides({"run.seed": WEATHER_SEED})
rng = np.random.default_rng(WEATHER_SEED)
groups = prosumer_params(scenario)
inputs = compute_inputs(scenario, n_households=len(groups), prosumer_pos=np.arange(len(groups)), rng_weather=rng,
                        rng_loads=rng)
kwp = np.array([g.pv_kwp for _, g in groups])
derate = rng.uniform(0.85, 1.0, len(groups))
noise = 1.0 + 0.02 * rng.standard_normal(inputs.pv_kw.shape)
pv_kw = np.clip(inputs.pv_kw * derate * noise, 0.0, kwp).round(3)
table = pd.DataFrame({"time": [t.isoformat(timespec="minutes") for t in inputs.times]}
                     | {f"{pid}_p_kw": pv_kw[:, j] for j, (pid, _) in enumerate(groups)})
table.to_csv(HERE / "measured_pv.csv", index=False)
