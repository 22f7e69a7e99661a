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
A checkpoint whose files do not open (a kill or a full disk mid-write) is passed over, with a warning, for
the newest one that does; when none does, the stage stops with one line saying what to do.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.errors import StageError
from looptool.filedigest import tree_digests
from looptool.outputs import MARKER
from looptool.train.common import FINGERPRINT

log = logging.getLogger(__name__)

LAUNCHED_ENV = "LOOPTOOL_LAUNCHED"
SHIPPED = {
    "ddp": "configs/accelerate_ddp.yaml",
    "zero2": "configs/accelerate_zero2.yaml",
    "zero3": "configs/accelerate_zero3.yaml",
}


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
    return cmd + launch_args(cfg, script, argv, root)


def launch_args(cfg: Any, script: str | Path, argv: list[str], root: str | Path = ".") -> list[str]:
    """The arguments of ``accelerate launch`` (after ``launch``) for ``script argv``."""
    args = ["--config_file", str(launcher_config(cfg.launcher, root))]
    if cfg.num_processes is not None:
        args += ["--num_processes", str(cfg.num_processes)]
    return args + [str(a) for a in cfg.launcher_args] + [str(script), *argv]


def check_launch_args(cfg: Any, script: str | Path, argv: list[str], root: str | Path = ".") -> None:
    """Parse the launch arguments with accelerate's own parser before anything starts, so a bad
    ``train.launcher_args`` fails in one line naming the key, not with accelerate's usage text."""
    from accelerate.commands.launch import launch_command_parser

    from looptool.config import ConfigError

    def refuse(message: str | None = None, *_: Any) -> None:
        why = " ".join(str(message or "refused").split())
        raise ConfigError(f"train.launcher_args {list(cfg.launcher_args)}: accelerate launch: {why}")

    parser = launch_command_parser()
    parser.error = refuse  # type: ignore[method-assign]  # argparse prints usage and exits otherwise
    parser.exit = lambda status=0, message=None: refuse(message or f"exits with status {status}")  # type: ignore[method-assign]
    parser.parse_args(launch_args(cfg, script, argv, root))


def should_launch(cfg: Any) -> bool:
    """True in the stage's first process when ``train.launcher`` asks for ``accelerate launch``."""
    return cfg.launcher != "none" and os.environ.get(LAUNCHED_ENV) != "1" and "LOCAL_RANK" not in os.environ


# The start of a Python traceback, of an exception line (``ValueError: ...``) or of a usage text, at a line
# start: what accelerate (or torch's elastic launcher) prints when it or a launched process failed. The
# stage's own ``Error: <one line>`` is not one of them.
_TRACEBACK = re.compile(
    rb"^(?:Traceback \(most recent call last\):|usage: |(?!Error: )[A-Za-z_][\w.]*(?:Error|Exception): )",
    re.M,
)
RELEASE_S = 30.0  # a held block followed by more output this much later was no dying launcher's: shown


def relay_stderr(fd: int, out: Any, held: list[bytes]) -> None:
    """Copy the launcher's stderr (``fd``) to ``out`` as it comes (progress bars included), except from the
    start of a traceback on: that is held in ``held`` (shown after all if more output follows after
    :data:`RELEASE_S`, or by the caller when the run succeeds)."""
    buf, since = b"", None
    while chunk := os.read(fd, 1 << 16):
        if since is not None:
            held.append(chunk)
            if time.monotonic() - since > RELEASE_S:
                out.write(b"".join(held))
                out.flush()
                held.clear()
                since = None
            continue
        buf += chunk
        m = _TRACEBACK.search(buf)
        if m is not None:
            out.write(buf[: m.start()])
            held.append(buf[m.start() :])
            buf, since = b"", time.monotonic()
        else:
            cut = max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1  # a partial line waits: a match may straddle
            out.write(buf[:cut])
            buf = buf[cut:]
        out.flush()
    out.write(buf)
    out.flush()


def relaunch(cfg: Any, script: str | Path, argv: list[str]) -> int:
    """Run the stage again under ``accelerate launch``; 0 when it succeeded.

    The launched processes report their own failure in one line (``Error: ...``); the traceback accelerate
    adds after it (or its usage text) is not shown (``LOOPTOOL_DEBUG=1``: it is): this process ends with one
    line and exit status 1 instead."""
    import subprocess

    from looptool.errors import StageError
    from looptool.guard import debug_enabled

    check_launch_args(cfg, script, argv)
    cmd = launch_command(cfg, script, argv)
    print("train: " + " ".join(cmd), flush=True)
    env = {**os.environ, LAUNCHED_ENV: "1"}
    if debug_enabled():
        code = subprocess.call(cmd, env=env)
        if code:
            raise StageError(f"train: accelerate launch exited with status {code}")
        return 0
    held: list[bytes] = []
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    try:
        relay_stderr(proc.stderr.fileno(), sys.stderr.buffer, held)
    finally:
        code = proc.wait()
        proc.stderr.close()
    if code == 0:
        sys.stderr.buffer.write(b"".join(held))
        sys.stderr.flush()
        return 0
    why = _launcher_error(b"".join(held).decode(errors="replace"))
    raise StageError(
        f"train: accelerate launch exited with status {code}{why} (the launched stage's own error, if any, "
        "is above; LOOPTOOL_DEBUG=1 shows accelerate's traceback)"
    )


_WRAPPER = ("subprocess.CalledProcessError", "ChildFailedError")  # "a launched process failed": said above
_ERROR_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception)|.*\berror): \S")


def _launcher_error(held: str) -> str:
    """``: <message>`` of the last error line in what the launcher printed (its own failure: a bad config
    file, an unknown option), or "" when it only reports that a launched process failed."""
    found = [x.strip() for x in held.splitlines() if _ERROR_LINE.match(x.strip())]
    if not found or any(w in found[-1].split(":")[0] for w in _WRAPPER):
        return ""
    return f": {' '.join(found[-1].split())[:300]}"


def run_fingerprint(cfg: Any, model_path: str | Path, data_path: str | Path, seed: int) -> str:
    """Identity of a training run: config, seed, and the contents of the start model's and D_j's files (a
    checkpoint of another run, or of a model or D_j rewritten in place, is never resumed)."""
    from looptool.config import to_dict

    conf = {
        k: v
        for k, v in to_dict(cfg).items()
        if k not in ("resume", "launcher", "launcher_args", "num_processes")
    }
    # the output marker is present after a local run and absent after a DVC checkout: not part of the content
    skip = (MARKER,)
    return jsonutil.digest(
        [conf, seed, tree_digests(Path(model_path), skip), tree_digests(Path(data_path), skip)], 32
    )


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


def checkpoint_problem(ckpt: Path) -> str | None:
    """Why trainer checkpoint ``ckpt`` would not load (its first damaged file and the reason), or None.

    Cheap: every safetensors file's header must describe exactly the bytes there (a truncated file fails), and
    every ``torch.save`` file (optimizer, scheduler, RNG state; DeepSpeed's shards) must end with its zip
    directory, which is written last; ``trainer_state.json`` must parse."""
    from safetensors import safe_open

    for path in sorted(ckpt.rglob("*")):
        name = path.relative_to(ckpt)
        try:
            if path.suffix == ".safetensors":
                with safe_open(str(path), "pt") as f:
                    f.keys()
            elif path.suffix in (".pt", ".pth", ".bin"):
                with zipfile.ZipFile(path):
                    pass
            elif path.name == "trainer_state.json":
                json.loads(path.read_text(encoding="utf-8"))
        except Exception as e:  # OSError, BadZipFile, JSON's ValueError, safetensors' SafetensorError
            return f"{name} does not load: {' '.join(str(e).split()) or type(e).__name__}"
    return None


def resume_point(work: Path, fingerprint: str) -> Path | None:
    """The newest complete checkpoint of the same run in ``work`` that loads (None: start fresh). Damaged
    newer ones are named in one warning; ``StageError`` when every one is damaged."""
    stamp = work / FINGERPRINT
    try:
        same = json.loads(stamp.read_text()).get("fingerprint") == fingerprint
    except (OSError, ValueError):
        same = False
    ckpts = complete_checkpoints(work) if same else []
    damaged = []
    for ckpt in reversed(ckpts):
        problem = checkpoint_problem(ckpt)
        if problem is None:
            if damaged:
                log.warning("train: skipping damaged %s; resuming from %s", "; ".join(damaged), ckpt.name)
            return ckpt
        damaged.append(f"{ckpt} ({problem})")
    if damaged:
        raise StageError(
            f"{work}: no checkpoint of this run loads ({'; '.join(damaged)}); remove {work} (or set "
            "train.resume: false) to train this iteration from its start"
        )
    return None


def prepare_work(cfg: Any, model_path: Any, data_path: Any, seed: int, work: Path) -> Path | None:
    """The checkpoint to resume from, after every process has looked; the main process then resets the area
    when the run starts fresh."""
    from accelerate import PartialState

    state = PartialState()
    fingerprint = run_fingerprint(cfg, model_path, data_path, seed)
    ckpt = resume_point(work, fingerprint) if cfg.resume else None
    state.wait_for_everyone()
    if ckpt is None and state.is_main_process:
        reset_work(work, fingerprint)
    state.wait_for_everyone()
    if ckpt is not None:
        log.info("train: resuming from %s", ckpt)
    return ckpt


def reset_work(work: Path, fingerprint: str) -> None:
    """Empty the working area and stamp it with this run's fingerprint (main process only); a folder there
    that looptool did not write is refused (:func:`looptool.outputs.claim_dir`)."""
    from looptool.outputs import claim_dir

    claim_dir(work, "looptool train", "work area", also=(FINGERPRINT,))
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
