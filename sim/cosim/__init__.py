"""gridledger as a mosaik simulator (mosaik-api-v3): a thin adapter around the Twin (docs/mosaik.md).

``simulator.GridledgerSim`` is the mosaik simulator (models ``Meter``, ``Site``, ``Outlet``, ``GridOperator``,
``Ledger``; time-based); ``feed`` writes what it is given into the twin; ``outputs`` reads what its entities give
from the twin and the chain; ``results`` writes the run's results folder as ``gridledger run`` does; ``world`` is the
shipped mosaik scenario (mosaik-csv feeding measured PV into the meters); ``command`` is ``gridledger cosim``. What
gridledger computes stays where it is: the Twin's clock, physics, measurement layer (VEE) and the contracts settle;
this package only hands power in and reads results out.
"""
