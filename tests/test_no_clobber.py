"""A command never deletes or overwrites what it did not create (issue 23, class 1).

Every command that writes a file or folder the user names is run over something the user made (a folder of
their own, a file, an input of the command itself) and must refuse with one line, leaving every byte under
the working folder as it was. What looptool recognises as its own (a folder with ``.looptool-output``, a
card, an export's ``dataset_info.json`` entry) it may replace, and ``--overwrite`` replaces single files
(never an input). Mechanism: :mod:`looptool.outputs`.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from looptool.cli import main
from looptool.errors import InputError
from looptool.outputs import MARKER

TOOL = {
    "name": "get_weather",
    "description": "Weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _conv(city: str) -> str:
    return json.dumps(
        {
            "tools": [{"type": "function", "function": TOOL}],
            "messages": [
                {"role": "user", "content": f"Weather in {city}?"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
                        }
                    ],
                },
            ],
        }
    )


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every folder under ``root`` (None for a folder)."""
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))
    }


def _invoke(args: list[str]):
    return CliRunner().invoke(main, args)


@pytest.fixture
def ws(tmp_path, monkeypatch, tiny_model_dir) -> Path:
    """A working folder with the user's things in it: a conversations file, a dataset imported from it, a
    folder of notes, text and Parquet files of their own, a model folder with its own README, a BFCL file
    with its answers, and a ``datasets`` folder (a trl export) to import from."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chats.jsonl").write_text(_conv("Lima") + "\n" + _conv("Oslo") + "\n")
    assert _invoke(["import", "chats.jsonl", "--out", "ds.parquet"]).exit_code == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my notes\n")
    (tmp_path / "user.txt").write_text("mine\n")
    (tmp_path / "user.jsonl").write_text("mine\n")
    (tmp_path / "user.parquet").write_bytes(b"PAR1 not really\n")
    (tmp_path / "user_rejected.parquet").write_bytes(b"PAR1 mine too\n")
    (tmp_path / "imp_rejected.parquet").write_bytes(b"PAR1 mine as well\n")
    (tmp_path / "new.llamafactory.yaml").write_text("dataset: mine\n")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}\n")
    (tmp_path / "model" / "README.md").write_text("# My model\n")
    (tmp_path / "models" / "iter_1").mkdir(parents=True)
    (tmp_path / "models" / "base").symlink_to(
        tiny_model_dir
    )  # the student: trl exports render for its tokenizer
    (tmp_path / "models" / "iter_1" / "README.md").write_text("# my own card\n")
    bfcl = tmp_path / "bfcl"
    (bfcl / "possible_answer").mkdir(parents=True)
    q = {
        "id": "simple_0",
        "question": [[{"role": "user", "content": "Weather in Lima?"}]],
        "function": [TOOL],
    }
    (bfcl / "BFCL_v3_simple.json").write_text(json.dumps(q) + "\n")
    ans = {"id": "simple_0", "ground_truth": [{"get_weather": {"city": ["Lima"]}}]}
    (bfcl / "possible_answer" / "BFCL_v3_simple.json").write_text(json.dumps(ans) + "\n")
    (bfcl / "answers.json").write_text(json.dumps(ans) + "\n")
    assert _invoke(["export", "ds.parquet", "--format", "trl", "--out", "hf"]).exit_code == 0
    (tmp_path / "mine_ds").mkdir()
    (tmp_path / "mine_ds" / "ds.parquet").write_bytes((tmp_path / "ds.parquet").read_bytes())
    (tmp_path / "dataset_info.json").write_text(json.dumps({"other": {"file_name": "o.json"}}) + "\n")
    return tmp_path


def _lock(ws: Path) -> Path:
    """A dvc.lock recording models/iter_2 (empty) as a stage output."""
    (ws / "models" / "iter_2").mkdir(parents=True)
    out = {"path": "models/iter_2", "md5": "d751713988987e9331980363e24189ce.dir", "size": 0, "nfiles": 0}
    lock = ws / "dvc.lock"
    lock.write_text(json.dumps({"schema": "2.0", "stages": {"train@2": {"cmd": "x", "outs": [out]}}}))
    return lock


def _shard(ws: Path) -> str:
    return str(next((ws / "hf").glob("*.arrow")).relative_to(ws))


# (id, argv builder, words the one-line refusal must hold)
REFUSED = [
    ("export-trl-over-a-user-folder", lambda ws: ["export", "ds.parquet", "--format", "trl", "--out", "mine"], "looptool did not write it"),
    ("export-trl-over-the-folder-holding-its-input", lambda ws: ["export", "mine_ds/ds.parquet", "--format", "trl", "--out", "mine_ds"], "holds the input"),
    ("export-openai-over-a-file", lambda ws: ["export", "ds.parquet", "--format", "openai", "--out", "user.txt"], "--overwrite"),
    ("export-sharegpt-over-a-file", lambda ws: ["export", "ds.parquet", "--format", "sharegpt", "--out", "user.jsonl"], "--overwrite"),
    ("export-verl-over-a-file", lambda ws: ["export", "ds.parquet", "--format", "verl", "--out", "user.parquet"], "--overwrite"),
    ("export-sharegpt-over-a-users-args-file", lambda ws: ["export", "ds.parquet", "--format", "sharegpt", "--out", "new.jsonl"], "new.llamafactory.yaml"),
    ("export-sharegpt-over-a-users-dataset-entry", lambda ws: ["export", "ds.parquet", "--format", "sharegpt", "--out", "other.jsonl"], "dataset_info.json"),
    ("export-sharegpt-onto-dataset-info", lambda ws: ["export", "ds.parquet", "--format", "sharegpt", "--out", "dataset_info.json", "--overwrite"], "dataset list"),
    ("export-over-its-input-even-with-overwrite", lambda ws: ["export", "ds.parquet", "--format", "verl", "--out", "ds.parquet", "--overwrite"], "is also an input"),
    ("import-over-a-file", lambda ws: ["import", "chats.jsonl", "--out", "user.txt"], "--overwrite"),
    ("import-over-a-users-rejected-file", lambda ws: ["import", "chats.jsonl", "--out", "imp.parquet"], "rejected file"),
    ("import-over-its-answers-file", lambda ws: ["import", "bfcl/BFCL_v3_simple.json", "--answers", "bfcl/answers.json", "--out", "bfcl/answers.json", "--overwrite"], "is also an input"),
    ("import-over-the-default-answers-file", lambda ws: ["import", "bfcl/BFCL_v3_simple.json", "--out", "bfcl/possible_answer/BFCL_v3_simple.json", "--overwrite"], "is also an input"),
    ("import-over-a-shard-of-the-datasets-folder-it-reads", lambda ws: ["import", "hf", "--out", _shard(ws), "--overwrite"], "inside the input folder"),
    ("prepare-model-over-a-user-folder", lambda ws: ["prepare-model", "--source", "model", "--out", "mine"], "looptool did not write it"),
    ("prepare-model-over-its-source", lambda ws: ["prepare-model", "--source", "model", "--out", "model"], "is also an input"),
    ("prepare-model-metrics-over-a-file", lambda ws: ["prepare-model", "--source", "model", "--out", "base", "--metrics", "user.txt"], "--overwrite"),
    ("card-into-a-folder-with-its-own-readme", lambda ws: ["card", "1", "--into", "model"], "README.md"),
    ("card-into-a-model-folder-named-iter", lambda ws: ["card", "--into", "models/iter_1"], "README.md"),
    ("card-into-a-dvc-output", lambda ws: ["card", "--into", "models/iter_2"] if _lock(ws) else [], "a DVC output (models/iter_2 in "),
    ("card-out-over-a-file", lambda ws: ["card", "1", "--out", "user.txt"], "user.txt"),
    ("eval-out-over-a-file", lambda ws: ["eval", "model", "--out", "user.txt"], "--overwrite"),
    ("eval-results-over-a-file", lambda ws: ["eval", "model", "--results", "user.parquet"], "--overwrite"),
]  # fmt: skip


@pytest.mark.parametrize("build,words", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_a_command_refuses_to_replace_what_it_did_not_create(ws, build, words):
    argv = build(ws)
    before = _tree(ws)
    r = _invoke(argv)
    lines = r.stderr.strip().splitlines()
    assert r.exit_code != 0 and len(lines) == 1 and lines[0].startswith("Error: "), r.output
    assert words in lines[0], lines[0]
    assert _tree(ws) == before  # nothing written, nothing removed


def test_what_looptool_wrote_it_may_replace(ws):
    """A trl folder, a prepared model and a card of an earlier run are replaced; --overwrite replaces a file."""
    r = _invoke(["export", "ds.parquet", "--format", "trl", "--out", "hf"])  # the fixture's own export
    assert r.exit_code == 0 and (ws / "hf" / MARKER).is_file(), r.output
    for _ in range(2):
        r = _invoke(
            ["prepare-model", "--source", "model", "--out", "base", "--metrics", "m.json", "--overwrite"]
        )
        assert r.exit_code == 0 and (ws / "base" / MARKER).is_file(), r.output
    assert sorted(p.name for p in (ws / "base").iterdir()) == [MARKER, "looptool-model.json"]
    r = _invoke(["export", "ds.parquet", "--format", "openai", "--out", "user.txt", "--overwrite"])
    assert r.exit_code == 0 and len((ws / "user.txt").read_text().splitlines()) == 2, r.output
    r = _invoke(["import", "chats.jsonl", "--out", "user.parquet", "--overwrite"])
    assert r.exit_code == 0 and pl.read_parquet(ws / "user_rejected.parquet").height == 0, r.output
    # stale temporaries of a killed folder write are ours too: cleaned by the next write of that folder
    assert not [p for p in ws.iterdir() if p.name.endswith(".tmp")]


def test_sharegpt_side_files_of_an_earlier_export_are_updated(ws):
    (ws / "new.llamafactory.yaml").unlink()
    for name in ("new.json", "new.jsonl"):
        r = _invoke(["export", "ds.parquet", "--format", "sharegpt", "--out", name])
        assert r.exit_code == 0, r.output
    info = json.loads((ws / "dataset_info.json").read_text())
    assert info["new"]["file_name"] == "new.jsonl" and info["other"] == {"file_name": "o.json"}
    r = _invoke(["export", "ds.parquet", "--format", "sharegpt", "--out", "other.jsonl", "--overwrite"])
    assert r.exit_code == 0, r.output
    assert json.loads((ws / "dataset_info.json").read_text())["other"]["file_name"] == "other.jsonl"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"a": ' * 200 + "1" + "}" * 200, "\udcff"])
def test_sharegpt_export_over_a_bad_dataset_info_names_it_and_writes_nothing(ws, content):
    """Class 9: the data file is not written when dataset_info.json cannot take the entry."""
    (ws / "dataset_info.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    before = _tree(ws)
    r = _invoke(["export", "ds.parquet", "--format", "sharegpt", "--out", "fresh.jsonl"])
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 1 and len(lines) == 1 and "dataset_info.json" in lines[0], r.output
    assert _tree(ws) == before and not (ws / "fresh.jsonl").exists()


def test_training_refuses_a_user_folder_before_it_trains(ws, tiny_model_dir):
    """train (grpo, sft) and warm-up check --out, its work area and staging folder before any work."""
    from looptool.train.config import TrainConfig, WarmupConfig
    from looptool.train.grpo import train_grpo
    from looptool.train.sft import run_warmup, train_sft

    before = _tree(ws)
    calls = [
        lambda out: train_grpo(model=tiny_model_dir, data=ws / "ds.parquet", out=out, cfg=TrainConfig()),
        lambda out: train_sft(
            model=tiny_model_dir, data=ws / "ds.parquet", out=out, cfg=TrainConfig(method="sft")
        ),
        lambda out: run_warmup(
            model=tiny_model_dir, pool=ws / "ds.parquet", out=out, cfg=WarmupConfig(enabled=False)
        ),
    ]
    for call in calls:
        with pytest.raises(InputError, match="mine: folder exists and looptool did not write it"):
            call(ws / "mine")
        (ws / "x.work").mkdir()
        (ws / "x.work" / "mine.txt").write_text("a folder that happens to have the work area's name\n")
        with pytest.raises(InputError, match=r"work area .*x\.work: folder exists"):
            call(ws / "x")
        (ws / "x.work" / "mine.txt").unlink()
        (ws / "x.work").rmdir()
    assert _tree(ws) == before


def test_warmup_disabled_replaces_its_own_copy(ws, tiny_model_dir):
    from looptool.train.config import WarmupConfig
    from looptool.train.sft import run_warmup

    for _ in range(2):
        run_warmup(
            model=tiny_model_dir, pool=ws / "ds.parquet", out=ws / "iter_0", cfg=WarmupConfig(enabled=False)
        )
    assert (ws / "iter_0" / MARKER).is_file() and (ws / "iter_0" / "config.json").is_file()
    assert not (tiny_model_dir / MARKER).exists()


def test_report_cards_leave_a_users_files_alone(ws):
    """The report stage removes stale cards of its own only."""
    from looptool.card import write_cards

    cards = ws / "cards"
    (cards / "iter_9").mkdir(parents=True)
    (cards / "iter_9" / "README.md").write_text("# my notes on iteration 9\n")
    (cards / "iter_8").mkdir()
    (cards / "iter_8" / "README.md").write_text(
        "---\n---\n# looptool-iter_8: iteration 8 of a LoopTool closed data-training loop\n"
    )
    write_cards([], cards)
    assert (cards / "iter_9" / "README.md").read_text() == "# my notes on iteration 9\n"
    assert not (cards / "iter_8").exists()


def test_the_marker_is_dvc_ignored():
    """The marker must not change a DVC output's hash (models/base, models/iter_j)."""
    root = Path(__file__).resolve().parents[1]
    assert MARKER in (root / ".dvcignore").read_text().splitlines()
