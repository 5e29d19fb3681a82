"""A district: copies of one LV feeder as secondary substations along one 10 kV (MV) cable feeder.

Topology (radial, as an open MV ring is operated): the primary substation's 10 kV busbar carries the only
external grid (the upstream HV/MV supply, 1.0 pu); an MV cable section runs from it to the first secondary
substation's 10 kV bus, another from there to the second, and so on. Each copy keeps its own 10/0.4 kV
transformer, LV busbar, cables and households; its own external grid is removed. Buses are zoned
``"mv"`` and ``"substation <k>"`` (k from 1), transformers named ``"substation <k>"``.
"""

from __future__ import annotations

from collections.abc import Callable

import pandapower as pp

MV_KV = 10.0
MV_CABLE_STD_TYPE = "NA2XS2Y 1x240 RM/25 6/10 kV"  # pandapower standard type, 0.416 kA
MV_SECTION_KM = 0.5  # cable between neighbouring substations [km]


def substation_zone(k: int) -> str:
    """The bus zone (and transformer name) of the k-th secondary substation, k from 1."""
    return f"substation {k}"


def create_district(lv_builder: Callable[[], object], n_substations: int,
                    mv_section_km: float = MV_SECTION_KM, mv_cable_std_type: str = MV_CABLE_STD_TYPE):
    """``n_substations`` LV feeders from ``lv_builder`` (each a 10 kV external grid, one 10/0.4 kV transformer)
    joined as secondary substations along one 10 kV cable feeder of ``mv_section_km`` [km] sections of
    ``mv_cable_std_type``. Buses, loads and lines keep the copies' order (copy 1's first)."""
    net = pp.create_empty_network(name=f"district of {n_substations} substations")
    upstream_bus = pp.create_bus(net, vn_kv=MV_KV, name="primary substation 10 kV busbar", type="b", zone="mv")
    pp.create_ext_grid(net, upstream_bus, vm_pu=1.0, name="HV/MV supply")
    for k in range(1, n_substations + 1):
        lv = lv_builder()
        pp.toolbox.create_continuous_bus_index(lv, start=len(net.bus))  # buses numbered in copy order
        (hv_bus,) = lv.ext_grid.bus.unique()
        if len(lv.trafo) != 1 or lv.trafo.hv_bus.iloc[0] != hv_bus or lv.bus.vn_kv[hv_bus] != MV_KV:
            raise ValueError("a district is built from feeders with one 10 kV external grid and one transformer")
        lv.ext_grid = lv.ext_grid.iloc[0:0]
        lv.bus["zone"] = substation_zone(k)
        lv.trafo["name"] = substation_zone(k)
        net = pp.toolbox.merge_nets(net, lv, validate=False, merge_results=False, std_prio_on_net1=False,
                                    net2_reindex_log_level=None)
        pp.create_line(net, upstream_bus, hv_bus, mv_section_km, mv_cable_std_type,
                       name=f"MV cable to {substation_zone(k)}")
        upstream_bus = hv_bus
    return net
