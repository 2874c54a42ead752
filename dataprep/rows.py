"""The dataset's rows: their columns, in file order, and their Arrow and Parquet schema
(shared by the export, which writes them, and the card, which describes them)."""

import json
from typing import Any

# Row columns, in file order. Metadata after the Alpaca fields, `text` and the trainer forms.
# `text` is written only for a style that asks for it (`row_columns`).
COLUMNS: tuple[str, ...] = (
    "id",
    "instruction",
    "input",
    "output",
    "text",
    "prompt",
    "completion",
    "messages",
    "task",
    "template",
    "generator",
    "unit_id",
    "unit_kind",
    "path",
    "start_line",
    "end_line",
    "commit",
    "repo",
    "module",
    "label",
    "operation",
    "round",
    "parent_id",
    "model",
    "review",
)


def row_columns(text: bool, source_url: bool = False) -> tuple[str, ...]:
    """The columns an export writes: COLUMNS, less `text` unless the style asks for it
    (`prompts.wants_text`), with `source_url` after `repo` for a many-source store.

    Example: "text" in row_columns(False) -> False
    """
    columns = tuple(c for c in COLUMNS if text or c != "text")
    if not source_url:
        return columns
    at = columns.index("repo") + 1
    return (*columns[:at], "source_url", *columns[at:])


INT_COLUMNS = {"start_line", "end_line", "round"}
_NULLABLE = {"commit", "source_url", "module", "label", "operation", "round", "parent_id", "model"}


def arrow_schema(columns: tuple[str, ...] = COLUMNS):
    """The Parquet and Arrow schema of the rows (COLUMNS; `messages` a list of role/content)."""
    import pyarrow as pa

    message = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])
    types = {"messages": pa.list_(message)} | {c: pa.int64() for c in INT_COLUMNS}
    return pa.schema(
        [pa.field(c, types.get(c, pa.string()), nullable=c in _NULLABLE) for c in columns]
    )


def _hf_feature(arrow_type: Any) -> dict[str, Any]:
    """A column's `datasets` feature as `Features.to_dict` writes it (datasets 4 and 5:
    a list is `List`, a struct a dict of its fields, anything else a `Value`)."""
    import pyarrow as pa

    if pa.types.is_list(arrow_type):
        return {"feature": _hf_feature(arrow_type.value_type), "_type": "List"}
    if pa.types.is_struct(arrow_type):
        return {field.name: _hf_feature(field.type) for field in arrow_type}
    return {"dtype": str(arrow_type), "_type": "Value"}


def dataset_info_json(columns: tuple[str, ...] = COLUMNS) -> str:
    """The `dataset_info.json` that `save_to_disk` of datasets 4 and 5 writes for a split
    of rows with these columns (`arrow_schema`), without importing `datasets` (most of a
    second of CPU): tests hold it equal to what `datasets` writes."""
    features = {field.name: _hf_feature(field.type) for field in arrow_schema(columns)}
    info = {"citation": "", "description": "", "features": features, "homepage": "", "license": ""}
    return json.dumps(info, indent=2)


def yaml_features(columns: tuple[str, ...]) -> list[dict[str, Any]] | None:
    """The columns' features as a dataset card's YAML lists them (`Features._to_yaml_list`
    of datasets 4 and 5: a `Value` is its name and dtype, a list of structs its name and
    the struct's fields), without importing `datasets`; None for a type it does not know."""
    import pyarrow as pa

    def feature(name: str, arrow_type: Any) -> dict[str, Any] | None:
        if pa.types.is_list(arrow_type) and pa.types.is_struct(arrow_type.value_type):
            fields = [feature(f.name, f.type) for f in arrow_type.value_type]
            return None if None in fields else {"name": name, "list": fields}
        if pa.types.is_string(arrow_type) or pa.types.is_int64(arrow_type):
            return {"name": name, "dtype": str(arrow_type)}
        return None

    found = [feature(field.name, field.type) for field in arrow_schema(columns)]
    return None if None in found else found
