"""The simulator's mosaik meta: its models, their parameters and attributes (mosaik-api-v3's format).

Power in [kW] is the mean over the step that starts at the mosaik time it is given for (as gridledger's profile
files, docs/your_data.md); energy in [Wh] and money in [EUR] are read back from the chain.
"""

from __future__ import annotations

API_VERSION = "3.0"

METER_INPUTS = ("pv_p_kw", "load_p_kw")  # a prosumer's PV output and household load [kW], mean over the step
METER_OUTPUTS = (
    "export_p_kw",  # net export at the meter in the step just run [kW] (the power flow's, export positive)
    "soc_kwh",  # the battery's state of charge at the end of the step [kWh]
    "register_wh",  # the meter's export register [Wh]
    "declared_wh",  # energy the VPP operator declared for the member in the current period, on chain [Wh]
    "reading_period",  # the last period settled on chain (-1: none yet)
    "reading_wh",  # the member's VEE-validated reading the contract accepted for that period, on chain [Wh]
    "balance_eur",  # the member's EuroToken balance, on chain [EUR]
    "collateral_eur",  # the member's collateral held by the VPP contract, on chain [EUR]
)
SITE_INPUTS = ("p_kw",)  # a certificate site's generation [kW], mean over the step: replaces the model's
SITE_OUTPUTS = (  # a certificate site (capability 3)
    "p_kw",  # the site's generation its meter integrated in the step just run [kW] (the fed one, if fed)
    "interval",  # the last certificate interval settled (-1: none yet)
    "cap_wh",  # the weather cap of that interval, posted by the oracle, on chain [Wh]
    "minted_wh",  # certificates minted for the site's interval, on chain [Wh]
    "minted_total_wh",  # certificates minted for the site through that interval, on chain [Wh]
)
OUTLET_OUTPUTS = (  # a smart outlet (micro-DSR, capability 4)
    "holding",  # the outlet held its appliance in the step just run (a DR delay)
    "delay_min",  # minutes of the delay in progress (0: none)
    "customer_delay_min",  # the outlet's customer's delay minutes so far, on chain (FlexDelays.delay_min_of)
    "customer_flex_tokens",  # the customer's FLEX tokens, on chain
)
OPERATOR_INPUTS = (  # the micro-DSR grid operator following an external DR signal (docs/mosaik.md)
    "dr_request_kw",  # power the operator is to hold off the feeder in the step [kW] (none given: 0)
    "dr_event_w",  # optional: the request recorded on chain by an event opened at the step [W] (else the request's)
)
OPERATOR_OUTPUTS = (
    "event_id",  # the DR event on in the step just run, on chain (FlexDelays; -1: none)
    "requested_w",  # that event's requested reduction, on chain [W] (0: none)
    "held_kw",  # what the outlets held in the step just run (their appliances' requests) [kW]
    "outlets_holding",  # outlets holding in the step just run
)
LEDGER_OUTPUTS = (
    "block_number",  # the chain's head block
    "settled_periods",  # VPP periods settled on chain so far (every pool)
    "supply_eur",  # EuroToken total supply [EUR]
    "balances_eur",  # every account the bank opened: label -> EuroToken balance [EUR]
    "flex_tokens",  # FlexDelays tokens issued (micro-DSR; 0 without it)
    "certificates_minted_wh",  # certificates minted so far, every site (0 without certificates) [Wh]
    "certificates_retired_wh",  # certificates retired (claimed) so far [Wh]
)

META = {
    "api_version": API_VERSION,
    "type": "time-based",
    "models": {
        "Meter": {
            "public": True,
            "params": ["prosumer"],  # the prosumer's id (``{group}-01`` …); without: the next prosumers in order
            "attrs": [*METER_INPUTS, *METER_OUTPUTS],
        },
        "Site": {
            "public": True,
            "params": ["site"],  # the certificate site's name; without: the next sites in order
            "attrs": list(SITE_OUTPUTS),  # p_kw is also its input
        },
        "GridOperator": {
            "public": True,
            "params": [],  # one, the scenario's micro-DSR operator; making it hands its events to the DR signal
            "attrs": [*OPERATOR_INPUTS, *OPERATOR_OUTPUTS],
        },
        "Outlet": {
            "public": True,
            "params": ["outlet"],  # the outlet's name (``{prosumer id}/{appliance}``); without: the next in order
            "attrs": list(OUTLET_OUTPUTS),
        },
        "Ledger": {
            "public": True,
            "params": [],
            "attrs": list(LEDGER_OUTPUTS),
        },
    },
    "extra_methods": ["summary", "names"],
}
