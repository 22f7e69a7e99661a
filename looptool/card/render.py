"""A card's Markdown: YAML front matter (hub metadata), then what the model is and how it was made."""

from __future__ import annotations

import json
from typing import Any

from looptool.card.facts import (
    BENCHMARKS,
    HELDOUT_KEYS,
    _bench_of,
)


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
