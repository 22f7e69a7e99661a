"""The synthesizer's tables as data (looptool/synth/data): schemas, the one-line errors of a broken file, the
values' Python types, laziness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from looptool.synth import datafiles, slots
from looptool.synth.datafiles import DATA_FILES, HERE, DataFileError, read
from looptool.synth.tree import Capability, Subdomain, tree

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("tree", "slots")


def _copy(tmp_path: Path, name: str) -> tuple[dict, Path, Path]:
    """The shipped file ``name`` parsed, a path to write a broken copy to, and its schema's path."""
    doc = json.loads((HERE / f"data/{name}.json").read_text(encoding="utf-8"))
    return doc, tmp_path / f"{name}.json", HERE / f"data/{name}.schema.json"


def _error(path: Path, schema: Path) -> str:
    with pytest.raises(DataFileError) as e:
        read(path, schema)
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg, msg
    return msg


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_and_the_shipped_file_follows_it(name):
    schema = json.loads((HERE / f"data/{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert datafiles.load(name) == json.loads((HERE / f"data/{name}.json").read_text(encoding="utf-8"))


def test_data_folder_holds_the_declared_files_only():
    assert sorted(p.name for p in (HERE / "data").iterdir()) == sorted(Path(p).name for p in DATA_FILES)
    with pytest.raises(KeyError, match="DATA_FILES"):
        datafiles.load("pools")


def test_broken_tree_names_file_and_place(tmp_path):
    doc, path, schema = _copy(tmp_path, "tree")
    doc["Travel"]["Flights"]["capabilities"]["Search"]["action"] = "serch"
    path.write_text(json.dumps(doc), encoding="utf-8")
    msg = _error(path, schema)
    assert "at Travel/Flights/capabilities/Search/action: 'serch' is not one of" in msg, msg

    doc["Travel"]["Flights"]["capabilities"]["Search"]["action"] = "search"
    del doc["Travel"]["Hotels"]["entity"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert "at Travel/Hotels: 'entity' is a required property" in _error(path, schema)


def test_broken_slots_names_file_place_and_slot(tmp_path):
    doc, path, schema = _copy(tmp_path, "slots")
    i, j = next(
        (i, j)
        for i, sec in enumerate(doc["sections"])
        for j, s in enumerate(sec["slots"])
        if s["kind"] == "enum"
    )
    del doc["sections"][i]["slots"][j]["choices"]  # an enum without choices
    path.write_text(json.dumps(doc), encoding="utf-8")
    msg = _error(path, schema)
    slot_name = doc["sections"][i]["slots"][j]["name"]
    assert f"at sections/{i}/slots/{j} (slot {slot_name!r}): 'choices' is a required property" in msg, msg

    doc["sections"][i]["slots"][j]["choices"] = ["a", "b"]
    doc["sections"][i]["slots"][j]["lo"] = "low"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert f"at sections/{i}/slots/{j}/lo (slot {slot_name!r}): 'low' is not of type 'number'" in _error(
        path, schema
    )


def test_not_json_and_duplicate_keys(tmp_path):
    _, path, schema = _copy(tmp_path, "tree")
    text = (HERE / "data/tree.json").read_text(encoding="utf-8")
    path.write_text(text.replace('"entity": "flight",', '"entity": "flight"', 1), encoding="utf-8")
    assert f"{path}:4:" in _error(path, schema)  # file:line:col of the parser
    path.write_text(text.replace('"Hotels": {', '"Flights": {', 1), encoding="utf-8")
    assert "duplicate key 'Flights'" in _error(path, schema)  # json alone would keep only the second one
    assert "cannot read" in _error(tmp_path / "missing.json", schema)


def test_a_slot_defined_twice(monkeypatch):
    doc = json.loads((HERE / "data/slots.json").read_text(encoding="utf-8"))
    doc["sections"][-1]["slots"].append(doc["sections"][0]["slots"][0])
    monkeypatch.setattr(slots, "load", lambda name: doc)
    n = len(doc["sections"][-1]["slots"]) - 1
    with pytest.raises(
        DataFileError, match=rf"slots\.json: at sections/{len(doc['sections']) - 1}/slots/{n} "
    ):
        slots.library.__wrapped__()


def test_values_keep_their_python_types():
    """Tuples where the dataclasses say tuple, JSON ints as int and floats as float, file order kept."""
    raw = datafiles.load("slots")
    entries = [e for sec in raw["sections"] for e in sec["slots"]]
    lib = slots.library()
    assert [s.name for s in lib] == [e["name"] for e in entries]
    for s, e in zip(lib, entries):
        for k, v in e.items():
            got = getattr(s, k)
            if isinstance(v, list):
                assert got == tuple(v) and isinstance(got, tuple), (s.name, k)
            else:
                assert got == v and type(got) is type(v), (s.name, k)
    assert {type(s.step) for s in lib if s.kind == "number"} >= {int, float}  # both occur: each must survive

    t = tree()
    assert list(t) == list(datafiles.load("tree"))
    for subs in t.values():
        for node in subs.values():
            assert isinstance(node, Subdomain) and isinstance(node.record_fields, tuple)
            for cap in node.capabilities.values():
                assert isinstance(cap, Capability)
                assert all(isinstance(x, tuple) for x in (cap.intents, cap.required, cap.optional))
    from looptool.synth.tree import TREE

    assert TREE is t and slots.LIBRARY is lib and slots._LIB["date"].kind == "string:date"


def test_read_on_first_use_only():
    code = (
        "import looptool.synth.planner, looptool.synth.apis\n"
        "from looptool.synth import datafiles\n"
        "assert datafiles.load.cache_info().currsize == 0, 'read at import'\n"
        "looptool.synth.apis.leaves()\n"
        "assert datafiles.load.cache_info().currsize == 2\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
