"""Fingerprint of the loop's data outputs: does a refactor leave the data byte-identical?

    python bench/data_fingerprint.py [--tree DIR] [--work-dir DIR] [--keep]

Copies the project tree ``--tree`` (default: this checkout; its git-tracked files, as ``git ls-files`` lists
them, without data/ models/ metrics/ reports/ and dvc.lock) into a temporary git repository, writes small
params (procedural seed, ``random_seed`` 0, rules-only verify, structured expansion), builds the tiny random Llama of
tests/conftest.py with that tree's ``looptool.model.build_tiny_llama`` and runs, with ``dvc repro --single-item``
and the tree's own dvc.yaml commands, the data stages only:

    seed, select, probe@1, verify@1, expand@1, merge@1, probe@2, verify@2, expand@2, merge@2

Training is skipped: the tiny model is every iteration's checkpoint (models/iter_1, models/iter_2), so no
135M model and no GPU is needed. Then prints, for every Parquet file under data/, its row count, the sha256 of
its raw bytes and the sha256 of its content (rows as JSON with sorted keys, sorted; independent of the Parquet
writer's version and of row order). Runs unchanged on older trees: the dataset size is written to whichever
key the tree's params.yaml has (``select.size`` before the rename, ``select.dataset_size`` after).

Only the Parquet lines (and the stages/model lines) go to stdout, so two trees' outputs diff cleanly:

    git worktree add /tmp/fp-old 63de498
    PYTHONPATH=/tmp/fp-old python bench/data_fingerprint.py --tree /tmp/fp-old > old.txt
    PYTHONPATH=$PWD python bench/data_fingerprint.py > new.txt
    diff old.txt new.txt
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
STAGES = ["seed", "select"] + [f"{s}@{j}" for j in (1, 2) for s in ("probe", "verify", "expand", "merge")]
SIZE_KEYS = ("dataset_size", "size")  # new name first, then the name before issue 11's rename


def _run(args: list[str], cwd: Path, env: dict) -> str:
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p.stdout


def _set_size(params: dict, name: str, value: int) -> str:
    sec = params[name]
    for key in SIZE_KEYS:
        if key in sec:
            sec[key] = value
            return f"{name}.{key}"
    sys.exit(
        f"params.yaml: section {name} has none of {SIZE_KEYS} (has {sorted(sec)}); add its size key to SIZE_KEYS"
    )


def small_params(params: dict, model_dir: Path) -> tuple[dict, list[str]]:
    p = json.loads(json.dumps(params))
    p["model"]["source"] = str(model_dir)
    p["backends"]["student"].update(backend="transformers", batch_size=4)
    p["backends"]["judge"] = {"backend": "none"}
    p["backends"]["generator"] = {"backend": "none"}
    p["seed"].update(
        random_seed=0, mode="procedural", pool_size=120, heldout_size=12, label_noise=0.3, decontam_dirs=[]
    )
    keys = [_set_size(p, "select", 24), _set_size(p, "merge", 24)]
    p["probe"].update(max_new_tokens=8)
    p["expand"].update(k=4, max_samples=16, mode="structured")
    return p, keys


def content_hash(path: Path) -> tuple[int, str]:
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    lines = sorted(json.dumps(r, sort_keys=True, default=repr, ensure_ascii=False) for r in rows)
    return len(rows), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--tree", type=Path, default=HERE, help="project tree to fingerprint (default: this checkout)"
    )
    ap.add_argument("--work-dir", type=Path, default=None, help="where the temporary repository goes")
    ap.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = ap.parse_args()
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))
    import yaml

    import looptool

    if Path(looptool.__file__).resolve().parents[1] != tree:
        sys.exit(f"looptool is imported from {looptool.__file__}, not from {tree}: set PYTHONPATH={tree}")

    work = Path(tempfile.mkdtemp(prefix="fingerprint-", dir=args.work_dir))
    repo = work / "repo"
    try:
        files = _run(["git", "ls-files"], tree, dict(os.environ)).split("\n")
        for f in filter(None, files):
            if (
                f.startswith(("data/", "models/", "metrics/", "reports/"))
                or f == "dvc.lock"
                or not (tree / f).is_file()
            ):
                continue
            (repo / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(tree / f, repo / f)

        from transformers import AutoTokenizer

        from looptool.model import build_tiny_llama, load_tokenizer, smollm2_gguf_path

        gguf = smollm2_gguf_path()
        tok_dir = work / "tokenizer"
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(tok_dir)
        model = build_tiny_llama(work / "tiny", load_tokenizer(tok_dir))
        for j in (1, 2):
            shutil.copytree(model, repo / f"models/iter_{j}")

        params, size_keys = small_params(yaml.safe_load((tree / "params.yaml").read_text()), model)
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        env = dict(
            os.environ,
            DVC_NO_ANALYTICS="1",
            PYTHONPATH=str(repo),
            LOOPTOOL_CACHE_DIR=str(work / "call-cache"),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            OMP_NUM_THREADS="1",
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        )
        for cmd in (
            ["git", "init", "-q"],
            ["git", "add", "-A"],
            ["git", "-c", "user.email=f@f", "-c", "user.name=f", "commit", "-qm", "fingerprint"],
        ):
            _run(cmd, repo, env)
        for stage in STAGES:
            _run(["dvc", "repro", "--single-item", "--force", stage], repo, env)

        weights = sorted((repo / "models/iter_1").glob("*.safetensors"))
        print(
            f"# tree {tree}; size keys {', '.join(size_keys)}", file=sys.stderr
        )  # stdout: what must not differ
        print(f"# stages {' '.join(STAGES)}")
        print(f"# tiny model {hashlib.sha256(b''.join(w.read_bytes() for w in weights)).hexdigest()[:16]}")
        for f in sorted((repo / "data").rglob("*.parquet")):
            n, content = content_hash(f)
            raw = hashlib.sha256(f.read_bytes()).hexdigest()
            print(f"{f.relative_to(repo)} rows={n} content={content} raw={raw}")
    finally:
        if args.keep:
            print(f"# kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
