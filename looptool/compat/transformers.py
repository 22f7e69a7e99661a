"""Private interfaces of ``transformers`` that looptool needs: the internals of ``DynamicCache`` and
``DynamicLayer`` that :class:`looptool.llm.hf.HFBackend`'s decode loop works on. Every use was checked against
the transformers versions in :data:`looptool.compat.CHECKED` (5.25.0) and calls :func:`looptool.compat.check`.

**Why no public interface serves.** The public cache API (``DynamicCache(config=...)``, ``update``,
``batch_select_indices``, ``batch_repeat_interleave``, ``get_seq_length``) copies: ``DynamicLayer.update``
concatenates the whole cache at every decode step, and it has no way to let rows leave and join a running batch
without a fresh copy of every layer. The decode loop therefore (a) subclasses ``DynamicLayer`` and overrides
``update`` (with its ``is_initialized`` flag and ``lazy_initialization``), (b) replaces a ``DynamicCache``'s
``layers`` list with such layers, and (c) sets the layers' ``keys`` / ``values`` tensors directly to views of
buffers it owns (``_buf_k`` / ``_buf_v``, attributes of looptool's own subclass). What each piece relies on is
checked by name in ``tests/test_llm_hf.py::test_transformers_internals_the_decode_loop_relies_on``, and the decode loop's outputs
against ``model.generate`` by the rest of ``tests/test_llm_hf.py``.

Callers see caches only: :func:`new_cache`, :func:`grows_in_place`, :func:`in_buffer`, :func:`compact`,
:func:`select` and :func:`merge`.

One more use, in model preparation: :func:`gguf_parsed_once` (why: its docstring).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from looptool.compat import check

_GROWING: type | None = None


def growing_layer_class() -> type:
    """A :class:`DynamicLayer` that appends in place into a buffer with spare room (one class per process).

    ``DynamicLayer.update`` concatenates, copying the whole cache at every decode step: at 16 rows x 600
    tokens that is ~0.4 GB a step for SmolLM2's 30 layers. Here a step writes one column; the buffer grows by
    a quarter when full. Anything that replaces ``keys`` (row selection, merging, trimming) is noticed by
    the data pointer and starts a new buffer.
    """
    global _GROWING
    if _GROWING is None:
        _GROWING = _growing_layer_class()
    return _GROWING


def _growing_layer_class() -> type:
    check("transformers")
    from transformers import DynamicLayer

    class GrowingLayer(DynamicLayer):
        _buf_k = None
        _buf_v = None

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            n = self.keys.shape[-2] if self.keys.numel() else 0
            end = n + key_states.shape[-2]
            buf = self._buf_k
            fits = (
                buf is not None
                and n > 0
                and self.keys.data_ptr() == buf.data_ptr()
                and buf.shape[0] == key_states.shape[0]
                and end <= buf.shape[-2]
            )
            if not fits:
                cap = end + max(64, end // 4)
                k_shape, v_shape = list(key_states.shape), list(value_states.shape)
                k_shape[-2] = v_shape[-2] = cap
                new_k, new_v = key_states.new_empty(k_shape), value_states.new_empty(v_shape)
                if n:
                    new_k[..., :n, :] = self.keys
                    new_v[..., :n, :] = self.values
                self._buf_k, self._buf_v = new_k, new_v
            self._buf_k[..., n:end, :] = key_states
            self._buf_v[..., n:end, :] = value_states
            self.keys = self._buf_k[..., :end, :]
            self.values = self._buf_v[..., :end, :]
            return self.keys, self.values

    return GrowingLayer


def new_cache(config: Any) -> Any:
    """A DynamicCache for ``config``; its plain layers (not sliding-window or recurrent) append in place."""
    check("transformers")
    from transformers import DynamicCache, DynamicLayer

    cache = DynamicCache(config=config)
    if cache.layers and all(type(layer) is DynamicLayer for layer in cache.layers):
        growing = growing_layer_class()
        cache.layers = [growing() for _ in cache.layers]
    return cache


def grows_in_place(cache: Any) -> bool:
    """Whether every layer of ``cache`` is a growing one (so rows can join and leave a running batch)."""
    return all(type(layer) is _GROWING for layer in cache.layers)


def _assemble(layer: Any, parts: list[tuple[Any, Any]], width: int) -> None:
    """Build a growing layer's keys/values from ``parts`` (``[rows, heads, t, dim]`` each), stacked by row
    and left-padded with zeros to ``width``, in one copy into a buffer with room for more steps.

    Padding must be zeros, not ``empty``: a masked position gets weight exactly 0, but 0 x NaN is NaN.
    """
    rows = sum(k.shape[0] for k, _ in parts)
    cap = width + max(64, width // 4)
    k0, v0 = parts[0]
    buf_k = k0.new_empty((rows, k0.shape[1], cap, k0.shape[3]))
    buf_v = v0.new_empty((rows, v0.shape[1], cap, v0.shape[3]))
    r = 0
    for k, v in parts:
        b, t = k.shape[0], k.shape[-2]
        if t < width:
            buf_k[r : r + b, :, : width - t].zero_()
            buf_v[r : r + b, :, : width - t].zero_()
        buf_k[r : r + b, :, width - t : width] = k
        buf_v[r : r + b, :, width - t : width] = v
        r += b
    layer._buf_k, layer._buf_v = buf_k, buf_v
    layer.keys, layer.values = buf_k[..., :width, :], buf_v[..., :width, :]


def _in_buffer(layer: Any) -> bool:
    """Whether a growing layer's keys/values are views at the start of its buffers (what :func:`compact` needs)."""
    buf_k, buf_v = getattr(layer, "_buf_k", None), getattr(layer, "_buf_v", None)
    return (
        buf_k is not None
        and buf_v is not None
        and layer.keys.data_ptr() == buf_k.data_ptr()
        and layer.values.data_ptr() == buf_v.data_ptr()
        and layer.keys.shape[0] == buf_k.shape[0]
    )


def in_buffer(cache: Any) -> bool:
    """Whether every layer's keys/values are views at the start of its buffers (what :func:`compact` needs)."""
    return all(_in_buffer(layer) for layer in cache.layers)


def compact(cache: Any, order: list[int], first: int, width: int) -> None:
    """Keep rows ``order`` (from :func:`looptool.llm.hf._fill_holes`) and columns ``first:`` of every growing
    layer without copying the cache: each moved row is one row's copy into its new slot, then keys/values and
    the buffers become views of the first ``len(order)`` rows from column ``first`` (the spare columns stay, so
    the next steps still append in place)."""
    m = len(order)
    for layer in cache.layers:
        t = layer.keys.shape[-2]
        for dst, src in enumerate(order):
            if dst != src:  # src >= m > dst: a slot that is not kept, so nothing read later is overwritten
                layer._buf_k[dst, :, :t] = layer._buf_k[src, :, :t]
                layer._buf_v[dst, :, :t] = layer._buf_v[src, :, :t]
        layer._buf_k = layer._buf_k[:m, :, first:]
        layer._buf_v = layer._buf_v[:m, :, first:]
        layer.keys = layer._buf_k[..., :width, :]
        layer.values = layer._buf_v[..., :width, :]


def select(cache: Any, runs: list[tuple[int, int]], first: int, width: int) -> None:
    """Keep the rows of ``runs`` (``[start, stop)`` ranges, in order) and columns ``first:`` of every growing
    layer, in one copy of each layer into a fresh buffer (``width`` columns, with room for more steps)."""
    for layer in cache.layers:
        k, v = layer.keys, layer.values
        _assemble(layer, [(k[a:b, :, first:], v[a:b, :, first:]) for a, b in runs], width)


def merge(caches: list[Any], width: int) -> Any:
    """Stack the rows of growing caches into the first one, each left-padded with zeros to ``width`` columns;
    returns that cache."""
    merged = caches[0]
    for li, layer in enumerate(merged.layers):
        _assemble(layer, [(c.layers[li].keys, c.layers[li].values) for c in caches], width)
    return merged


@contextlib.contextmanager
def gguf_parsed_once() -> Iterator[None]:
    """Inside the block, transformers' GGUF loading parses each GGUF file once and builds gguf's tensor name
    map once per architecture, instead of once per call.

    Why no public interface serves: loading a GGUF model and its tokenizer (``AutoTokenizer`` /
    ``AutoModelForCausalLM.from_pretrained(gguf_file=...)``) calls
    ``transformers.modeling_gguf_pytorch_utils.load_gguf_checkpoint`` three times (tokenizer, config, weights),
    each building a fresh ``gguf.GGUFReader`` (it parses every metadata field, 49,152 vocabulary strings for
    SmolLM2: ~6 s each on a 2-core CPU), and ``get_gguf_hf_weights_map`` calls ``gguf.get_tensor_name_map`` once
    per module (397 times for SmolLM2, ~20 ms each). Both names are imported inside those functions
    (``from gguf import ...``), so the block swaps the ``gguf`` module's attributes for memoizing versions and
    restores them on exit. A reader is read-only after construction (fields parsed, tensors memory-mapped), so
    sharing it gives the same tensors: ``tests/test_model.py`` checks the prepared checkpoint is byte-identical.
    """
    check("transformers")
    import gguf

    reader_class, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    readers: dict[tuple[str, str], Any] = {}

    def reader(path: Any, mode: str = "r") -> Any:
        key = (str(path), mode)
        if key not in readers:
            readers[key] = reader_class(path, mode)
        return readers[key]

    gguf.GGUFReader = reader
    gguf.get_tensor_name_map = functools.lru_cache(maxsize=None)(name_map)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = reader_class, name_map
        readers.clear()
