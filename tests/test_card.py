"""Model cards (looptool.card, ``looptool card``) from the project's committed metrics, params and dvc.lock.

The cards must work without ``models/`` and ``data/`` (a fresh clone before ``dvc pull``); the hub metadata
is read back with huggingface_hub's own ModelCard parser.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from looptool.card import CardError, CardInputs, card_facts, render_card, write_cards
from looptool.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the repository's metrics/, params.yaml and dvc.lock (no models/, no data/), as cwd."""
    if not (ROOT / "metrics" / "train" / "iter_2.json").exists():
        pytest.skip("committed pipeline metrics not found")
    shutil.copytree(ROOT / "metrics", tmp_path / "metrics")
    for f in ("params.yaml", "dvc.lock"):
        shutil.copy(ROOT / f, tmp_path / f)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_card_from_metrics_alone(project):
    text = render_card(card_facts(2))
    meta = _front_matter(text)
    ev = json.loads((project / "metrics" / "eval" / "iter_2.json").read_text())
    merge = json.loads((project / "metrics" / "merge" / "iter_1.json").read_text())
    train = json.loads((project / "metrics" / "train" / "iter_2.json").read_text())
    assert meta["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and meta["license"] == "apache-2.0"
    assert "grpo" in meta["tags"] and meta["library_name"] == "transformers"
    results = {
        r["metrics"][0]["name"].split(" ")[0]: r["metrics"][0] for r in meta["model-index"][0]["results"]
    }
    assert {k: m["value"] for k, m in results.items()} == {
        k: v for k, v in ev["summary"].items() if v is not None
    }
    assert results["heldout"]["name"] == f"heldout (n={ev['heldout']['n']})"
    # D_2 = merge@1's output: its size and parts, and the labels the judge corrected
    parts = ", ".join(f"{k} {v}" for k, v in merge["parts"].items())
    assert f"| rows | {merge['size']} |" in text and f"| parts | {parts} |" in text
    assert f"| labels corrected by the judge in the merge that built it | {merge['relabeled']} |" in text
    assert f"| learning_rate | {train['config']['learning_rate']:.4g} |" in text
    assert (
        f"| heldout | {ev['heldout']['accuracy']:.4g} | {ev['heldout']['correct']}/{ev['heldout']['n']} |"
        in text
    )
    # a data-sources line for each benchmark the metrics evaluated, none for a skipped one
    for bench in ("bfcl", "acebench"):
        ran = isinstance(ev.get(bench), dict) and not ev[bench].get("skipped")
        assert (f"| evaluation: {bench} |" in text) == ran, bench
    if isinstance(ev.get("bfcl"), dict) and not ev["bfcl"].get("skipped"):
        assert "| evaluation: bfcl | BFCL v3" in text and "Apache-2.0" in text
    lock_md5 = yaml.safe_load((project / "dvc.lock").read_text())
    md5s = [
        o["md5"]
        for s in lock_md5["stages"].values()
        for o in s.get("outs", [])
        if o["path"] == "models/iter_2"
    ]
    assert md5s and f"md5 {md5s[0]}" in text
    assert "Card written at git revision `n/a`." in text  # tmp copy: not a git repository


def test_card_metadata_reads_as_a_hub_model_card(project):
    from huggingface_hub import ModelCard

    card = ModelCard(render_card(card_facts(1)))
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert card.data.eval_results and all(r.metric_type == "accuracy" for r in card.data.eval_results)


def test_card_uses_the_dataset_and_intervals_when_present(project):
    data = project / "data" / "iter_2"
    data.mkdir(parents=True)
    pl.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(5)],
            "part": ["error_seed", "error_seed", "expansion", "high_ppl", "seed_new"],
            "origin": ["seed", "seed", "expansion", "expansion", "seed"],
            "label_rev": [1, 0, 0, 2, 0],
        }
    ).write_parquet(data / "train.parquet")
    ev_path = project / "metrics" / "eval" / "iter_2.json"
    ev = json.loads(ev_path.read_text())
    ev["heldout"]["ci95"] = [0.1234, 0.3456]
    ev_path.write_text(json.dumps(ev))
    text = render_card(card_facts(2))
    assert "| rows | 5 |" in text and "| parts | error_seed 2, expansion 1, high_ppl 1, seed_new 1 |" in text
    assert "| origins | seed 3, expansion 2 |" in text
    assert "| rows with a judge-corrected label (label_rev > 0) | 2 |" in text
    acc, n = ev["heldout"]["accuracy"], ev["heldout"]["n"]
    assert f"| heldout | {acc:.4f} | {n} | [0.123, 0.346] |" in text  # summary row carries the interval


def test_unknown_iteration_is_one_line(project):
    with pytest.raises(CardError, match=r"iteration 7: no metrics for it under metrics"):
        card_facts(7)
    res = CliRunner().invoke(main, ["card", "7"])
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert res.exit_code == 1 and len(lines) == 1 and "Traceback" not in res.output
    assert lines[0].startswith(
        "Error: iteration 7: no metrics for it under metrics (expected train/iter_7.json"
    )
    res = CliRunner().invoke(main, ["card", "seven"])
    assert res.exit_code == 2 and "expected J or iter_J" in res.stderr


def test_card_command_and_into(project):
    res = CliRunner().invoke(main, ["card", "iter_2"])
    assert res.exit_code == 0, res.output
    written = project / "reports" / "cards" / "iter_2" / "README.md"
    assert written.read_text().startswith("---\nlicense: apache-2.0\n")
    res = CliRunner().invoke(main, ["card", "--into", "models/iter_2"])
    assert res.exit_code == 2 and "Directory 'models/iter_2' does not exist" in res.stderr
    (project / "models" / "iter_2").mkdir(parents=True)
    res = CliRunner().invoke(main, ["card", "--into", "models/iter_2"])  # a DVC output: refused, untouched
    assert res.exit_code == 1 and "part of the DVC output models/iter_2 (dvc.lock)" in res.stderr, res.output
    assert not (project / "models" / "iter_2" / "README.md").exists()
    (project / "share" / "iter_2").mkdir(parents=True)
    res = CliRunner().invoke(main, ["card", "--into", "share/iter_2"])  # iteration from the folder name
    assert res.exit_code == 0, res.output
    assert (project / "share" / "iter_2" / "README.md").read_text() == written.read_text()
    res = CliRunner().invoke(main, ["card", "--into", "share/iter_2"])  # its own card: replaced
    assert res.exit_code == 0, res.output


def test_report_stage_writes_every_card_outside_models(project):
    (project / "reports" / "cards" / "iter_9").mkdir(parents=True)  # a stale card of an iteration now gone
    iterations = list(yaml.safe_load((project / "params.yaml").read_text())["iterations"])
    written = write_cards(iterations, project / "reports" / "cards", CardInputs())
    names = sorted(p.parent.name for p in written)
    trained = {f"iter_{p.stem.split('_')[1]}" for p in (project / "metrics" / "eval").glob("iter_*.json")}
    assert set(names) == trained | {
        f"iter_{p.stem.split('_')[1]}" for p in (project / "metrics" / "train").glob("*.json")
    }
    assert not (project / "reports" / "cards" / "iter_9").exists()
    assert not (project / "models").exists()
