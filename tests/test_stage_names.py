"""Stage scripts run as `python stages/X.py`, which puts stages/ first on sys.path: a script named like a
standard-library module (select.py, once) would shadow it for every stage."""

import sys
from pathlib import Path


def test_no_stage_script_shadows_the_standard_library():
    names = {p.stem for p in (Path(__file__).resolve().parents[1] / "stages").glob("*.py")}
    assert not names & set(sys.stdlib_module_names)
