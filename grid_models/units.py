"""Unit conversions done in exactly one place (pandapower works in MW and pandapipes in K; gridledger in kW, degC)."""

from __future__ import annotations


def kw_to_mw(p_kw):
    return p_kw / 1000.0


def mw_to_kw(p_mw):
    return p_mw * 1000.0


ZERO_C_IN_K = 273.15


def c_to_k(t_c):
    """Celsius to kelvin (pandapipes works in kelvin, gridledger in degC)."""
    return t_c + ZERO_C_IN_K


def k_to_c(t_k):
    return t_k - ZERO_C_IN_K
