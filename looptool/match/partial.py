"""Partial credit for a tool-call answer: one function, :func:`credit`, serves the ``train.reward: partial``
GRPO reward, the verl export's reward choice and the held-out figures beside ToolMatch (function-name accuracy
and argument F1 on call rows).

The score follows ToolRL (Qian et al. 2025, "ToolRL: Reward is All Tool Learning Needs", section 3.3; the
correctness term of its ``rlla`` reward), rescaled from its [-3, 3] to [0, 1]::

    score = (name_jaccard + sum over paired calls (key_jaccard + values equal)) / (1 + sum over label calls (1 + keys))

``name_jaccard`` is the multiset Jaccard of the predicted and the label's function names; each label call is
paired with at most one predicted call of the same name (the pairing that maximises the score, where ToolRL
pairs greedily in label order); ``key_jaccard`` is the Jaccard of the two calls' argument names and ``values
equal`` counts the label's arguments whose predicted value is equal under ToolMatch's typed rules
(:mod:`looptool.match`: numbers unified only for numeric parameters, lists in order). So the score is 1.0
exactly when :func:`looptool.match.tool_match` accepts the answer, and every missing, extra or wrong call or
argument costs a share of it. A prediction that cannot be parsed scores 0.

**No-call labels** (``[]``: the right answer is text) get exactly the binary ToolMatch: 1.0 for an answer
without a call, 0.0 otherwise. Partial credit there would pay a model for not calling; on a call label an
answer without a call scores 0 (no name in common), as in ToolMatch.

From the same pairing: ``names`` (the predicted multiset of function names is the label's: function-name
accuracy) and ``arg_f1`` (the F1 of argument (name, value) pairs: a pair is right when its call is paired and
the value equal; precision over every predicted argument, recall over every label argument; 1.0 when neither
side has an argument and the names agree).

**How the official LoopTool reward compares lists** (Rednote-ExperienceAI-Lab/LoopTool, commit e7dda4f,
``grpotool/verl/utils/reward_score/toolace.py``, with ``train_grpo_qwen.sh``'s ``TOOL_REWARD_VERSION=1``,
``CORRECTMAX1=1``, ``ERRORMAX=0``: a 0/1 reward): ``compute_tool_call_reward_json`` requires as many calls as the
label, then ``compare_parsed_content`` turns every dict into a ``frozenset`` of (key, value) and every list,
the list of calls included, into a ``frozenset`` of its items. So list arguments compare as **sets**: order is
ignored and duplicates collapse (``[1, 1, 2]`` equals ``[2, 1]``), and with equal call counts ``[f, g, g]``
equals ``[f, f, g]``; scalars compare with Python's ``==`` (``1 == 1.0 == True``). looptool's ToolMatch does
**not** agree on lists: a list argument is compared in order, item by item (``[2, 1]`` != ``[1, 2]``), the calls
as a multiset, ``True`` never equals ``1`` and ``"5"`` never ``5``, numbers by value only for numeric parameters.
ToolMatch is the stricter of the two on lists (an order the label does not fix is counted wrong); this module
keeps ToolMatch's rules, so ``credit(...).score == 1.0`` iff ``tool_match``.

>>> tools = [{"name": "weather", "parameters": {"properties": {"city": {"type": "string"},
...     "days": {"type": "integer"}}}}]
>>> label = [{"name": "weather", "arguments": {"city": "Paris", "days": 3}}]
>>> credit(label, label, tools)
Credit(score=1.0, names=True, arg_f1=1.0)
>>> credit([{"name": "weather", "arguments": {"city": "Rome", "days": 3}}], label, tools)
Credit(score=0.75, names=True, arg_f1=0.5)
>>> credit([{"name": "forecast", "arguments": {"city": "Paris", "days": 3}}], label, tools)
Credit(score=0.0, names=False, arg_f1=0.0)
>>> credit([], label, tools)  # no call on a call label
Credit(score=0.0, names=False, arg_f1=0.0)
>>> credit([], [], tools), credit(label, [], tools)  # a no-call label: the binary ToolMatch
(Credit(score=1.0, names=True, arg_f1=1.0), Credit(score=0.0, names=False, arg_f1=0.0))
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import permutations
from typing import Any, NamedTuple

from looptool.match import _as_pairs, _canon, _props, tool_match

__all__ = ["Credit", "credit"]

_MAX_PERMUTATIONS = 40_320
"""Above this many pairings of one function's calls (8 against 8), the pairing is greedy, as ToolRL's."""


class Credit(NamedTuple):
    """Partial credit of one answer (module docstring)."""

    score: float
    """ToolRL-style credit in [0, 1]; on a no-call label exactly the binary ToolMatch."""
    names: bool
    """The answer calls exactly the label's functions (as a multiset)."""
    arg_f1: float
    """F1 of the answer's argument (name, value) pairs against the label's."""


_ZERO = Credit(0.0, False, 0.0)
_ONE = Credit(1.0, True, 1.0)


def _jaccard(a: Counter, b: Counter) -> float:
    union = sum((a | b).values())
    return sum((a & b).values()) / union if union else 1.0


def _pair_score(pa: dict[str, Any], ga: dict[str, Any], props: dict[str, Any]) -> tuple[float, int]:
    """(key Jaccard + values equal, values equal) of a predicted call against a label call of the same name."""
    right = sum(
        1 for k, v in ga.items() if k in pa and _canon(pa[k], props.get(k)) == _canon(v, props.get(k))
    )
    union = len(pa.keys() | ga.keys())
    return (len(pa.keys() & ga.keys()) / union if union else 1.0) + right, right


def _best_pairing(scores: list[list[tuple[float, int]]]) -> tuple[float, int]:
    """Max total score over one-to-one pairings of label calls (rows) with predicted calls (columns) of one name."""
    n, m = len(scores), len(scores[0]) if scores else 0
    if not n or not m:
        return 0.0, 0
    if math.perm(max(n, m), min(n, m)) > _MAX_PERMUTATIONS:  # greedy in label order (ToolRL)
        used: set[int] = set()
        total, right = 0.0, 0
        for row in scores:
            free = [j for j in range(m) if j not in used]
            if not free:
                break
            j = max(free, key=lambda c: row[c][0])
            used.add(j)
            total, right = total + row[j][0], right + row[j][1]
        return total, right
    if n <= m:
        pairings = (zip(range(n), cols, strict=True) for cols in permutations(range(m), n))
    else:
        pairings = (zip(rows, range(m), strict=True) for rows in permutations(range(n), m))
    best = (0.0, 0)
    for pairing in pairings:
        total = right = 0
        for i, j in pairing:
            total += scores[i][j][0]
            right += scores[i][j][1]
        if total > best[0]:
            best = (total, right)
    return best


def credit(prediction: Any, label: Any, tools: Any = None) -> Credit:
    """Partial credit of ``prediction`` against ``label`` (module docstring). Arguments as for
    :func:`looptool.match.tool_match`: a :class:`~looptool.calls.Parsed` (a parse error scores 0) or a list of
    calls; the label as a list or JSON text; ``tools`` (list or JSON text) for the typing of numbers."""
    if tool_match(prediction, label, tools):
        return _ONE
    gold, pred = _as_pairs(label), _as_pairs(prediction)
    if not gold or pred is None:  # a no-call label (the binary ToolMatch), or an answer that does not parse
        return _ZERO
    pred = [(n, a if isinstance(a, dict) else {}) for n, a in pred]
    gold = [(n, a if isinstance(a, dict) else {}) for n, a in gold]
    props = _props(tools)
    pred_names, gold_names = Counter(n for n, _ in pred), Counter(n for n, _ in gold)
    total, right = _jaccard(pred_names, gold_names), 0
    for name in gold_names.keys() & pred_names.keys():
        p = props.get(name, {})
        g_args = [a for n, a in gold if n == name]
        p_args = [a for n, a in pred if n == name]
        s, r = _best_pairing([[_pair_score(pa, ga, p) for pa in p_args] for ga in g_args])
        total, right = total + s, right + r
    top = 1 + sum(1 + len(a) for _, a in gold)
    n_args = sum(len(a) for _, a in pred) + sum(len(a) for _, a in gold)
    names = pred_names == gold_names
    f1 = 2 * right / n_args if n_args else float(names)
    # not an exact match: never rounded up to the full mark
    return Credit(min(round(total / top, 4), 0.9999), names, round(f1, 4))
