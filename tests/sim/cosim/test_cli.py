"""``gridledger cosim``: listed in ``gridledger --help``, and input it cannot take ends in one ``error:`` line and
exit code 2 (README, "Exit codes") before any world starts."""

from __future__ import annotations

import pytest

from sim.cli import build_parser, main
from tests.conftest import ROOT

SCENARIO = str(ROOT / "scenarios" / "mosaik" / "pv_day.toml")


def test_cosim_is_a_subcommand_with_its_arguments():
    args = build_parser().parse_args(["cosim", SCENARIO, "--csv", "x.csv", "--out", "r", "--force"])
    assert (args.file, args.csv, args.out, args.force) == (SCENARIO, "x.csv", "r", True)
    assert "cosim" in build_parser().format_help()


def test_a_missing_csv_is_refused_naming_it(tmp_path, capsys):
    assert main(["cosim", SCENARIO, "--csv", str(tmp_path / "none.csv")]) == 2
    assert f"error: --csv '{tmp_path / 'none.csv'}': no such file; expected a CSV of time, {{prosumer id}}_p_kw" \
        in capsys.readouterr().err


def test_a_csv_without_a_prosumers_column_is_refused_naming_what_it_found(tmp_path, capsys):
    csv = tmp_path / "pv.csv"
    csv.write_text("time,pv_kw\n2025-06-02T00:00+02:00,0.0\n")
    assert main(["cosim", SCENARIO, "--csv", str(csv)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {csv}: no column '{{prosumer id}}_p_kw' for any prosumer of the scenario "
                          "(expected e.g. pv-battery-01_p_kw); found 'time', 'pv_kw'")


@pytest.mark.parametrize("argv", [["cosim", SCENARIO], ["cosim", "--csv", "x.csv"]])
def test_missing_arguments_are_a_usage_error(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
