"""The rule checks of one sample that the loop needs, below the synthesizer: verification of synthesized and
expanded samples (:func:`verify_sample`), the grounding rule JGLV shares with it
(:func:`ungrounded_arguments`), the difficulty signature (:func:`signature_of`) and how people write values
(:mod:`looptool.checks.surface`). Nothing here imports :mod:`looptool.synth` at import time (the held-out
domain check of :func:`verify_sample` reads the synthesizer's catalog only when given a SeedConfig).
"""

from looptool.checks.sample import (
    META_FIELDS,
    REASONS,
    SIGNATURE_FIELDS,
    arg_types,
    grounding_text,
    signature_of,
    tool_problems,
    ungrounded_arguments,
    verify_sample,
)

__all__ = [
    "META_FIELDS",
    "REASONS",
    "SIGNATURE_FIELDS",
    "arg_types",
    "grounding_text",
    "signature_of",
    "tool_problems",
    "ungrounded_arguments",
    "verify_sample",
]
