"""Greedy Capability Probing with the real transformers backend on the tiny model."""

from __future__ import annotations

import json

import polars as pl
import pytest

from looptool import storage
from looptool.llm import BackendConfig, get_backend
from looptool.probe import ProbeConfig, probe, probe_metrics
from looptool.schema import PROBE, TRAIN, frame, make_sample_id

TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


def _data(n=6):
    rows = []
    for i in range(n):
        msgs = [{"role": "user", "content": f"Weather in city number {i}?"}]
        label = [] if i % 2 else [{"name": "get_weather", "arguments": {"city": f"c{i}"}}]
        rows.append(
            {
                "sample_id": make_sample_id(TOOLS, msgs),
                "tools": TOOLS,
                "messages": msgs,
                "label": label,
                "origin": "seed",
                "parent_id": None,
                "iteration": 0,
                "label_rev": 0,
                "meta": {"pattern": "irrelevant" if i % 2 else "single"},
                "part": "seed_new",
            }
        )
    return frame(rows, TRAIN)


@pytest.fixture
def backend(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    with get_backend(BackendConfig(backend="transformers", batch_size=4), model=str(tiny_model_dir)) as b:
        yield b


def test_probe_rows(backend):
    data = _data()
    out = probe(data, backend, ProbeConfig(max_new_tokens=8), iteration=1)
    PROBE.validate(out, "probe.parquet")
    assert out["sample_id"].to_list() == data["sample_id"].to_list()  # order kept
    assert (out["n_tokens"] <= 8).all() and (out["n_tokens"] >= 1).all()
    assert out["ppl"].null_count() == 0 and (out["ppl"] > 1).all()  # from the decode's own log-probs
    # the random model writes text, never a tool call: [] labels are matched, call labels are not
    assert out["mastered"].to_list() == [False, True, False, True, False, True]
    m = probe_metrics(out, data, 1.0, backend.stats())
    assert m["mastered_by_pattern"] == {"irrelevant": 1.0, "single": 0.0}
    assert m["n"] == 6 and m["mastered"] == 3


def test_probe_stage_cli(tiny_model_dir, tmp_path, monkeypatch):
    import importlib.util

    from click.testing import CliRunner

    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    spec = importlib.util.spec_from_file_location("probe_stage", "stages/probe.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    params = tmp_path / "params.yaml"
    params.write_text(
        'backends: {student: {backend: transformers, batch_size: 2}}\nprobe: {max_new_tokens: 4}\niterations: {"1": {prev: "0", next: "2"}}\n'
    )
    data = storage.write_parquet(_data(4), tmp_path / "d.parquet", TRAIN)
    res_args = [
        "--params", str(params), "--iteration", "1", "--model", str(tiny_model_dir), "--data", str(data),
        "--out", str(tmp_path / "p.parquet"), "--metrics", str(tmp_path / "m.json"),
    ]  # fmt: skip
    res = CliRunner().invoke(mod.main, res_args)
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["n"] == 4 and m["iteration"] == 1 and "sampled" not in m
    assert pl.read_parquet(tmp_path / "p.parquet").height == 4
    # probe.samples from params: the pass-rate columns, the metrics' sampled block, a line that says so
    params.write_text(
        params.read_text().replace("probe: {max_new_tokens: 4}", "probe: {max_new_tokens: 4, samples: 2}")
    )
    args = [a if a != str(tmp_path / "p.parquet") else str(tmp_path / "p2.parquet") for a in res_args]
    res = CliRunner().invoke(mod.main, args)
    assert res.exit_code == 0, res.output
    assert "2 draws each" in res.output
    assert json.loads((tmp_path / "m.json").read_text())["sampled"]["draws_answered"] == 8
    assert pl.read_parquet(tmp_path / "p2.parquet")["n_samples"].to_list() == [2] * 4


def test_probe_call_format_param(backend):
    from looptool.calls import call_format_of

    out = probe(_data(), backend, ProbeConfig(max_new_tokens=8, call_format="template"), iteration=1)
    assert out["mastered"].to_list() == [False, True, False, True, False, True]
    assert call_format_of(backend.tokenizer) in ("hermes", "auto")
    with pytest.raises(ValueError, match="call_format"):
        ProbeConfig(call_format="gemma")


def _interrupt_after(hf, rows: int):
    """Make the real engine raise KeyboardInterrupt (as Ctrl-C would) once ``rows`` requests have finished."""
    real = hf._drop
    finished = []

    def drop(state):
        finished.extend(r.index for r in state.rows if r.finish is not None)
        if len(finished) >= rows:
            raise KeyboardInterrupt
        return real(state)

    hf._drop = drop
    return finished


def test_interrupted_probe_keeps_finished_rows(tiny_model_dir, tmp_path, monkeypatch):
    """Issue 23, class 10: a probe under the default cache_chunk (128: one call for the demo's 48 samples, here
    24) interrupted after 8 rows finished. Before, the cache got nothing (rows were stored when the chunk
    returned); now the finished rows are stored as they finish, and the re-run decodes only the others."""
    data = _data(24)
    cfg = ProbeConfig(max_new_tokens=4)
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "clean"))
    with get_backend(BackendConfig(backend="transformers", batch_size=4), model=str(tiny_model_dir)) as b:
        clean = probe(data, b, cfg, iteration=1)
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))
    student = BackendConfig(backend="transformers", batch_size=4)
    assert student.cache_chunk == 128  # the default: the whole probe is one call to the engine
    with get_backend(student, model=str(tiny_model_dir)) as b:
        finished = _interrupt_after(b.inner.inner, 8)
        with pytest.raises(KeyboardInterrupt):
            probe(data, b, cfg, iteration=1)
    assert 8 <= len(finished) < 24
    with get_backend(student, model=str(tiny_model_dir)) as b:
        again = probe(data, b, cfg, iteration=1)
        assert b.stats() == {"hits": len(finished), "misses": 24 - len(finished), "errors": 0}
    assert again.equals(clean)


# --- probe.samples: k sampled decodes beside the greedy one (pass rate) -----------------------------------


def _call(city: str) -> str:
    return (
        "<tool_call>\n" + json.dumps({"name": "get_weather", "arguments": {"city": city}}) + "\n</tool_call>"
    )


class Scripted:
    """A backend whose greedy answer is the label of even samples (text for odd ones) and whose draw i of
    sample n is right when i < n % 5 (so the pass rate of sample n is (n % 5) / k for k = 4, capped at 1)."""

    name = "scripted"
    tokenizer = None

    def __init__(self, data):
        self.index = {sid: n for n, sid in enumerate(data["sample_id"])}
        self.labels = {sid: json.loads(lab) for sid, lab in data.select("sample_id", "label").iter_rows()}
        self.calls: list[tuple[list, object]] = []

    def _right(self, sid: str) -> str:
        lab = self.labels[sid]
        return _call(lab[0]["arguments"]["city"]) if lab else "No tool fits."

    def generate(self, requests, sampling):
        from looptool.llm.base import Completion

        self.calls.append(([r.key for r in requests], sampling))
        out = []
        for r in requests:
            if sampling.greedy:
                sid = r.key
                ok = self.index[sid] % 2 == 0
                out.append(Completion(text=self._right(sid) if ok else _call("nowhere"), logprobs=[-0.5]))
                continue
            sid, i = r.key.rsplit("#", 1)
            good = int(i) < self.index[sid] % 5
            out.append(Completion(text=self._right(sid) if good else _call("elsewhere")))
        return out

    def stats(self):
        return None


def test_probe_samples_pass_rate_scripted():
    data = _data(6)
    b = Scripted(data)
    cfg = ProbeConfig(samples=4, temperature=0.7, seed=3)
    out = probe(data, b, cfg, iteration=2)
    PROBE.validate(out, "probe.parquet")
    assert out.columns == [*PROBE.names, "pass_rate", "n_samples", "failed_sample"]
    # greedy: even samples right; mastered stays the greedy verdict whatever the draws say
    assert out["mastered"].to_list() == [True, False, True, False, True, False]
    assert out["pass_rate"].to_list() == [0.0, 0.25, 0.5, 0.75, 1.0, 0.0]
    assert out["n_samples"].to_list() == [4] * 6
    assert out["failed_sample"][4] is None and "elsewhere" in out["failed_sample"][0]
    # one greedy call, then one batched sampled call: k requests per sample, side by side, own keys, seeded
    (gkeys, greedy), (skeys, sampled) = b.calls
    assert greedy.greedy and gkeys == data["sample_id"].to_list()
    assert skeys == [f"{s}#{i}" for s in data["sample_id"] for i in range(4)]
    assert (
        sampled.temperature == 0.7 and sampled.seed == 3 + 2 and sampled.max_new_tokens == cfg.max_new_tokens
    )
    m = probe_metrics(out, data, 1.0, None)
    assert m["sampled"] == {
        "rated": 6,
        "pass_rate_mean": round((0 + 0.25 + 0.5 + 0.75 + 1 + 0) / 6, 4),
        "pass_rate_mean_mastered": 0.5,
        "pass_rate_mean_failed": round(1 / 3, 4),
        "boundary": 2,  # mastered with pass rate < 1: samples 0 and 2
        "failed_solvable": 2,  # failed with pass rate > 0: samples 1 and 3
        "draws_answered": 24,
    }
    # k = 0 (the default): the greedy call only, no pass-rate columns, the same greedy rows
    b0 = Scripted(data)
    out0 = probe(data, b0, ProbeConfig(), iteration=2)
    assert len(b0.calls) == 1 and out0.columns == PROBE.names
    assert out.select(PROBE.names).equals(out0)
    assert "sampled" not in probe_metrics(out0, data, 1.0, None)


def test_probe_samples_config_checks():
    assert ProbeConfig().samples == 0
    with pytest.raises(ValueError, match="samples"):
        ProbeConfig(samples=-1)
    with pytest.raises(ValueError, match="temperature"):
        ProbeConfig(samples=2, temperature=0.0)
    with pytest.raises(ValueError, match="top_p"):
        ProbeConfig(top_p=0.0)


def test_probe_samples_on_the_tiny_model(tiny_model_dir, tmp_path, monkeypatch):
    """The real engine: k = 0 writes the greedy-only file, byte for byte what the greedy columns of a k = 4
    probe write; the draws are reproducible (a fresh cache gives the same pass rates) and a repeated prompt
    is prefilled once per batch, not once per draw."""
    from looptool.probe import run_probe

    data = storage.write_parquet(_data(6), tmp_path / "d.parquet", TRAIN)
    results = {}
    for name, k in (("k0", 0), ("k4", 4), ("k4again", 4)):
        monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / f"cache-{name}"))  # no answer shared
        with get_backend(BackendConfig(backend="transformers", batch_size=8), model=str(tiny_model_dir)) as b:
            prefills = []
            hf = b
            while hasattr(hf, "inner"):  # the engine behind the error budget and the call cache
                hf = hf.inner
            real = hf._prefill
            monkeypatch.setattr(
                hf,
                "_prefill",
                lambda rows, prompts, seen=prefills, real=real: seen.append(len(rows)) or real(rows, prompts),
            )
            m = run_probe(
                data=data, out=tmp_path / f"{name}.parquet", cfg=ProbeConfig(max_new_tokens=6, samples=k),
                iteration=1, backend=b,
            )  # fmt: skip
        results[name] = (m, pl.read_parquet(tmp_path / f"{name}.parquet"), len(prefills))
    m0, p0, n0 = results["k0"]
    m4, p4, n4 = results["k4"]
    assert p0.columns == PROBE.names and "sampled" not in m0
    storage.write_parquet(p4.select(PROBE.names), tmp_path / "greedy_of_k4.parquet", PROBE)
    assert (tmp_path / "greedy_of_k4.parquet").read_bytes() == (tmp_path / "k0.parquet").read_bytes()
    assert p4["n_samples"].to_list() == [4] * 6 and m4["sampled"]["draws_answered"] == 24
    # the random model never writes the labelled call; a rate is a share of 4 draws
    assert p4["pass_rate"].to_list()[0::2] == [0.0, 0.0, 0.0]
    assert all(r * 4 == int(r * 4) for r in p4["pass_rate"].to_list())
    assert p4.equals(results["k4again"][1])  # seeded: the same draws again
    assert n0 == 6 and n4 - n0 < 24  # 24 draws of 6 prompts: the copies of a prompt share its prefill
