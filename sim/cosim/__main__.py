"""``python -m sim.cosim SCENARIO --csv FILE [--out DIR] [--force]``: the shipped mosaik scenario (mosaik-csv
feeding measured PV into gridledger's meters), e.g. ``scenarios/mosaik/pv_day.toml --csv
scenarios/mosaik/measured_pv.csv``; the same as ``gridledger cosim`` (``sim.cosim.command``)."""

from __future__ import annotations

import sys

from sim.cosim.command import main

if __name__ == "__main__":
    sys.exit(main())
