"""Unit conversions done in exactly one place (pandapower works in MW, gridledger in kW)."""

from __future__ import annotations


def kw_to_mw(p_kw):
    return p_kw / 1000.0


def mw_to_kw(p_mw):
    return p_mw * 1000.0
