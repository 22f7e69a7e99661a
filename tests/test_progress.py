"""One progress bar per stage, fed through the call cache (looptool.llm.progress).

The stage scripts run as DVC runs them (``run_stage``), with the real transformers backend on the tiny model;
tqdm is replaced by a subclass that records every bar it draws, so the test sees how many bars a stage opened,
their totals and counts.
"""

from __future__ import annotations

import importlib.util
import io as _io
from collections.abc import Sequence
from pathlib import Path

import pytest
import tqdm.auto
from test_llm_openai import scripted  # noqa: F401 - the scripted OpenAI-compatible server fixture

from looptool.llm import progress
from looptool.llm.base import Backend, Completion, Request, Sampling
from looptool.llm.cache import CachedBackend
from looptool.schema import SAMPLE, TRAIN, frame, make_sample_id

ROOT = Path(__file__).resolve().parents[1]
TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


@pytest.fixture(autouse=True)
def _fresh_progress_state(monkeypatch):
    """Each test starts with no open stage bar and no shared backend bar: a backend that another test module
    opened and never closed would otherwise keep its bar as the shared one and add its counts to ours."""
    monkeypatch.setattr(progress, "_current", None)
    monkeypatch.setattr(progress, "_shared", None)
    monkeypatch.setattr(progress, "_holders", set())


@pytest.fixture
def bars(monkeypatch):
    """Every tqdm bar over requests, drawn into a buffer (as on a terminal: LOOPTOOL_PROGRESS=1).

    transformers' own "Loading weights" bar (a model load, not the stage's requests) is left out.
    """
    made: list = []

    class Recorded(tqdm.auto.tqdm):
        def __init__(self, *a, **k):
            k["file"] = _io.StringIO()
            super().__init__(*a, **k)
            if not str(k.get("desc", "")).startswith("Loading"):
                made.append(self)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorded)
    monkeypatch.setenv(progress.PROGRESS_ENV, "1")
    return made


def _rows(n: int, schema=TRAIN):
    rows = []
    for i in range(n):
        msgs = [{"role": "user", "content": f"Weather in city number {i}?"}]
        row = {
            "sample_id": make_sample_id(TOOLS, msgs),
            "tools": TOOLS,
            "messages": msgs,
            "label": [{"name": "get_weather", "arguments": {"city": f"c{i}"}}],
            "origin": "seed",
            "parent_id": None,
            "iteration": 0,
            "label_rev": 0,
            "meta": {"pattern": "single"},
        }
        if schema is TRAIN:
            row["part"] = "seed_new"
        rows.append(row)
    return frame(rows, schema)


def _stage(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_stage", ROOT / "stages" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run_stage(name: str, args: list[str]) -> None:
    from looptool.guard import run_stage

    with pytest.raises(SystemExit) as e:
        run_stage(_stage(name).main, name=name, args=args)
    assert e.value.code == 0


def test_probe_stage_one_bar_with_cache_hits(bars, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    params = tmp_path / "params.yaml"
    params.write_text(
        "backends: {student: {backend: transformers, batch_size: 2, cache_chunk: 2}}\n"
        'iterations: {"1": {prev: "0", next: "2"}}\nprobe: {max_new_tokens: 4}\n'
    )

    def probe(rows: int) -> None:
        data = tmp_path / f"d{rows}.parquet"
        _rows(6).head(rows).write_parquet(data)
        _run_stage("probe", ["--params", str(params), "--iteration", "1", "--model", str(tiny_model_dir),
                             "--data", str(data), "--out", str(tmp_path / "p.parquet"),
                             "--metrics", str(tmp_path / "m.json")])  # fmt: skip

    probe(2)  # a D_j of 2 of the 6 samples: their answers reach the cache
    assert [(b.desc, b.total, b.n) for b in bars] == [("probe@1", 2, 2)]

    bars.clear()
    probe(6)
    # one bar for the whole stage (3 cache chunks of 2 requests, continuous batching inside each), its total
    # the stage's request count, the 2 cached answers counted as done
    assert len(bars) == 1
    [bar] = bars
    assert (bar.desc, bar.total, bar.n) == ("probe@1", 6, 6)
    assert "cached 2" in str(bar.postfix)


def test_evaluate_stage_one_bar_over_all_chunks(bars, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    heldout = tmp_path / "heldout.parquet"
    _rows(5, SAMPLE).write_parquet(heldout)
    params = tmp_path / "params.yaml"
    params.write_text(
        "backends: {student: {backend: transformers, batch_size: 2}}\n"
        "eval: {max_new_tokens: 4, chunk_size: 2, bfcl_dir: null, acebench_dir: null}\n"
    )
    _run_stage("evaluate", ["--params", str(params), "--iteration", "0", "--model", str(tiny_model_dir),
                            "--heldout", str(heldout), "--metrics", str(tmp_path / "m.json")])  # fmt: skip
    # 3 chunks (2+2+1) used to be 3 bars; the total is known before the first request
    assert [(b.desc, b.total, b.n) for b in bars] == [("evaluate@0", 5, 5)]


class Echo(Backend):
    """A small in-process backend: answers each request with its text (a failure for 'fail')."""

    name = "echo"
    model = "echo-model"

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[Completion]:
        out = []
        for r in requests:
            text = r.prompt or ""
            out.append(Completion(error="no") if text == "fail" else Completion(text=text))
        progress.report(len(requests) // 2)  # reports some of its progress itself, as the real ones do
        return out


def test_retries_grow_the_total_and_duplicates_count_once(tmp_path):
    with progress.stage_progress("expand") as bar:
        assert progress.current() is bar
        with CachedBackend(Echo(), path=tmp_path, chunk_size=3) as b:
            reqs = [Request.text(t) for t in ("a", "b", "a", "fail", "c")]
            b.generate(reqs, Sampling())
            assert (bar.total, bar.done, bar.hits) == (5, 5, 1)  # the repeated "a" ran once
            b.generate([Request.text("fail"), Request.text("a")], Sampling())  # a retry round
            assert (bar.total, bar.done, bar.hits) == (7, 7, 2)
    assert progress.current() is None and bar.closed


def test_plan_sets_the_total_before_any_request(tmp_path):
    with (
        progress.stage_progress("evaluate", total=10) as bar,
        CachedBackend(Echo(), path=tmp_path, chunk_size=4) as b,
    ):
        b.generate([Request.text(str(i)) for i in range(4)], Sampling())
        assert (bar.total, bar.done) == (10, 4)
        b.generate([Request.text(str(i)) for i in range(4, 10)], Sampling())
        assert (bar.total, bar.done) == (10, 10)


def test_a_plan_adds_to_what_was_already_sent(tmp_path):
    with progress.stage_progress("verify") as bar, CachedBackend(Echo(), path=tmp_path) as b:
        b.generate([Request.text("rule check")], Sampling())
        with progress.stage_progress("judge", total=3) as inner:
            assert inner is bar and bar.total == 4
            b.generate([Request.text(str(i)) for i in range(3)], Sampling())
        assert (bar.total, bar.done) == (4, 4)


def test_uncached_backend_counts_on_the_stage_bar(tmp_path):
    with progress.stage_progress("verify") as bar:
        b = progress.tracked(Echo())
        b.generate([Request.text("x"), Request.text("y")], Sampling())
        assert (bar.total, bar.done, bar.hits) == (2, 2, 0)


def test_without_a_stage_a_backend_keeps_one_bar_for_its_lifetime(bars, tmp_path):
    with CachedBackend(Echo(), path=tmp_path, chunk_size=2) as b:
        for k in range(3):
            b.generate([Request.text(f"{k}-{i}") for i in range(4)], Sampling())
    assert [(x.total, x.n) for x in bars] == [(12, 12)]


def test_no_bar_when_not_a_terminal(monkeypatch, tmp_path):
    made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda *a, **k: made.append(1))
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)  # pytest's stderr is not a terminal
    with progress.stage_progress("probe") as bar, CachedBackend(Echo(), path=tmp_path) as b:
        b.generate([Request.text("x")], Sampling())
    assert made == [] and bar.done == 1  # counted, not drawn


def test_vllm_progress_feeds_the_stage_bar():
    # vLLM calls use_tqdm(total=..., desc=..., dynamic_ncols=True, postfix=...), then update(n), postfix = ...
    assert progress.vllm_tqdm() in (True, False)  # no stage bar: vLLM's own bar (on a terminal)
    with progress.stage_progress("probe", total=3) as bar:
        factory = progress.vllm_tqdm()
        pbar = factory(total=3, desc="Processed prompts", dynamic_ncols=True, postfix="est. speed")
        pbar.update(1)
        assert pbar.format_dict["elapsed"] >= 0  # vLLM divides token counts by it
        pbar.postfix = "est. speed input: 10.00 toks/s, output: 5.00 toks/s"
        pbar.update(2)
        pbar.close()
        assert (bar.total, bar.done) == (3, 3) and "toks/s" in bar._note


def test_seed_llm_one_bar_over_the_agents_requests(bars, tmp_path):
    from test_synth_llm import ScriptedAgents, llm_cfg  # the seed tests' rule-based agent backend

    from looptool.synth import run_seed

    agents = ScriptedAgents()
    with progress.stage_progress("seed") as bar, CachedBackend(agents, path=tmp_path / "cache") as gen:
        run_seed(out_dir=tmp_path, cfg=llm_cfg(), generator=gen, progress=True)
        stats = gen.stats()
    assert len(bars) == 1  # the samples bar of the procedural mode is not drawn beside it
    [drawn] = bars
    assert drawn.desc == "seed" and drawn.total == drawn.n == bar.total == stats["hits"] + stats["misses"]
    assert stats["misses"] == sum(agents.requests.values()) > 0  # every agent call counted once
    assert bar._note.startswith("pool ") and bar._note.endswith(" samples")


def test_openai_backend_answers_count_one_by_one(scripted, bars, tmp_path, monkeypatch):  # noqa: F811
    from test_llm_openai import _user

    from looptool.llm import BackendConfig, get_backend

    url, _ = scripted
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    seen = []
    real = progress.report
    monkeypatch.setattr(progress, "report", lambda n=1: (seen.append(n), real(n)))
    cfg = BackendConfig(backend="openai", base_url=url, max_concurrency=2, cache_chunk=8)
    with progress.stage_progress("verify") as bar, get_backend(cfg, model="judge-model") as judge:
        judge.generate([_user(f"q{i}") for i in range(5)], Sampling(max_new_tokens=4))
    assert seen == [1] * 5 and (bar.total, bar.done) == (5, 5)  # each answer as it came, nothing twice
    assert [(b.desc, b.total, b.n) for b in bars] == [("verify", 5, 5)]
