"""Config dataclasses of the training stages: ``train`` (GRPO on D_j) and ``warmup`` (optional SFT).

Only looptool's own knobs and the few ``TrainingArguments`` fields both trainers share are declared here (names
as in transformers). TRL's own options are not re-declared: ``train.grpo`` holds ``GRPOConfig`` fields and
``train.sft`` ``SFTConfig`` fields, passed through as they are over looptool's CPU-demo defaults
(:data:`GRPO_DEFAULTS`, :data:`SFT_DEFAULTS`) and checked against TRL's dataclasses (an unknown name is an error
naming the params key). Anything else TRL accepts for both trainers goes through ``extra_args`` (checked the same
way). One option has one place: a TRL field set in two places that both apply to the active method (a loop key
such as ``train.max_steps`` and ``train.grpo.max_steps``, or ``extra_args`` and the method's section) is an error
naming both (:func:`check_one_place`); the inactive method's section is not read, so it conflicts with nothing.
The learning rate lives in the method's section (``train.grpo.learning_rate``, ``train.sft.learning_rate``): GRPO
and SFT want rates orders of magnitude apart, and ``train.learning_rate`` is an old key, refused with the names
of the new ones. "All" is spelled ``null`` everywhere: ``max_steps: null`` = ``num_train_epochs`` passes over the
data, ``max_samples: null`` = every row. The paper's GPU values are in ``configs/profiles/paper-gpu.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from looptool.config import check_choice

DTYPES = ("float32", "bfloat16", "float16")
METHODS = ("grpo", "sft")
REWARDS = ("toolmatch", "partial")
"""Values of ``train.reward`` (:mod:`looptool.train.rewards`)."""
ROLLOUTS = ("trl", "continuous", "engine")
"""Values of ``train.rollouts`` (:mod:`looptool.train.rollouts`)."""
ENGINE_UNSUPPORTED: dict[str, Any] = {
    "top_k": 0,
    "min_p": None,
    "repetition_penalty": 1.0,
    "generation_kwargs": None,
}
"""``GRPOConfig`` sampling fields ``rollouts: engine`` does not implement, with the value that means "off"."""

GRPO_DEFAULTS: dict[str, Any] = {
    "learning_rate": 2e-5,  # paper: 1e-6 (full fine-tuning); LoRA over a few CPU steps needs more
    "num_generations": 4,  # the group (paper: 16)
    "max_completion_length": 64,  # a tool call of the compact renderer is ~20-60 tokens
    "temperature": 1.0,
    "beta": 0.0,  # no KL term, no reference model (paper: 0)
    "epsilon": 0.2,
    "epsilon_high": 0.28,  # DAPO clip-higher (paper)
    "loss_type": "dapo",
    "scale_rewards": "group",
    "log_completions": False,
}
"""looptool's values for ``train.grpo`` keys not set in params (TRL's own defaults for every other field)."""

SFT_DEFAULTS: dict[str, Any] = {"learning_rate": 2e-5, "max_length": 1024, "completion_only_loss": True}
"""looptool's values for ``train.sft`` keys not set in params (the rate is the one ``train.learning_rate`` gave
SFT before it moved here; a short LoRA SFT wants ~1e-3, which the demo's params.yaml sets)."""

# set by looptool itself (paths, logging, the CPU switches, the shared fields above): not settable per trainer
_RESERVED = frozenset({"output_dir", "logging_steps", "save_strategy", "report_to", "use_cpu"})


def check_trl_fields(cls_name: str, where: str, fields: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming ``where`` when a key of ``fields`` is not a field of ``trl.<cls_name>``."""
    import dataclasses

    import trl

    cls = getattr(trl, cls_name)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"{where}: unknown {cls_name} argument(s) {unknown}")
    reserved = sorted(set(fields) & _RESERVED)
    if reserved:
        raise ValueError(f"{where}: {reserved} are set by looptool (stage paths, logging, CPU detection)")


def trl_fields(cls_name: str) -> frozenset[str]:
    """The init fields of ``trl.<cls_name>`` (``GRPOConfig``, ``SFTConfig``)."""
    import dataclasses

    import trl

    return frozenset(f.name for f in dataclasses.fields(getattr(trl, cls_name)) if f.init)


def check_one_place(
    section: str,
    cls_name: str,
    loop_keys: Iterable[str],
    extra: Mapping[str, Any],
    own: tuple[str, Mapping[str, Any]] | None = None,
) -> None:
    """Raise ``ValueError`` naming both keys when one ``trl.<cls_name>`` field is set in two places that both
    apply: a loop key of ``section`` (always set: it has a default) and ``extra_args``, or ``own`` (the active
    method's section, ``(name, fields)``) and a loop key or ``extra_args``. Without this, one of the two would
    silently win."""
    loop = set(loop_keys)
    if own is not None:
        name, fields = own
        for key in sorted(fields):
            if key in loop:
                raise ValueError(
                    f"{section}.{name}.{key} duplicates {section}.{key} (the loop's key, for both methods): "
                    f"keep {section}.{key}"
                )
            if key in extra:
                raise ValueError(
                    f"{section}.extra_args.{key} and {section}.{name}.{key} both set {cls_name}.{key}: keep one"
                )
    for key in sorted(extra):
        if key in loop:
            raise ValueError(
                f"{section}.extra_args.{key} duplicates {section}.{key} (the loop's key): keep {section}.{key}"
            )


SAVE_DTYPES = ("base", *DTYPES)


@dataclass
class LoraSettings:
    """LoRA adapter (peft). After training the adapter is merged and a full checkpoint saved, so every
    ``models/iter_j`` is a plain Hugging Face checkpoint that every backend loads directly."""

    enabled: bool = True
    """Train a LoRA adapter (True) or all weights (False; the paper full-fine-tunes Qwen3-8B on GPUs)."""
    r: int = 16
    """Adapter rank."""
    alpha: int = 32
    """``lora_alpha``: the update is scaled by alpha / r."""
    dropout: float = 0.0
    """``lora_dropout``."""
    target_modules: list[str] | str = "all-linear"
    """Module names (e.g. ``[q_proj, v_proj]``) or ``all-linear``."""

    def __post_init__(self) -> None:
        if self.r < 1:
            raise ValueError(f"lora.r={self.r} must be >= 1")
        if self.alpha <= 0:
            raise ValueError(f"lora.alpha={self.alpha} must be > 0")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"lora.dropout={self.dropout} must be in [0, 1)")
        if isinstance(self.target_modules, str):
            if not self.target_modules:
                raise ValueError("lora.target_modules must not be empty")
        elif not self.target_modules or not all(isinstance(m, str) and m for m in self.target_modules):
            raise ValueError("lora.target_modules must be 'all-linear' or a non-empty list of module names")
        else:
            self.target_modules = list(self.target_modules)

    def peft_config(self) -> Any:
        """The peft ``LoraConfig`` (None when disabled)."""
        if not self.enabled:
            return None
        from peft import LoraConfig

        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=self.target_modules,
            task_type="CAUSAL_LM",
        )


@dataclass
class _Common:
    """Fields shared by GRPO and SFT (TrainingArguments names)."""

    learning_rate: float = 1e-5
    """Peak learning rate."""
    lr_scheduler_type: str = "constant"
    """transformers scheduler name (``constant``, ``linear``, ``cosine``, ...)."""
    warmup_steps: float = 0
    """Scheduler warm-up: a step count, or a fraction of the run when < 1."""
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_steps: int | None = None
    """Optimizer steps; null (all) means ``num_train_epochs`` passes over the data."""
    num_train_epochs: float = 1.0
    """Passes over the data when ``max_steps`` is null."""
    per_device_train_batch_size: int = 4
    gradient_accumulation_steps: int = 1
    seed: int | None = None
    """Random seed; None = the iteration's seed (``iterations.<j>.seed``, default j) for ``train``, 0 for warmup."""
    dtype: str = "float32"
    """Dtype the weights are trained in. float32 keeps small updates (lr 1e-6 vanishes in bf16 weights); on GPU
    set ``extra_args: {bf16: true}`` for bf16 autocast on top of fp32 weights."""
    save_dtype: str = "base"
    """Dtype of the saved checkpoint: ``base`` = the dtype of the checkpoint training started from."""
    gradient_checkpointing: bool | None = None
    """None = automatic: off on CPU (small models, faster), TRL's default (on) on GPU."""
    lora: LoraSettings = field(default_factory=LoraSettings)
    extra_args: dict[str, Any] = field(default_factory=dict)
    """Further TRL config arguments passed through as they are (e.g. ``{bf16: true, deepspeed: configs/ds_zero2.json}``);
    unknown names are an error."""
    max_samples: int | None = None
    """Use at most this many rows of the dataset (None = all); rows are taken in a seeded random order."""
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra chat-template variables (e.g. ``{enable_thinking: false}`` for Qwen3). Keep them equal to
    ``backends.student.chat_template_kwargs`` so training prompts are the prompts probe and evaluate use."""
    cpu_compact_logprobs: bool = True
    """On CPU, project only the positions that carry a label (the completion) onto the vocabulary (see
    :mod:`looptool.train.cpu`): the same numbers, several times faster on long prompts. No effect on GPU (TRL
    already does it there)."""

    def _check_common(self) -> None:
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate={self.learning_rate} must be > 0")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps={self.max_steps} must be >= 1, or null for num_train_epochs passes")
        if self.max_steps is None and self.num_train_epochs <= 0:
            raise ValueError(f"num_train_epochs={self.num_train_epochs} must be > 0 when max_steps is null")
        if self.per_device_train_batch_size < 1:
            raise ValueError("per_device_train_batch_size must be >= 1")
        if self.gradient_accumulation_steps < 1:
            raise ValueError("gradient_accumulation_steps must be >= 1")
        if self.warmup_steps < 0:
            raise ValueError("warmup_steps must be >= 0")
        if self.max_samples is not None and self.max_samples < 1:
            raise ValueError("max_samples must be >= 1 (or null for all rows)")
        check_choice("dtype", self.dtype, DTYPES)
        check_choice("save_dtype", self.save_dtype, SAVE_DTYPES)
        if not isinstance(self.chat_template_kwargs, dict):
            raise ValueError("chat_template_kwargs must be a mapping")
        if not isinstance(self.extra_args, dict):
            raise ValueError("extra_args must be a mapping of TRL config argument names to values")
        if isinstance(self.lora, dict):  # built directly in Python rather than through from_dict
            self.lora = LoraSettings(**self.lora)


@dataclass
class TrainConfig(_Common):
    """``train`` section of params.yaml: training of model_j on D_j, GRPO with the binary ToolMatch reward (TRL
    ``GRPOTrainer``, the paper's method; ``reward: partial`` for partial credit) or SFT on D_j's verified labels (TRL ``SFTTrainer``).

    Paper (Qwen3-8B, GPUs): ``grpo: {num_generations: 16, beta: 0, epsilon: 0.2, epsilon_high: 0.28,
    temperature: 1.0}``, learning_rate 1e-6, full fine-tuning, a fresh optimizer each iteration (here: each
    iteration is a new process and trainer, so the optimizer always starts fresh).
    """

    method: str = "grpo"
    """``grpo`` (the paper's method) or ``sft`` (supervised fine-tuning on D_j's labels as merge left them, i.e.
    with verified corrections applied: cheap on a CPU, a second reading of the data loop's effect)."""
    learning_rate: float = field(default=GRPO_DEFAULTS["learning_rate"], init=False)
    """The active method's rate (``grpo.learning_rate`` or ``sft.learning_rate``, over the defaults), filled in
    on construction for the trainers and the metrics; not a params key (``train.learning_rate`` is refused)."""
    grpo: dict[str, Any] = field(default_factory=dict)
    """``GRPOConfig`` fields (TRL's names and meaning), over :data:`GRPO_DEFAULTS`; e.g. ``{learning_rate: 1.0e-6,
    num_generations: 16, use_vllm: true, vllm_mode: colocate}`` (paper: learning_rate 1e-6). Read only with
    ``method: grpo``; checked against ``trl.GRPOConfig``. A loop key of this section (``max_steps``, ``seed``,
    ...) is not repeated here."""
    sft: dict[str, Any] = field(default_factory=dict)
    """``SFTConfig`` fields, over :data:`SFT_DEFAULTS`; e.g. ``{max_length: 1024, learning_rate: 1.0e-3}`` (SFT
    wants a far larger rate than GRPO). Read only with ``method: sft``; checked against ``trl.SFTConfig``."""
    no_signal_patience: int = 4
    """GRPO: warn when this many consecutive steps had every group's rewards equal (zero advantage: no gradient)."""
    # --- processes, checkpoints, saving (looptool.train.launch) ---
    launcher: str = "none"
    """``none`` (one process), or ``accelerate launch`` with ``ddp`` / ``zero2`` / ``zero3``
    (``configs/accelerate_<name>.yaml``) or the path of an accelerate config file."""
    num_processes: int | None = None
    """Processes for the launcher (overrides the config file's ``num_processes``; e.g. the GPU count)."""
    launcher_args: list[str] = field(default_factory=list)
    """More ``accelerate launch`` options, e.g. ``[--num_machines, 2, --machine_rank, 0, --main_process_ip,
    10.0.0.1]`` for two nodes, or ``[--cpu]``."""
    save_steps: int = 0
    """Write a trainer checkpoint every N optimizer steps to ``models/iter_j.work`` (0: none; GRPO and SFT)."""
    save_total_limit: int = 2
    """Checkpoints kept in the working area (the newest ones)."""
    resume: bool = True
    """Resume a killed run of the same iteration from its newest complete checkpoint."""
    save: str = "merged"
    """``merged``: models/iter_j is a full checkpoint (LoRA merged). ``adapter``: only the LoRA adapter,
    cumulative over the base model (iteration j keeps training iteration j-1's adapter), so one adapter on the
    base serves iteration j; every backend loads it (:func:`looptool.model.resolve_model` merges it once)."""
    reward: str = "toolmatch"
    """GRPO reward: ``toolmatch`` (the paper's binary ToolMatch) or ``partial`` (ToolRL-style credit in [0, 1] for
    function names, argument names and values on call labels, :func:`looptool.match.partial.credit`; exactly the
    binary reward on no-call labels, so not calling never earns partial credit). Read only with ``method: grpo``."""
    call_format: str = "auto"
    """Tool-call format the reward parses (:data:`looptool.calls.CALL_FORMATS`; ``template``: from the
    tokenizer's chat template)."""
    rollouts: str = "trl"
    """Who samples the GRPO groups (:mod:`looptool.train.rollouts`): ``trl`` (TRL's ``model.generate``, or its
    vLLM with ``grpo.use_vllm``), ``continuous`` (transformers' continuous batching) or ``engine`` (looptool's
    own batched decoder on the current policy, through TRL's ``rollout_func``)."""
    dynamic_sampling: bool = False
    """GRPO: replace each group whose rewards are all equal (zero advantage, no gradient) by another prompt of
    D_j whose group's rewards differ, trying at most ``max_resample`` prompts per step
    (:mod:`looptool.train.resample`). Only ``rollouts: engine`` supports it (the replacement runs in its
    rollout hook); ``trl`` and ``continuous`` refuse it. Off: the paper's GRPO, unchanged."""
    max_resample: int = 4
    """With ``dynamic_sampling``: prompts tried per generation batch (one optimizer step by default), each
    costing one more group of ``num_generations`` rollouts; groups still without a signal then stay as they are."""

    RETIRED: ClassVar[dict[str, str]] = {
        "learning_rate": "set {where}.grpo.learning_rate (method grpo) or {where}.sft.learning_rate (method sft)",
    }
    """Old params keys, each with the one line that says which key to use (:func:`looptool.config.check_retired`)."""

    def __post_init__(self) -> None:
        check_choice("method", self.method, METHODS)
        for name in ("grpo", "sft"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{name} must be a mapping of TRL {name.upper()}Config fields")
        check_trl_fields("GRPOConfig", "grpo", self.grpo)
        check_trl_fields("SFTConfig", "sft", self.sft)
        if isinstance(self.extra_args, dict) and "learning_rate" in self.extra_args:
            raise ValueError(
                f"train.extra_args.learning_rate: {self.RETIRED['learning_rate'].format(where='train')}"
            )
        self.learning_rate = self._rate()
        self._check_common()
        self._check_one_place()
        if self.save_steps < 0 or self.save_total_limit < 1:
            raise ValueError("save_steps must be >= 0 and save_total_limit >= 1")
        check_choice("save", self.save, ("merged", "adapter"))
        if self.save == "adapter" and not self.lora.enabled:
            raise ValueError("save: adapter needs lora.enabled: true (full fine-tuning has no adapter)")
        if self.num_processes is not None and self.num_processes < 1:
            raise ValueError("num_processes must be >= 1 (or null: the launcher config's)")
        if not isinstance(self.launcher_args, list):
            raise ValueError("launcher_args must be a list of accelerate launch options")
        from looptool.calls import CALL_FORMATS

        check_choice("call_format", self.call_format, (*CALL_FORMATS, "template"))
        if self.no_signal_patience < 1:
            raise ValueError("no_signal_patience must be >= 1")
        check_choice("rollouts", self.rollouts, ROLLOUTS)
        check_choice("reward", self.reward, REWARDS)
        if self.max_resample < 1:
            raise ValueError(f"max_resample={self.max_resample} must be >= 1")
        if self.method == "grpo":
            self._check_grpo_batch()
            self._check_rollouts()

    def _check_one_place(self) -> None:
        """Each TRL field of the active method set in one place (the inactive method's section is not read)."""
        if not isinstance(self.extra_args, dict):
            return  # _check_common says so
        cls_name = f"{self.method.upper()}Config"
        loop = {f for f in _init_fields(self) if f in trl_fields(cls_name)}
        check_one_place("train", cls_name, loop, self.extra_args, (self.method, getattr(self, self.method)))

    def _rate(self) -> float:
        """The active method's learning rate, checked as ``from_dict`` checks a float key (its section is a
        mapping of anything, so a YAML ``2e-5``, a string, is caught here)."""
        from looptool.config import type_problem

        rate = self.method_fields()["learning_rate"]
        if type_problem(float, rate) is not None:
            raise ValueError(
                f"train.{self.method}.learning_rate: got {rate!r} ({type(rate).__name__}), expected a number "
                "(YAML reads 2e-5 as a string: write 2.0e-5)"
            )
        if rate <= 0:
            raise ValueError(f"train.{self.method}.learning_rate={rate} must be > 0")
        return float(rate)

    def method_fields(self) -> dict[str, Any]:
        """The active method's own fields (:meth:`grpo_fields` or :meth:`sft_fields`)."""
        return self.grpo_fields() if self.method == "grpo" else self.sft_fields()

    def grpo_fields(self) -> dict[str, Any]:
        """The GRPO-only fields passed to ``GRPOConfig``: looptool's defaults, then ``train.grpo`` (and the
        continuous-batching switch of ``rollouts: continuous``)."""
        fields = {**GRPO_DEFAULTS, **self.grpo}
        if self.rollouts == "continuous":
            fields["use_transformers_continuous_batching"] = True
        return fields

    def _check_rollouts(self) -> None:
        """``rollouts`` against the ``grpo`` fields that choose or shape the rollouts."""
        g = {**GRPO_DEFAULTS, **self.grpo}
        if g.get("use_transformers_continuous_batching") and self.rollouts != "continuous":
            raise ValueError(
                f"grpo.use_transformers_continuous_batching: true conflicts with rollouts: {self.rollouts}; "
                "set rollouts: continuous instead"
            )
        if g.get("use_vllm") and self.rollouts != "trl":
            raise ValueError(
                f"grpo.use_vllm: true needs rollouts: trl (TRL's vLLM rollouts), not {self.rollouts}"
            )
        if self.dynamic_sampling and self.rollouts != "engine":
            raise ValueError(
                f"dynamic_sampling: true needs rollouts: engine (it replaces groups in looptool's rollout hook; "
                f"rollouts: {self.rollouts} has no such hook)"
            )
        if self.rollouts == "engine":
            for key, off in ENGINE_UNSUPPORTED.items():
                if key in g and g[key] != off:
                    raise ValueError(
                        f"grpo.{key}={g[key]!r} is not implemented by rollouts: engine (only temperature, "
                        "top_p and max_completion_length); use rollouts: trl"
                    )
            if self.launcher == "zero3":
                raise ValueError(
                    "rollouts: engine decodes each process's full model; ZeRO-3 shards it (use trl)"
                )

    def sft_fields(self) -> dict[str, Any]:
        """The SFT-only fields passed to ``SFTConfig``: looptool's defaults, then ``train.sft``."""
        return {**SFT_DEFAULTS, **self.sft}

    def _check_grpo_batch(self) -> None:
        """TRL: generation batch = per-device batch x processes x steps_per_generation, and it must hold whole
        groups. Checked here for one process, with the message a CPU user needs (GRPOConfig checks it again)."""
        g = self.grpo_fields()
        n = g["num_generations"]
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"grpo.num_generations={n} must be >= 2 (GRPO compares a group)")
        spg = g.get("steps_per_generation") or self.gradient_accumulation_steps
        gen_batch = self.per_device_train_batch_size * spg
        if gen_batch % n:
            raise ValueError(
                f"the generation batch (per_device_train_batch_size {self.per_device_train_batch_size} x "
                f"steps_per_generation {spg} = {gen_batch}) must be a multiple of grpo.num_generations "
                f"{n}: each prompt's {n} completions must land in the same batch. E.g. set "
                f"per_device_train_batch_size to {n}."
            )


@dataclass
class WarmupConfig(_Common):
    """``warmup`` section of params.yaml: optional SFT on the seed pool before GRPO (TRL ``SFTTrainer``).

    A base that cannot call tools yet (SmolLM2-135M picks the right tool in ~1 of 10 prompts) gives GRPO
    reward 0 for every completion, so every group has zero advantage and nothing is learned. A short SFT on
    the pool (loss on the completion only) teaches the call format first. The paper starts GRPO from an
    instruct model that already calls tools: ``enabled: false`` there (``models/iter_0`` = the base).
    """

    enabled: bool = True
    """False: ``models/iter_0`` is a hard-linked copy of the base, no training."""
    learning_rate: float = 2e-4
    """LoRA SFT rate (full fine-tuning wants ~1e-5)."""
    lr_scheduler_type: str = "linear"
    max_length: int = 1024
    """Longest prompt + completion in tokens; longer rows are truncated (TRL ``max_length``)."""
    seed: int | None = 0
    eval_samples: int = 32
    """Held-out rows whose completion loss is measured before and after the warm-up (0 = skip)."""

    def __post_init__(self) -> None:
        self._check_common()
        if isinstance(self.extra_args, dict):  # warmup.extra_args never repeats a warmup key
            loop = {f for f in _init_fields(self) if f in trl_fields("SFTConfig")}
            check_one_place("warmup", "SFTConfig", loop, self.extra_args)
        if self.max_length < 16:
            raise ValueError("max_length must be >= 16")
        if self.eval_samples < 0:
            raise ValueError("eval_samples must be >= 0")


def _init_fields(obj: Any) -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(obj) if f.init]
