"""The fine-tune stage: QLoRA on the exported dataset, Axolotl interop, evaluation.

Importing this package is light; torch, transformers, peft and trl load inside the
functions that need them (`pip install 'dataprep[finetune]'`).
"""

from finetune.config import FinetuneConfig, load_config, parse_config

__all__ = ["FinetuneConfig", "load_config", "parse_config"]
