"""The fine-tune stage: QLoRA on the exported dataset, Axolotl interop, evaluation.

Importing this package is light; torch, transformers, peft and trl load inside the
functions that need them (`pip install 'dataprep[finetune]'`).
"""

__all__ = ["FinetuneConfig", "load_config", "parse_config"]


def __getattr__(name: str):
    """The config's names, imported when first asked for (PEP 562): `dataprep` registers
    the `finetune` commands at every start, and pydantic building the config models took
    a third of the CLI's start-up (120 ms of 250)."""
    if name in __all__:
        from finetune import config

        return getattr(config, name)
    raise AttributeError(f"module 'finetune' has no attribute {name!r}")
