"""Decontamination: flag synthesized samples whose user turns overlap benchmark questions.

Benchmark folders (``seed.decontam_dirs``; BFCL and ACEBench ship one JSON object per line) are read once
into an index of word n-grams of their user questions. A sample is contaminated when at least
``threshold`` of its user-turn n-grams occur in one benchmark question; the match (file, question id,
overlap) is recorded in the row's ``meta.decontam`` and the row is rejected with reason ``contaminated``.
Answer files (``possible_answer/``) hold no questions and are skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from looptool import jsonutil

_WORD = re.compile(r"[a-z0-9]+")
_ROLE_PREFIX = re.compile(r"^\s*(user|system|assistant)\s*:\s*", re.IGNORECASE | re.MULTILINE)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(text: str, n: int) -> set[str]:
    w = words(text)
    return {" ".join(w[i : i + n]) for i in range(len(w) - n + 1)}


@dataclass(frozen=True)
class Match:
    source: str
    id: str
    overlap: float
    shared: int

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "id": self.id,
            "overlap": round(self.overlap, 4),
            "shared_ngrams": self.shared,
        }


def _user_texts(question: Any) -> list[str]:
    """User turns of a benchmark question: BFCL nests message lists, ACEBench writes "user: ..." text."""
    if isinstance(question, str):
        return [_ROLE_PREFIX.sub("", question)]
    out: list[str] = []
    if isinstance(question, list):
        for q in question:
            out.extend(_user_texts(q))
    elif isinstance(question, dict) and question.get("role") in ("user", None):
        content = question.get("content")
        if isinstance(content, str):
            out.append(content)
    return out


def read_questions(dirs: Iterable[str | Path]) -> list[tuple[str, str, str]]:
    """(source file, question id, text) of every benchmark question under ``dirs``."""
    out = []
    for d in dirs:
        root = Path(d)
        if not root.exists():
            raise FileNotFoundError(f"seed.decontam_dirs: {root} does not exist")
        for path in sorted(root.rglob("*.json*")):
            if "possible_answer" in path.parts or not path.is_file():
                continue
            with path.open(encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        obj = jsonutil.loads(line)
                    except ValueError as e:
                        raise ValueError(f"{path}:{lineno}: {jsonutil.problem(e)}") from None
                    if not isinstance(obj, dict) or "question" not in obj:
                        continue
                    text = "\n".join(_user_texts(obj["question"]))
                    if text.strip():
                        out.append((str(path.relative_to(root)), str(obj.get("id", lineno)), text))
    return out


class Decontaminator:
    """Word n-gram overlap against benchmark questions."""

    def __init__(self, dirs: Sequence[str | Path], n: int = 8, threshold: float = 0.5):
        self.n = n
        self.threshold = threshold
        self.questions = read_questions(dirs)
        self.index: dict[str, list[int]] = {}
        for i, (_src, _id, text) in enumerate(self.questions):
            for g in ngrams(text, n):
                self.index.setdefault(g, []).append(i)

    def __len__(self) -> int:
        return len(self.questions)

    def match(self, texts: Iterable[str]) -> Match | None:
        """The benchmark question sharing the largest fraction of the texts' n-grams, if over threshold."""
        grams: set[str] = set()
        for t in texts:
            grams |= ngrams(t, self.n)
        if not grams:
            return None
        hits: Counter[int] = Counter()
        for g in grams:
            for i in self.index.get(g, ()):
                hits[i] += 1
        if not hits:
            return None
        best, shared = min(hits.items(), key=lambda kv: (-kv[1], kv[0]))
        overlap = shared / len(grams)
        if overlap < self.threshold:
            return None
        src, qid, _ = self.questions[best]
        return Match(src, qid, overlap, shared)

    def match_messages(self, messages: list[dict[str, Any]]) -> Match | None:
        return self.match(m.get("content") or "" for m in messages if m.get("role") == "user")
