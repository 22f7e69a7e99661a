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
        # the never-call score describes the split, not the model: not in the model-index
        k: v
        for k, v in ev["summary"].items()
        if v is not None and k != "heldout_never_call"
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
    assert card.data.eval_results
    for r in card.data.eval_results:  # argument F1 (call rows) is an F1, every other figure an accuracy
        assert r.metric_type == ("f1" if "arg_f1" in r.metric_name else "accuracy"), r.metric_name


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
    res = CliRunner().invoke(main, ["card", "--into", "publish/iter_2"])
    assert res.exit_code == 2 and "Directory 'publish/iter_2' does not exist" in res.stderr
    (project / "publish" / "iter_2").mkdir(parents=True)
    res = CliRunner().invoke(main, ["card", "--into", "publish/iter_2"])  # iteration from the folder name
    assert res.exit_code == 0, res.output
    assert (project / "publish" / "iter_2" / "README.md").read_text() == written.read_text()
    res = CliRunner().invoke(main, ["card", "--into", "publish/iter_2"])  # its own card: replaced
    assert res.exit_code == 0, res.output


def test_card_into_refuses_a_dvc_output(project):
    """A README.md inside models/iter_J changes a DVC output: `dvc repro` would retrain from iteration J."""
    (project / "models" / "iter_2").mkdir(parents=True)
    res = CliRunner().invoke(main, ["card", "--into", "models/iter_2"])  # listed in dvc.lock
    assert res.exit_code == 1
    assert res.stderr.startswith("Error: --into models/iter_2: a DVC output (models/iter_2 in ")
    assert (
        "dvc.lock" in res.stderr
        and "cp -rL models/iter_2 publish/ && looptool card 2 --into publish/iter_2" in (res.stderr)
    )
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (project / "models" / "iter_2" / "README.md").exists()
    # an iteration not run yet: only dvc.yaml's templated output names it
    (project / "dvc.yaml").write_text(
        "stages:\n  train:\n    foreach: ${iterations}\n    do:\n      cmd: train\n"
        "      outs:\n        - models/iter_${key}\n        - metrics/train/iter_${key}.json:\n            cache: false\n"
    )
    (project / "models" / "iter_9" / "sub").mkdir(parents=True)
    for into in ("models/iter_9", "models/iter_9/sub"):
        res = CliRunner().invoke(main, ["card", "2", "--into", into])
        assert res.exit_code == 1 and "a DVC output (models/iter_${key} in " in res.stderr, res.output
    # a `dvc add`-ed folder
    (project / "shared" / "m").mkdir(parents=True)
    (project / "shared" / "m.dvc").write_text("outs:\n- path: m\n")
    res = CliRunner().invoke(main, ["card", "2", "--into", "shared/m"])
    assert res.exit_code == 1 and "m.dvc" in res.stderr
    from looptool.outputs import dvc_output

    assert dvc_output(project / "models") is None and dvc_output(project / "publish") is None
    assert dvc_output(project / "metrics" / "train" / "iter_3.json")[0] == "metrics/train/iter_${key}.json"


def test_help_texts_name_the_current_keys():
    res = CliRunner().invoke(main, ["card", "--help"])
    assert "select.dataset_size" in res.output and "select.size" not in res.output
    assert "--into models/iter_2" not in res.output  # the documented way is a copy outside DVC's outputs


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


def test_card_use_snippet_renders_prompts_as_in_training(project, tiny_model_dir, smollm2_tokenizer):
    """The card's "Use" code runs, and its prompt shows the model the tools (SmolLM2's template drops
    ``tools=``: the snippet must not rely on it)."""
    from looptool.prompts import render_prompt

    text = render_card(card_facts(2, CardInputs()))
    code = text.split("## Use")[1].split("```python\n")[1].split("```")[0]
    assert 'path = "models/iter_2"' in code
    code = code.replace('path = "models/iter_2"', f'path = "{tiny_model_dir}"')
    code = code.replace("max_new_tokens=256", "max_new_tokens=4")
    ns: dict = {}
    exec(compile(code, "card-use", "exec"), ns)
    assert ns["text"] == render_prompt(smollm2_tokenizer, ns["tools"], ns["messages"])
    assert "get_weather" in ns["text"] and "<tools>" in ns["text"]


def test_card_escapes_markup_from_params_and_metrics(project):
    """Values from params.yaml and the metrics reach the card as text, never as HTML the hub would render
    (issue 23, class 9); a value in a code span cannot end it."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params.setdefault("model", {})["source"] = "org/<img src=x onerror=alert(1)>"
    params.setdefault("backends", {}).setdefault("generator", {})["model"] = "<script>alert(2)</script>"
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    train = json.loads((project / "metrics" / "train" / "iter_2.json").read_text())
    train.setdefault("config", {})["method"] = "sft<iframe src=//e.example>"
    train["device"] = "cpu<style>*{display:none}</style>"
    (project / "metrics" / "train" / "iter_2.json").write_text(json.dumps(train))
    ev_path = project / "metrics" / "eval" / "iter_2.json"
    ev = json.loads(ev_path.read_text())
    ev.setdefault("bfcl", {}).setdefault("categories", {})["<a href=javascript:x>c</a>"] = {
        "accuracy": 1.0,
        "correct": 1,
        "n": 1,
    }
    ev_path.write_text(json.dumps(ev))
    exp_path = project / "metrics" / "expand" / "iter_1.json"
    exp = json.loads(exp_path.read_text()) if exp_path.exists() else {}
    exp["mode"] = "llm<svg onload=alert(3)>"
    exp_path.write_text(json.dumps(exp))

    text = render_card(card_facts(2, CardInputs(models_dir="m`<b>x</b>`")))
    body = text.split("---\n", 2)[2]
    for tag in ("<img", "<script", "<iframe", "<style", "<a href", "<svg"):
        assert tag not in body, tag
    for escaped in (
        "&lt;img src=x onerror=alert(1)>",
        "&lt;script>alert(2)&lt;/script>",
        "SFT&lt;IFRAME",
        "&lt;svg onload",
    ):
        assert escaped in body, escaped
    assert "`m'<b>x</b>'/iter_2`" in body  # inside one code span: shown literally
    assert "m`&lt;b>x&lt;/b>`/iter_1" in body  # the same path in a table cell


def _tiny_project(root: Path, md5s: dict[str, str] | None) -> CardInputs:
    """metrics of iterations 0 and 1 (GRPO@1 without a reward signal), and a dvc.lock recording the two
    checkpoints with ``md5s`` (none: no dvc.lock)."""
    ev = {
        "heldout": {"accuracy": 0.25, "correct": 1, "n": 4, "ci95": [0.0456, 0.6994]},
        "bfcl": {
            "categories": {"simple": {"accuracy": 0.5, "correct": 1, "n": 2, "n_total": 400}},
            "non_live": {"overall": 0.5},
        },
        "run": {"backend": {"weights": "sha256:aa"}},
    }
    from looptool.evaluate.summary import summary_of

    ev["summary"] = summary_of(ev)
    for j in (0, 1):
        (root / "metrics" / "eval").mkdir(parents=True, exist_ok=True)
        (root / "metrics" / "eval" / f"iter_{j}.json").write_text(json.dumps(ev))
    (root / "metrics" / "train").mkdir(parents=True, exist_ok=True)
    (root / "metrics" / "train" / "iter_1.json").write_text(json.dumps({"steps": 4, "no_signal": True}))
    if md5s is not None:
        stages = {
            name: {"cmd": "x", "outs": [{"path": f"models/{it}", "hash": "md5", "md5": md5}]}
            for (name, it), md5 in zip(
                (("warmup", "iter_0"), ("train@1", "iter_1")), md5s.values(), strict=True
            )
        }
        (root / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": stages}))
    return CardInputs(root=str(root))


def test_card_flags_a_model_identical_to_the_previous_one(tmp_path):
    inp = _tiny_project(tmp_path, {"0": "m0.dir", "1": "m0.dir"})
    text = render_card(card_facts(1, inp))
    assert (
        "**This checkpoint is its start point unchanged:** model_1 has the same files as model_0 (md5 m0.dir"
        in text
    )
    assert "| same weights as the previous model | yes |" in text
    # dvc.lock says the files differ: not flagged, whatever the train metrics say
    inp = _tiny_project(tmp_path, {"0": "m0.dir", "1": "m1.dir"})
    assert "start point unchanged" not in render_card(card_facts(1, inp))
    # no dvc.lock: the two evaluations scored the same weights
    (tmp_path / "dvc.lock").unlink()
    facts = card_facts(1, inp)
    assert (
        facts["same_as_previous"] == "model_1 has the same weights as model_0 (sha256:aa in both evaluations)"
    )
    assert card_facts(0, inp)["same_as_previous"] is None


def test_card_group_figures_carry_n_and_their_categories(tmp_path):
    text = render_card(card_facts(1, _tiny_project(tmp_path, None)))
    meta = _front_matter(text)
    names = [r["metrics"][0]["name"] for r in meta["model-index"][0]["results"]]
    assert "bfcl_non_live (n=2, 1 of 7 categories)" in names and "heldout (n=4)" in names
    row = next(line for line in text.splitlines() if line.startswith("| bfcl_non_live |"))
    assert row == (
        "| bfcl_non_live | 0.5 | 2 | none (mean of categories) "
        "| 1 of 7 (missing java, javascript, multiple, parallel, parallel_multiple, irrelevance) |"
    )
    assert "| heldout | 0.25 | 4 | [0.046, 0.699] | – |" in text
