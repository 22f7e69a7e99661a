"""The rule checks of one sample that the loop needs, below the synthesizer: verification of synthesized and
expanded samples (:func:`verify_sample`), the grounding rule JGLV shares with it
(:func:`ungrounded_arguments`), the difficulty signature (:func:`signature_of`) and how people write values
(:mod:`looptool.checks.surface`). Nothing here imports :mod:`looptool.synth`: the held-out domain check of
:func:`verify_sample` takes the domains as data (:class:`SplitDomains`).
"""

from looptool.checks.sample import (
    META_FIELDS,
    REASONS,
    SIGNATURE_FIELDS,
    SplitDomains,
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
    "SplitDomains",
    "arg_types",
    "grounding_text",
    "signature_of",
    "tool_problems",
    "ungrounded_arguments",
    "verify_sample",
]
