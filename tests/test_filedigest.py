"""Content identity (issue 23, class 3): every memo of "this file is unchanged" sees a rewrite in place that
restores the file's size and mtime."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from looptool import filedigest
from looptool.filedigest import DIGESTS_FILE, DigestMemo, stat_key


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTOOL_CACHE_DIR", str(tmp_path / "cache"))


def rewrite_in_place(path: Path) -> None:
    """New bytes, same size, same inode, and the old mtime (and atime) put back: what a size-and-mtime memo
    cannot see. Waits a moment first so the inode's change time moves past the clock tick of the last change."""
    before = path.stat()
    data = path.read_bytes()
    time.sleep(0.05)
    with path.open("r+b") as fh:
        fh.write(bytes(b ^ 0xFF for b in data[:64]))  # flip the first bytes (a header, a weight)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    assert path.read_bytes() != data


def _settled(path: Path) -> None:
    """Backdate the file's mtime (its ctime cannot be), so only the memo's racy rule is out of the way."""
    old = time.time_ns() - 3600 * 10**9
    os.utime(path, ns=(old, old))


def test_rewrite_with_size_and_mtime_restored_is_seen(tmp_path, monkeypatch):
    monkeypatch.setattr(filedigest, "RACY_S", 0.0)  # memoise at once (the racy rule has its own test)
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"a" * 4096)
    _settled(f)
    memo = DigestMemo()
    assert memo.digest(f) == hashlib.sha256(b"a" * 4096).hexdigest()
    memo.save()
    assert json.loads((tmp_path / "cache" / DIGESTS_FILE).read_text())[str(f.resolve())][0] == stat_key(
        f.stat()
    )
    rewrite_in_place(f)
    assert DigestMemo().digest(f) == hashlib.sha256(f.read_bytes()).hexdigest()


def test_a_file_changed_just_now_is_not_memoised(tmp_path):
    """A digest taken within RACY_S of the file's last change is not kept: a second write in the same clock
    tick could leave every stat field as it was."""
    f = tmp_path / "w.bin"
    f.write_bytes(b"x" * 100)
    memo = DigestMemo()
    memo.digest(f)
    memo.save()
    assert not (tmp_path / "cache" / DIGESTS_FILE).exists()
    f.write_bytes(b"y" * 100)
    assert DigestMemo().digest(f) == hashlib.sha256(b"y" * 100).hexdigest()


def _checkpoint(root: Path) -> Path:
    root.mkdir()
    (root / "config.json").write_text('{"model_type": "llama"}')
    (root / "model.safetensors").write_bytes(os.urandom(4096))
    for f in root.iterdir():
        _settled(f)
    return root


def _adapter(root: Path, base: Path) -> Path:
    root.mkdir()
    (root / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(base)}))
    (root / "adapter_model.safetensors").write_bytes(os.urandom(4096))
    for f in root.iterdir():
        _settled(f)
    return root


def _call_cache(tmp_path: Path, ckpt: Path, adapter: Path) -> object:
    from looptool.model import weights_fingerprint

    return weights_fingerprint(str(ckpt))


def _pointer(tmp_path: Path, ckpt: Path, adapter: Path) -> object:
    from looptool.model import POINTER, ModelConfig, run_prepare_model

    out = tmp_path / f"base-{time.time_ns()}"
    run_prepare_model(out=out, cfg=ModelConfig(source=str(ckpt)))
    return json.loads((out / POINTER).read_text())["files"]


def _merged(tmp_path: Path, ckpt: Path, adapter: Path) -> object:
    from looptool.model import merged_path

    return merged_path(adapter)


def _resume(tmp_path: Path, ckpt: Path, adapter: Path) -> object:
    from looptool.train.config import TrainConfig
    from looptool.train.launch import run_fingerprint

    return run_fingerprint(TrainConfig(), ckpt, ckpt / "config.json", seed=0)


MEMOS = {  # identity, and the file whose rewrite it must see
    "call cache": (_call_cache, "ckpt/model.safetensors"),
    "pointer": (_pointer, "ckpt/model.safetensors"),
    "merged adapter": (_merged, "adapter/adapter_model.safetensors"),
    "training resume": (_resume, "ckpt/model.safetensors"),
}


@pytest.mark.parametrize("memo", sorted(MEMOS))
@pytest.mark.parametrize("racy", [False, True])
def test_every_memo_sees_a_rewrite_in_place(tmp_path, monkeypatch, memo, racy):
    """Each identity built on file versions (the call cache's weights digest, models/base's pointer, the
    merged adapter's folder, a training run's resume identity) changes when a file is rewritten in place with
    its size and mtime restored: the memoised digest (racy=False: memoised at once) and the racy rule
    (racy=True: the default RACY_S; the file's ctime is too new to memoise) both see it."""
    if not racy:
        monkeypatch.setattr(filedigest, "RACY_S", 0.0)
    ident, name = MEMOS[memo]
    ckpt = _checkpoint(tmp_path / "ckpt")
    adapter = _adapter(tmp_path / "adapter", ckpt)
    before = ident(tmp_path, ckpt, adapter)
    assert ident(tmp_path, ckpt, adapter) == before  # stable while nothing changes
    rewrite_in_place(tmp_path / name)
    assert ident(tmp_path, ckpt, adapter) != before
