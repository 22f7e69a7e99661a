"""Docs generated from committed results: docs/efficacy.md's efficacy table (docs/efficacy/tables.py)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tables():
    spec = importlib.util.spec_from_file_location("efficacy_tables", ROOT / "docs/efficacy/tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_efficacy_page_table_is_the_generated_one():
    t = _tables()
    assert t.DOC == ROOT / "docs" / "efficacy.md"
    assert t.doc_block(t.DOC.read_text()) == t.efficacy_table(t.results_files())


def test_efficacy_table_reads_the_results(tmp_path):
    t = _tables()
    res = {
        "models": {
            "warmup": {"accuracy": 0.25, "correct": 1, "n": 4, "ci95": [0.0456, 0.6994]},
            "loop/seed1/iter_2": {"accuracy": 0.75, "correct": 3, "n": 4, "ci95": [0.3006, 0.9544]},
        },
        "comparisons": {"loop-warmup/seed1/iter_2": {"diff": 0.5, "ci95": [0.0, 1.0]}},
        "timings": [
            {"label": "loop/seed1/iter_2", "stage": "train", "cpu_s": 10.4},
            {"label": "loop/seed1/iter_2", "stage": "evaluate", "cpu_s": 2.0},
        ],
    }
    f = tmp_path / "x.results.json"
    f.write_text(json.dumps(res))
    rows = t.efficacy_table([f]).splitlines()
    assert rows[2] == "| warm-up (model_0) | 0.250 | [0.046, 0.699] | 1 / 4 | - | - | x.results.json |"
    assert rows[3] == (
        "| loop iteration 2 (seed 1) | 0.750 | [0.301, 0.954] | 3 / 4 | +0.500 [0.000, 1.000] | 12 | x.results.json |"
    )


def test_efficacy_table_lists_only_models_scored_on_the_test_split(tmp_path):
    """bench/efficacy.py scores intermediate iterations on the dev split only: they have no test figure."""
    t = _tables()
    fig = {"accuracy": 0.5, "correct": 2, "n": 4, "ci95": [0.15, 0.85]}
    res = {"models": {"warmup": {**fig, "dev": fig}, "loop/seed0/iter_1": {"dev": fig}}}
    f = tmp_path / "x.results.json"
    f.write_text(json.dumps(res))
    rows = t.efficacy_table([f]).splitlines()
    assert len(rows) == 3 and rows[2].startswith("| warm-up (model_0) | 0.500 |")
