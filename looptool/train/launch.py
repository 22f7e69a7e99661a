"""Multi-process training and long runs: the ``accelerate launch`` wrapper, checkpoints and resume.

``train.launcher`` names a shipped accelerate config (``ddp``, ``zero2``, ``zero3`` ->
``configs/accelerate_<name>.yaml``) or a path to one; the train stage then re-executes itself under
``accelerate launch --config_file <that> [--num_processes N] <train.launcher_args> stages/train.py <same
options>``, so ``dvc repro`` trains on several GPUs or nodes with dvc.yaml unchanged. The launched
processes see ``LOOPTOOL_LAUNCHED=1`` and do not launch again.

Checkpoints (``train.save_steps`` > 0) go to the stage's working area ``<out>.work`` (beside
``models/iter_j``, not a DVC output, so DVC does not delete it when the stage re-runs). A re-run of a
killed stage resumes from the newest complete checkpoint there when the run is the same (same config,
start model and D_j: :func:`run_fingerprint`); otherwise the area is cleared. A finished run removes it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.filedigest import tree_digests

LAUNCHED_ENV = "LOOPTOOL_LAUNCHED"
SHIPPED = {
    "ddp": "configs/accelerate_ddp.yaml",
    "zero2": "configs/accelerate_zero2.yaml",
    "zero3": "configs/accelerate_zero3.yaml",
}
FINGERPRINT = "looptool_run.json"


def launcher_config(name: str, root: str | Path = ".") -> Path:
    """The accelerate config file ``train.launcher`` names (a shipped name or a path); error if missing."""
    path = Path(root) / SHIPPED[name] if name in SHIPPED else Path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"train.launcher={name!r}: no accelerate config at {path} (shipped: {sorted(SHIPPED)}, or a path)"
        )
    return path


def launch_command(cfg: Any, script: str | Path, argv: list[str], root: str | Path = ".") -> list[str]:
    """The ``accelerate launch`` command line that runs ``script argv`` under ``cfg.launcher``."""
    exe = Path(sys.executable).parent / "accelerate"
    cmd = [str(exe), "launch"] if exe.exists() else [sys.executable, "-m", "accelerate.commands.launch"]
    cmd += ["--config_file", str(launcher_config(cfg.launcher, root))]
    if cfg.num_processes is not None:
        cmd += ["--num_processes", str(cfg.num_processes)]
    return cmd + [str(a) for a in cfg.launcher_args] + [str(script), *argv]


def should_launch(cfg: Any) -> bool:
    """True in the stage's first process when ``train.launcher`` asks for ``accelerate launch``."""
    return cfg.launcher != "none" and os.environ.get(LAUNCHED_ENV) != "1" and "LOCAL_RANK" not in os.environ


def relaunch(cfg: Any, script: str | Path, argv: list[str]) -> int:
    """Run the stage again under ``accelerate launch``; return its exit code."""
    import subprocess

    cmd = launch_command(cfg, script, argv)
    print("train: " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, env={**os.environ, LAUNCHED_ENV: "1"})


def run_fingerprint(cfg: Any, model_path: str | Path, data_path: str | Path, seed: int) -> str:
    """Identity of a training run: config, seed, and the contents of the start model's and D_j's files (a
    checkpoint of another run, or of a model or D_j rewritten in place, is never resumed)."""
    from looptool.config import to_dict

    conf = {
        k: v
        for k, v in to_dict(cfg).items()
        if k not in ("resume", "launcher", "launcher_args", "num_processes")
    }
    return jsonutil.digest([conf, seed, tree_digests(Path(model_path)), tree_digests(Path(data_path))], 32)


def complete_checkpoints(work: Path) -> list[Path]:
    """``checkpoint-N`` folders that were written to the end (``trainer_state.json`` present), oldest first."""
    if not work.is_dir():
        return []
    found = []
    for p in work.glob("checkpoint-*"):
        suffix = p.name.split("-", 1)[1]
        if p.is_dir() and suffix.isdigit() and (p / "trainer_state.json").is_file():
            found.append((int(suffix), p))
    return [p for _, p in sorted(found)]


def resume_point(work: Path, fingerprint: str) -> Path | None:
    """The newest complete checkpoint of the same run in ``work`` (None: start fresh)."""
    stamp = work / FINGERPRINT
    try:
        same = json.loads(stamp.read_text()).get("fingerprint") == fingerprint
    except (OSError, ValueError):
        same = False
    ckpts = complete_checkpoints(work) if same else []
    return ckpts[-1] if ckpts else None


def reset_work(work: Path, fingerprint: str) -> None:
    """Empty the working area and stamp it with this run's fingerprint (main process only)."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / FINGERPRINT).write_text(json.dumps({"fingerprint": fingerprint}))


class SeenIds:
    """A reward wrapper that records which samples this process scored (the ``sample_id`` column TRL passes),
    so the metrics show how the data was split across processes."""

    def __init__(self, fn: Any):
        self.fn = fn
        self.ids: set[str] = set()
        self.__name__ = getattr(fn, "__name__", "reward")

    def __call__(self, prompts: Any, completions: Any, **kwargs: Any) -> Any:
        self.ids.update(kwargs.get("sample_id") or [])
        return self.fn(prompts, completions, **kwargs)


def rank_report(accelerator: Any, seen: SeenIds) -> dict[str, Any]:
    """Per process: prompts scored; and how many were scored by more than one process."""
    from accelerate.utils import gather_object

    per_rank = gather_object([sorted(seen.ids)]) if accelerator.num_processes > 1 else [sorted(seen.ids)]
    counts: dict[str, int] = {}
    for ids in per_rank:
        for i in ids:
            counts[i] = counts.get(i, 0) + 1
    return {
        "processes": accelerator.num_processes,
        "prompts_per_rank": [len(ids) for ids in per_rank],
        "prompts_on_several_ranks": sum(c > 1 for c in counts.values()),
    }
