"""Stage prepare_model: the base model as a Hugging Face checkpoint (or a pointer) under --out.

The stage is ``looptool prepare-model`` itself (same options, same function), so the two cannot drift.
"""

from looptool.commands.model import prepare_model_cmd as main

if __name__ == "__main__":
    from looptool.guard import run_stage

    run_stage(main)
