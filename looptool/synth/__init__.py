"""Seed corpus synthesis: API trees, agent simulation, verification (DESIGN.md, stage ``seed``).

Public API:

* :class:`SeedConfig`, :func:`load_seed_config` -- the ``seed`` params section (+ ``backends.generator`` /
  ``backends.judge``);
* :func:`run_seed` -- the stage: pool, held-out split, rejected rows, label-noise truth, metrics;
* :func:`instantiate` -- a new verified sample with a given difficulty signature in another domain (used by
  error-driven expansion);
* the rule checks every seed and expansion passes live below the synthesizer, in :mod:`looptool.checks`;
* :func:`heldout_domain_names`, :func:`dev_domain_names` -- the test split's and the dev split's domains (functions
  of the SeedConfig).
"""

import importlib
from typing import Any

# bound here, not lazily: the name is also the submodule's, which the import system would bind instead
from looptool.synth.instantiate import instantiate as instantiate

# PEP 562: the other names are imported on first use, so a module that needs the config or ``instantiate``
# (expand) does not depend on the whole seed stage (build, the judge, decontamination).
_EXPORTS = {
    "SeedConfig": "looptool.synth.config",
    "dev_domain_names": "looptool.synth.config",
    "heldout_domain_names": "looptool.synth.config",
    "load_seed_config": "looptool.synth.config",
    "pool_domain_names": "looptool.synth.config",
    "run_seed": "looptool.synth.build",
}

__all__ = sorted([*_EXPORTS, "instantiate"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
