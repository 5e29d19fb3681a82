"""Every ``gridledger`` command with generated arguments (missing, wrong types, negative and huge numbers, huge
strings, nonexistent and special paths, malformed ``--set`` keys and values, ``--seed -1`` and ``2**70``,
``--chain foo``), run in-process through ``sim.cli.main(argv)``: the exit is 0, argparse's 2, or a clean error code
with a message — never a traceback, never a hang (a 60 s alarm per call).

Left out, with the reason: ``sweep`` of a valid sweep file (it starts a dask cluster and runs every point: the
sweep tests cover it), ``devices poll`` of a valid table (it connects to devices that are not there) and
``devices simulate`` of a valid table without ``--duration-s`` (serves until Ctrl-C). ``run`` of the valid scenario
always gets a one-hour horizon on the smallest feeder first; generated ``--set`` values may change it but never to a
long run. Default run: 150 argument lists, derandomized; ``GRIDLEDGER_DEEP=1``: 1500, random.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import tempfile
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from tests.conftest import ROOT

DEEP = os.environ.get("GRIDLEDGER_DEEP") == "1"
EXAMPLES = 1500 if DEEP else 150
VPP = str(ROOT / "scenarios" / "vpp.toml")
TINY = ["--set", "run.duration_s=3600", "--set", "feeder.network='kerber_landnetz_kabel_1'",
        "--set", "population.0.count=1", "--set", "population.1.count=1", "--chain", "revm"]
BAD_PATHS = ["/nonexistent/x.toml", "", "/tmp", "/dev/null", "/dev/zero", "x" * 5000, "a\x00b.toml", "-",
             str(ROOT / "scenarios"), str(ROOT / "scenarios" / "hil_devices.toml"),
             str(ROOT / "scenarios" / "tariffs" / "sweep.toml") + "/x", str(ROOT / "README.md")]
NUMBERS = ["-1", "0", "1", "2", "2.5", "1e30", "nan", "inf", "-inf", "two", "", str(2**64), str(2**70), "-" + "9" * 40]
SETS = ["", "=", "run.seed", "=1", "run.seed=-1", f"run.seed={2**70}", "run.seed=inf", "run.seed=nan",
        "run.duration_s=abc", "run.duration_s=0", "run.duration_s=-3600", "nonexistent.key=1", "population.99.count=1",
        "population.x.count=1", "population.-1.count=1", "run..seed=1", ".=1", "run.seed.x=1", "run=1",
        "population=5", "population.0=7", "run.start=2025-03-30T02:30:00", "run.start=1900-01-01T00:00:00",
        "feeder.network=/dev/zero.json", "feeder.network=/etc/passwd.json", "vpp.members=[]", "site.tz='Europe'",
        "site.lat=90", "site.lat=91", "prices.energy_eur_per_kwh=1e400", "run.name=" + "x" * 5000, "run.seed=[1,2",
        "x" * 3000 + "=1", "run.seed=1=2", "run.seed=0x10", "run.step_s=3600", "run.settlement_s=7"]
RESULTS = ["/nonexistent", "/tmp", str(ROOT / "scenarios"), VPP, "", "/dev/null"]


def _opt(name: str, values) -> st.SearchStrategy:
    return st.one_of(st.just([name]), st.lists(st.sampled_from(values), min_size=1, max_size=1).map(
        lambda v: [name, v[0]]))


ANY = st.one_of(st.sampled_from(NUMBERS + BAD_PATHS), st.text(max_size=30))


@st.composite
def argv(draw):
    """A command and generated arguments (each piece may be missing, doubled or junk)."""
    cmd = draw(st.sampled_from(["run", "validate", "schema", "sweep", "report", "trace", "audit", "devices simulate",
                                "devices poll", "devices", "", "nonsense", "--help"]))
    args = cmd.split()
    if cmd == "run":
        valid = draw(st.booleans())
        args += [VPP] + TINY if valid else draw(st.lists(st.sampled_from(BAD_PATHS), max_size=2))
        for opt in draw(st.lists(st.sampled_from(["--seed", "--chain", "--set", "--out", "--force"]), max_size=3)):
            pool = {"--seed": NUMBERS, "--chain": ["foo", "py-evm", "revm", "", "web3"], "--set": SETS,
                    "--out": BAD_PATHS + ["@tmp"], "--force": []}[opt]
            args += draw(_opt(opt, pool)) if pool else [opt]
        if valid and "--out" not in args:
            args += ["--out", "@tmp"]
    elif cmd == "validate":
        args += draw(st.lists(st.sampled_from(BAD_PATHS + [VPP]), max_size=2))
    elif cmd == "sweep":
        args += draw(st.lists(st.sampled_from(BAD_PATHS), max_size=2))
        for opt in draw(st.lists(st.sampled_from(["--workers", "--scheduler", "--out"]), max_size=2)):
            args += draw(_opt(opt, NUMBERS if opt == "--workers" else BAD_PATHS))
    elif cmd in ("report", "audit"):
        args += draw(st.lists(st.sampled_from(RESULTS), max_size=2))
    elif cmd == "trace":
        args += draw(st.lists(st.sampled_from(RESULTS + ["1", "0x", "wind@2025-04-08T11:00", "x@y", "-1"]),
                              max_size=3))
    elif cmd == "devices simulate":
        table = draw(st.sampled_from(BAD_PATHS + [str(ROOT / "scenarios" / "hil_devices.toml")]))
        args += [table, "--duration-s", draw(st.sampled_from(NUMBERS if "hil_devices" not in table else
                                                              ["0", "-1", "nan", "0.01", "inf", "1e30"]))]
    elif cmd == "devices poll":
        args += draw(st.lists(st.sampled_from(BAD_PATHS), max_size=2)) + draw(
            st.sampled_from([[], ["--allow-remote-hosts"]]))
    args += draw(st.lists(ANY, max_size=1))  # a stray argument
    return args


class Hung(BaseException):
    pass


def _alarm(signum, frame):
    raise Hung("the command hung")


def call(args: list[str], tmp: str) -> tuple[int, str, str]:
    """main(args) in-process: (exit code, stdout, stderr); a traceback fails the test (it propagates)."""
    args = [tmp + "/out" if a == "@tmp" else a for a in args]
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        # in the temporary folder: a relative --out (``-``, generated text) is written there, not into the tree
        with contextlib.chdir(tmp), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, out.getvalue(), err.getvalue()


def test_every_command_with_generated_arguments_exits_cleanly():
    stats: Counter = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not DEEP, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(argv())
    def prop(args):
        with tempfile.TemporaryDirectory() as tmp:
            code, out, err = call(args, tmp)
        stats[code] += 1
        assert "Traceback" not in err + out
        assert isinstance(code, int) and 0 <= code < 256
        if code not in (0, 1):
            assert err.strip(), f"exit {code} without a message: {args!r}"
            assert len(err) < 20_000, "a huge argument is not echoed whole"

    prop()
    print(f"\nCLI fuzz: {sum(stats.values())} argument lists, exits {dict(sorted(stats.items()))}")
    assert sum(stats.values()) >= EXAMPLES


@pytest.mark.parametrize("args, message", [
    (["report", VPP], "not a complete gridledger results folder"),  # was NotADirectoryError
    (["devices", "simulate", str(ROOT / "scenarios" / "hil_devices.toml"), "--duration-s", "inf"],
     "--duration-s: between 0 and 1e9"),  # was OverflowError in threading's wait
    (["run", VPP, "--set", "population.x.count=1"], "'population.x.count': no such key"),  # was ValueError
    (["run", VPP, "--set", "population.99.count=1"], "'population.99.count': no such key"),  # was IndexError
    (["run", VPP, "--set", "run.seed.x=1"], "'run.seed.x': no such key"),  # was TypeError
    (["run", VPP, "--set", "population.-1.count=1"], "'population.-1.count': no such key"),  # changed the last group
    (["run", VPP, "--set", "population.+0.count=1"], "'population.+0.count': no such key"),  # int() read it as 0
    (["run", VPP, *TINY, "--out", "a\x00b"], "out 'a\\x00b': a NUL character in the path"),  # was ValueError
    (["run", VPP, *TINY, "--out", "x" * 5000], "out 'xxx"),  # was OSError: File name too long
    (["run", VPP, *TINY, "--out", VPP + "/out"], "cannot be a results folder: Not a directory"),  # under a file
    (["report", "x" * 5000], "results-dir 'xxx"),  # was OSError: File name too long
    (["report", "x" * 300], "a file name of 300 bytes, the longest is 255"),  # was OSError: File name too long
    (["validate", "a/" * 3000], "a path of 6000 bytes, the longest is 4095"),
], ids=["report-file", "duration-inf", "set-not-index", "set-index-out-of-range", "set-below-a-value",
        "set-negative-index", "set-signed-index", "out-nul", "out-too-long", "out-under-a-file", "report-too-long",
        "report-name-too-long", "validate-path-too-long"])
def test_what_the_cli_fuzz_found_exits_with_a_message(tmp_path, args, message):
    code, out, err = call(args, str(tmp_path))
    assert code == 2 and message in err and "Traceback" not in err, err
