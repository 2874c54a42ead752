"""Each setting is declared once (dataprep.settings): the CLI's options take their help,
default and choices from the typed configs."""

import dataclasses
from typing import Literal

import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.errors import ConfigError
from dataprep.settings import (
    BalanceConfig,
    EvolConfig,
    FilterConfig,
    LLMOptions,
    choices,
    field_docs,
    field_help,
)

CONFIGS = [FilterConfig, BalanceConfig, EvolConfig, LLMOptions]
# (command, config, field, flag): the options built from a config
BUILT = [
    ("filter", FilterConfig, "max_seq_len", "--max-seq-len"),
    ("filter", FilterConfig, "tokenizer", "--tokenizer"),
    ("filter", FilterConfig, "near_dup_threshold", "--near-dup-threshold"),
    ("filter", FilterConfig, "near_dup_scope", "--near-dup-scope"),
    ("filter", FilterConfig, "num_perm", "--num-perm"),
    ("filter", FilterConfig, "decontam_threshold", "--decontam-threshold"),
    ("filter", FilterConfig, "decontam_action", "--decontam-action"),
    ("filter", FilterConfig, "judge", "--judge"),
    ("filter", FilterConfig, "judge_threshold", "--judge-threshold"),
    ("filter", FilterConfig, "disabled", "--disable"),
    ("balance", BalanceConfig, "by", "--by"),
    ("balance", BalanceConfig, "weights", "--weights"),
    ("balance", BalanceConfig, "cap", "--cap"),
    ("balance", BalanceConfig, "seed", "--seed"),
    ("generate", EvolConfig, "rounds", "--evol-rounds"),
    ("generate", EvolConfig, "units", "--evol-units"),
    ("generate", EvolConfig, "questions_per_unit", "--evol-questions"),
    ("generate", EvolConfig, "concurrency", "--llm-concurrency"),
    ("generate", EvolConfig, "seed", "--seed"),
    ("generate", EvolConfig, "dry_run", "--dry-run"),
    ("generate", LLMOptions, "temperature", "--llm-temperature"),
    ("generate", LLMOptions, "seed", "--llm-seed"),
    ("generate", LLMOptions, "num_ctx", "--llm-num-ctx"),
    ("generate", LLMOptions, "max_tokens", "--llm-max-tokens"),
]


def _help(command: str) -> str:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # the help is wrapped to the terminal


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.__name__)
def test_every_setting_has_its_help_under_it(config):
    docs = field_docs(config)
    assert list(docs) == [f.name for f in dataclasses.fields(config)]
    assert all(len(text) > 10 and "\n" not in text for text in docs.values())


def test_a_docstring_is_the_string_right_under_its_field():
    @dataclasses.dataclass
    class Example:
        """Class doc."""

        a: int = 1
        """The a, over
        two lines."""
        b: int = 2
        c: Literal["x", "y"] | None = None
        """The c."""

    assert field_docs(Example) == {"a": "The a, over two lines.", "c": "The c."}
    assert choices(Example, "c") == ("x", "y") and choices(Example, "a") is None


@pytest.mark.parametrize(("command", "config", "name", "flag"), BUILT, ids=lambda v: str(v))
def test_the_option_shows_the_settings_help(command, config, name, flag):
    text = _help(command)
    assert flag in text and field_help(config, name) in text


def test_choices_and_defaults_come_from_the_configs():
    filter_help, balance_help = _help("filter"), _help("balance")
    assert "--near-dup-scope [task|all]" in filter_help
    assert "--decontam-action [drop|move]" in filter_help
    assert f"[default: {FilterConfig().num_perm};" in filter_help
    columns = "|".join(choices(BalanceConfig, "by"))
    assert f"--by [{columns}]" in balance_help and "[default: task]" in balance_help
    assert "--split-by [file|module]" in _help("export")


def test_the_defaults_shown_are_the_configs():
    text = _help("generate")
    for flag, value in [
        ("--evol-rounds", EvolConfig.rounds),
        ("--llm-temperature", LLMOptions.temperature),
        ("--llm-max-tokens", LLMOptions.max_tokens),
    ]:
        shown = text[text.index(flag) :]
        assert f"[default: {value};" in shown[: shown.index("]") + 1]


def test_evol_settings_are_checked_like_the_options():
    with pytest.raises(ConfigError, match="evol rounds must be at least 1, got 0"):
        EvolConfig(rounds=0)
    with pytest.raises(ConfigError, match="evol questions_per_unit must be at least 0"):
        EvolConfig(questions_per_unit=-1)
    assert EvolConfig(units=None).model_dump()["units"] is None


def test_every_command_reading_a_store_shares_one_out_option():
    for command in ("filter", "balance", "export", "review", "push", "generate"):
        assert "-O, --out <path> Output directory of `dataprep run`" in _help(command)
