"""The headline of one iteration: the few results ``dvc metrics show``, ``dvc metrics diff`` and ``dvc exp show``
compare (``metrics/iter_j.json``, the only files dvc.yaml declares as metrics).

The stage metrics (``metrics/<stage>/iter_j.json``) keep everything a stage knows, including config echoes, paths,
weight hashes, the ``wall_s`` that ``looptool times`` reads and the mechanism figures; DVC tracks them as plain
outputs (``cache: false``). Shown as metrics they made ``dvc metrics show`` print hundreds of KB, ``dvc exp show``
a table of ~1,000 columns, and ``dvc metrics diff`` list wall times and hashes after a re-run that changed no
result. The headline holds results only, so a clean re-run leaves it byte-identical:

* ``call``, ``no_call``, ``heldout``: held-out ToolMatch on rows whose label calls tools (the primary figure),
  on rows whose label calls nothing and on all rows, each with ``<name>_n`` (rows) and ``<name>_lo`` /
  ``<name>_hi`` (Wilson 95% interval);
* ``bfcl_overall`` (needs non-live, live and multi-turn), ``bfcl_single_turn`` (the CPU demo's), ``bfcl_non_live``,
  ``bfcl_live``, ``bfcl_multi_turn``: BFCL's groups, as in the evaluation's ``summary``;
* ``rows``, ``mastered``, ``relabeled`` (iterations >= 1; not for the warm-up model, iteration 0): D_j's size and
  how many of its rows the probe found mastered (probe@j), and the labels JGLV corrected (verify@j).

Keys are flat and short, in this order (not sorted): ``dvc exp show`` names a column
``metrics/iter_j.json:<key>`` and keeps the file's order. A figure the evaluation
did not produce (a benchmark skipped, metrics older than the split) is ``null`` (DVC leaves it out of its tables),
so every iteration's file has the same keys.

>>> ev = {"heldout": {"accuracy": 0.5, "correct": 2, "n": 4, "ci95": [0.15, 0.85],
...       "call_rows": {"accuracy": 1.0, "correct": 2, "n": 2, "ci95": [0.3424, 1.0]},
...       "no_call_rows": {"accuracy": 0.0, "correct": 0, "n": 2}},
...       "summary": {"bfcl_single_turn": 0.25}}
>>> h = headline(evaluation=ev, probe={"n": 48, "mastered": 4}, verify={"relabeled": 1})
>>> [h[k] for k in ("call", "call_n", "call_lo", "call_hi")], h["no_call_hi"], h["bfcl_overall"]
([1.0, 2, 0.3424, 1.0], 0.6576, None)
>>> h["bfcl_single_turn"], h["rows"], h["mastered"], h["relabeled"]
(0.25, 48, 4, 1)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from looptool.errors import InputError

HELDOUT = {"call": ("call_rows",), "no_call": ("no_call_rows",), "heldout": ()}
"""Headline key -> where its figure ``{accuracy, correct, n, ci95}`` sits under the evaluation's ``heldout``
(the primary figure, call rows, first: the file keeps this order, and ``dvc exp show`` its columns)."""

BFCL = ("bfcl_overall", "bfcl_single_turn", "bfcl_non_live", "bfcl_live", "bfcl_multi_turn")
"""Keys of the evaluation's ``summary`` (:func:`looptool.evaluate.summary.summary_of`) the headline keeps."""

D_KEYS = {"rows": ("probe", "n"), "mastered": ("probe", "mastered"), "relabeled": ("verify", "relabeled")}
"""Headline key of D_j's figures -> (stage, key of that stage's metrics)."""


def _number(value: Any, where: str, integer: bool = False) -> float | int | None:
    ok = (int,) if integer else (int, float)
    if value is None or (isinstance(value, ok) and not isinstance(value, bool)):
        return value
    kind = "an integer" if integer else "a number"
    raise InputError(f"{where}: expected {kind} or null, got {json.dumps(value)[:60]}")


def _figure(ev: Mapping[str, Any], key: str, path: tuple[str, ...], where: str) -> dict[str, Any]:
    """``{key, key_n, key_lo, key_hi}`` of the held-out figure at ``path`` (all None when it is not there)."""
    fig: Any = ev.get("heldout")
    name = ".".join(("heldout", *path))
    for part in path:
        fig = fig.get(part) if isinstance(fig, Mapping) else None
    if fig is None:
        return dict.fromkeys((key, f"{key}_n", f"{key}_lo", f"{key}_hi"))
    if not isinstance(fig, Mapping):
        raise InputError(f"{where}: {name} must be an object {{accuracy, correct, n, ci95}}")
    acc = _number(fig.get("accuracy"), f"{where}: {name}.accuracy")
    n = _number(fig.get("n"), f"{where}: {name}.n", integer=True)
    ci = fig.get("ci95")
    if ci is None and isinstance(fig.get("correct"), int) and isinstance(n, int):
        from looptool.stats import wilson

        try:  # metrics written before intervals existed
            ci = list(wilson(fig["correct"], n))
        except ValueError as e:
            raise InputError(f"{where}: {name}: {e}") from None
    if ci is None:
        lo = hi = None
    elif isinstance(ci, list) and len(ci) == 2:
        lo, hi = (_number(v, f"{where}: {name}.ci95") for v in ci)
    else:
        raise InputError(f"{where}: {name}.ci95 must be [lo, hi]")
    return {key: acc, f"{key}_n": n, f"{key}_lo": lo, f"{key}_hi": hi}


def headline(
    *,
    evaluation: Mapping[str, Any],
    probe: Mapping[str, Any] | None = None,
    verify: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The headline of one iteration from its stage metrics (``probe`` and ``verify`` None for the warm-up
    model, iteration 0: then no ``rows``, ``mastered``, ``relabeled``). ``names`` maps "evaluation" / "probe" /
    "verify" to the file named in errors."""
    names = {s: f"{s} metrics" for s in ("evaluation", "probe", "verify")} | dict(names or {})
    where = names["evaluation"]
    if not isinstance(evaluation, Mapping):
        raise InputError(f"{where}: expected a JSON object")
    if evaluation.get("heldout") is not None and not isinstance(evaluation["heldout"], Mapping):
        raise InputError(f"{where}: heldout must be an object")
    out: dict[str, Any] = {}
    for key, path in HELDOUT.items():
        out.update(_figure(evaluation, key, path, where))
    summary = evaluation.get("summary")
    if summary is None:
        from looptool.evaluate.summary import summary_of

        summary = summary_of(dict(evaluation))
    if not isinstance(summary, Mapping):
        raise InputError(f"{where}: summary must be an object")
    out.update({k: _number(summary.get(k), f"{where}: summary.{k}") for k in BFCL})
    if probe is not None or verify is not None:
        stages = {"probe": probe or {}, "verify": verify or {}}
        for k, (stage, src) in D_KEYS.items():
            out[k] = _number(stages[stage].get(src), f"{names[stage]}: {src}", integer=True)
    return out


def _read(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: not found (run the stage that writes it first)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def run_headline(
    *, evaluation: str | Path, probe: str | Path | None = None, verify: str | Path | None = None
) -> dict[str, Any]:
    """The headline from the stage metrics files (``evaluation``: metrics/eval/iter_j.json; ``probe`` and
    ``verify``: metrics/probe/iter_j.json and metrics/verify/iter_j.json, None for iteration 0)."""
    files = {"evaluation": evaluation, "probe": probe, "verify": verify}
    data = {k: (_read(p) if p is not None else None) for k, p in files.items()}
    names = {k: str(p) for k, p in files.items() if p is not None}
    return headline(
        evaluation=data["evaluation"] or {}, probe=data["probe"], verify=data["verify"], names=names
    )
