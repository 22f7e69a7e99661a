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

from looptool.synth.build import run_seed
from looptool.synth.config import (
    SeedConfig,
    dev_domain_names,
    heldout_domain_names,
    load_seed_config,
    pool_domain_names,
)
from looptool.synth.instantiate import instantiate

__all__ = [
    "SeedConfig",
    "run_seed",
    "dev_domain_names",
    "heldout_domain_names",
    "instantiate",
    "load_seed_config",
    "pool_domain_names",
]
