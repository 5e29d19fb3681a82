"""Run what validates (issue 21): hypothesis generates whole scenarios from every scenario file in scenarios/ (see
``scenario_strategies``), and each one either fails validation with a ScenarioError whose every line names the file
and a field, or runs its short horizon (one or two settlement periods, the smallest feeder, one or two of
everything, revm) to the end — never another exception, never a hang. ``validate`` means "the run will start".

Default run: 300 generated scenarios, derandomized (repeatable CI); ``GRIDLEDGER_DEEP=1``: 3000, random.
Every scenario that validates is run: none is skipped (the strategies keep a valid scenario short, at most 96
steps a period). The figures of a run are printed (``-s``) and asserted.
"""

from __future__ import annotations

import os
import re
import signal
from collections import Counter

from hypothesis import HealthCheck, given, settings

from sim.scenario import Scenario, ScenarioError, validate_scenario
from tests.reliability.scenario_strategies import scenarios

DEEP = os.environ.get("GRIDLEDGER_DEEP") == "1"
EXAMPLES = 3000 if DEEP else 300
RUN_TIMEOUT_S = 120  # one short run takes 0.1–1.5 s; a run this long is a hang
SECTIONS = set(Scenario.model_fields)
LINE = re.compile(r"^  fuzz\.toml: (?P<loc>\S.*?): (?P<msg>.+)$")


def names_a_field(loc: str, msg: str) -> bool:
    """A problem line names a field: its location, or for a check across sections (reported at the top) the
    message's first word is a section or a dotted key (``run.start: …``, ``population: …``)."""
    if loc != "<top>":
        return True
    head = re.split(r"[ .:\[]", msg, maxsplit=1)[0]
    return head in SECTIONS


def check_refusal(exc: ScenarioError) -> None:
    lines = str(exc).split("\n")
    assert lines[0].startswith("fuzz.toml: invalid scenario"), lines[0]
    assert len(lines) >= 3 and lines[-1].startswith("  fuzz.toml: (every key"), str(exc)
    for line in lines[1:-1]:
        m = LINE.match(line)
        assert m, f"a problem line that names no field: {line!r}"
        assert names_a_field(m["loc"], m["msg"]), f"a problem line that names no field: {line!r}"
    assert len(str(exc)) < 20_000  # a huge value is not echoed whole


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout(f"the run took more than {RUN_TIMEOUT_S} s")


def run_short(scenario) -> None:
    from sim.runner import run_scenario

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(RUN_TIMEOUT_S)
    try:
        run_scenario(scenario)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_one(data: dict, stats: Counter) -> None:
    """The property for one generated scenario mapping."""
    stats["generated"] += 1
    try:
        scenario = validate_scenario(data, source="fuzz.toml")
    except ScenarioError as exc:
        stats["refused"] += 1
        check_refusal(exc)
        return
    assert scenario.n_steps <= 2 * 96, "the strategies keep what validates short"
    run_short(scenario)  # any exception here fails the property: validate said the run would start
    stats["ran"] += 1


def test_every_generated_scenario_is_refused_naming_a_field_or_runs_to_the_end():
    stats: Counter = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not DEEP, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(scenarios())
    def prop(case):
        check_one(case[2], stats)

    prop()
    print(f"\nrun what validates: {stats['generated']} generated, {stats['refused']} refused naming a field, "
          f"{stats['ran']} ran to the end")
    assert stats["generated"] >= EXAMPLES and stats["ran"] >= EXAMPLES // 10
    assert stats["generated"] == stats["refused"] + stats["ran"]
