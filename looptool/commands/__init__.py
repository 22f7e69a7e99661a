"""Click commands of the ``looptool`` CLI, one module per area (imported lazily by :mod:`looptool.cli`)."""
