"""``summary.chain.readings_verified`` counts every signed value a contract checked, whichever capability posted it:
on the certificates day it equals the readings log's signed readings accepted on chain (the measurement layer's own
record), mints and consumption alike (it counted only the VPP's and heat's readings before: 0 here)."""

from __future__ import annotations


def test_readings_verified_counts_the_certificates_signed_readings(certs_run):
    readings, events = certs_run.readings, certs_run.ledger.event
    signed_accepted = int((readings.sig_v.notna() & (readings.status == "accepted")).sum())
    minted, consumed = int((events == "Issued").sum()), int((events == "ConsumptionRecorded").sum())
    assert minted > 0 and consumed > 0
    assert certs_run.summary["chain"]["readings_verified"] == signed_accepted == minted + consumed
