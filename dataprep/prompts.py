"""Prompt styles: how a pair becomes the text a trainer sees (`prompt` + `completion`).

`alpaca` is byte for byte what Axolotl's `type: alpaca` renders (default style): the
with-input and no-input headers, `### Instruction:`, `### Input:`, `### Response:`,
then the output and the EOS token. The fine-tune stage renders with the same function,
so what is exported is what is trained.
Other styles (`chatml`, files under templates/styles/, a user's own file, or
`chat-template:MODEL`, a model's own chat template) go through
`render(style, pair, project=..., eos=..., system=...)`.

Every style also splits into `prompt` and `completion` (`prompt_completion`): what the
model is given and what it must learn to write, for TRL's prompt-completion datasets.
The conversational form (`chat_messages`) is a system, a user and an assistant turn.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from string import Formatter
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from dataprep.chat_template import ChatTemplateStyle, is_chat_template, load_chat_template
from dataprep.errors import TemplateError
from dataprep.resources import templates_dir

ALPACA_HEADER_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides "
    "further context. Write a response that appropriately completes the request."
)
ALPACA_HEADER_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request."
)


def alpaca_prompt(instruction: str, input: str = "") -> str:
    """The Alpaca prompt up to and including `### Response:\\n` (what the model is given).

    Example: alpaca_prompt("Name it.") ->
        "Below is an instruction that describes a task. Write a response that appropriately
        completes the request.\\n\\n### Instruction:\\nName it.\\n\\n### Response:\\n"
    """
    if input:
        return (
            f"{ALPACA_HEADER_INPUT}\n\n### Instruction:\n{instruction}\n\n"
            f"### Input:\n{input}\n\n### Response:\n"
        )
    return f"{ALPACA_HEADER_NO_INPUT}\n\n### Instruction:\n{instruction}\n\n### Response:\n"


def render_alpaca(instruction: str, input: str, output: str, eos: str = "") -> str:
    """The full Alpaca text: prompt, output, then `eos` (the tokenizer's EOS when training)."""
    return alpaca_prompt(instruction, input) + output + eos


def render_chatml(instruction: str, input: str, output: str, system: str | None = None) -> str:
    """ChatML: optional system turn, the user turn (instruction, blank line, input), the answer.

    Example: render_chatml("Hi", "", "Hello") ->
        "<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\nHello<|im_end|>\\n"
    """
    user = user_content(instruction, input)
    head = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    return f"{head}<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{output}<|im_end|>\n"


CHATML_END = "<|im_end|>"


def system_prompt(project: str) -> str:
    """The system turn of the conversational columns and chat styles.

    Example: system_prompt("hotel-booking") -> "You are an expert on the hotel-booking code
        base. Answer questions about its source code, tests and documentation."
    """
    return (
        f"You are an expert on the {project or 'project'} code base. "
        "Answer questions about its source code, tests and documentation."
    )


def user_content(instruction: str, input: str = "") -> str:
    """The user turn: the instruction, then a blank line and the input when there is one."""
    return f"{instruction}\n\n{input}" if input else instruction


def chat_messages(
    instruction: str, input: str, output: str, system: str | None = None
) -> list[dict[str, str]]:
    """A pair as a conversation: an optional system turn, the user turn, the answer.

    Example: chat_messages("Hi", "", "Hello", "Be brief.") -> [{"role": "system", "content":
        "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    """
    head = [{"role": "system", "content": system}] if system else []
    return [
        *head,
        {"role": "user", "content": user_content(instruction, input)},
        {"role": "assistant", "content": output},
    ]


# Styles by name or file -------------------------------------------------------------

BUILTIN_STYLES = ("alpaca", "chatml")
STYLE_FIELDS = ("instruction", "input", "output", "project", "eos")
_OUTPUT_MARK = "\x00dataprep-output\x00"
MAX_WIDTH = 1000  # a larger width or precision in a placeholder's format spec is a mistake
_SAMPLE = {
    "instruction": "Name the method.",
    "input": "int size()",
    "output": "size",
    "project": "project",
    "eos": "</s>",
}


class PromptStyle(BaseModel):
    """A prompt style read from a file: `templates/styles/NAME.yaml` or a user's own file.

    `with_input` renders pairs whose input is not empty, `without_input` the others (it
    defaults to `with_input`). Placeholders: {instruction} {input} {output} {project} {eos},
    optionally padded (`{instruction:<20}`, width at most MAX_WIDTH), never with `!r`, `.attr`
    or `[index]`; write literal braces as {{ and }}. A `.txt` file is one template used for
    both cases. A bad placeholder fails when the style is loaded (`check_template`).
    `text: true` asks the export for a `text` column too: the whole rendered row, for a
    trainer that reads one text field (every row has it anyway as `prompt` + `completion`).
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    with_input: str
    without_input: str | None = None
    text: bool = False

    @field_validator("with_input", "without_input")
    @classmethod
    def _known_placeholders(cls, text: str | None) -> str | None:
        if text is None:
            return text
        return check_template(text)

    def render(
        self, instruction: str, input: str, output: str, project: str = "", eos: str = ""
    ) -> str:
        template = self.with_input if input or self.without_input is None else self.without_input
        return template.format(
            instruction=instruction, input=input, output=output, project=project, eos=eos
        )


def check_template(text: str) -> str:
    """`text` if it is a usable style template, else a ValueError naming the fix.

    A placeholder is one of STYLE_FIELDS, with no conversion (`!r`), no attribute or index
    access, no nested field and no width or precision above MAX_WIDTH; the template is then
    rendered once with sample fields, so a bad format spec fails here, not mid-export.

    Example: check_template("{instruction!r} {output}") -> ValueError("{instruction!r}: ...")
    """
    try:
        fields = [(n, c, s) for _, n, s, c in Formatter().parse(text) if n is not None]
    except ValueError as exc:
        raise ValueError(f"{exc}; write literal braces as {{{{ and }}}}") from None
    for name, conversion, spec in fields:
        _check_placeholder(name, conversion, spec or "")
    if "output" not in {name for name, _, _ in fields}:
        raise ValueError("the template has no {output} placeholder; add one where the answer goes")
    try:
        text.format(**_SAMPLE)  # a backstop: every placeholder was rendered on its own above
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, MemoryError) as exc:
        message = f"the template does not render ({_one_line(exc)}); fix its placeholders"
        raise ValueError(message) from None
    return text


def _check_placeholder(name: str, conversion: str | None, spec: str) -> None:
    shown = _placeholder(name, conversion, spec)
    base = re.split(r"[.\[]", name, maxsplit=1)[0]
    if name != base and base in STYLE_FIELDS:
        raise ValueError(f"{shown}: attribute and index access are not allowed; write {{{base}}}")
    if name not in STYLE_FIELDS:
        raise ValueError(
            f"unknown placeholder {shown}; use only "
            + " ".join("{" + f + "}" for f in STYLE_FIELDS)
        )
    if conversion is not None:
        raise ValueError(f"{shown}: conversions (!r, !s, !a) are not allowed; write {{{name}}}")
    if "{" in spec or "}" in spec:
        raise ValueError(f"{shown}: a field inside a format spec is not allowed; write {{{name}}}")
    if any(_above_max_width(digits) for digits in re.findall(r"\d+", spec)):
        raise ValueError(
            f"{shown}: a width or precision above {MAX_WIDTH} is not allowed; "
            f"write {{{name}}} or a smaller width such as {{{name}:<20}}"
        )
    try:
        format(_SAMPLE[name], spec)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{shown}: {_one_line(exc)}; write {{{name}}}, or pad it as {{{name}:<20}}"
        ) from None


def _above_max_width(digits: str) -> bool:
    significant = digits.lstrip("0")  # int() refuses strings of over 4300 digits
    return len(significant) > len(str(MAX_WIDTH)) or int(significant or "0") > MAX_WIDTH


def _placeholder(name: str, conversion: str | None, spec: str) -> str:
    """The placeholder as written, shortened for a one-line message.

    Example: ("output", "r", ">5") -> "{output!r:>5}"
    """
    text = (
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "...}"


def style_names() -> list[str]:
    """The styles `--style` accepts by name: the built-in ones, then templates/styles/*
    (and `chat-template:MODEL`, which names a model rather than a style)."""
    shipped = sorted(
        p.stem
        for p in (templates_dir() / "styles").glob("*")
        if p.suffix in (".yaml", ".yml", ".txt")
    )
    return [*BUILTIN_STYLES, *shipped]


def load_style(spec: str) -> PromptStyle | ChatTemplateStyle | str:
    """A built-in style name, a shipped style's name, a path to a style file, or
    `chat-template:MODEL` (the model's own chat template, through its tokenizer).

    Example: load_style("alpaca") -> "alpaca"; load_style("repo") -> PromptStyle(name="repo", ...)
    """
    if spec in BUILTIN_STYLES:
        return spec
    if is_chat_template(spec):
        return load_chat_template(spec)
    path = Path(spec)
    if not path.is_file():
        for suffix in (".yaml", ".yml", ".txt"):
            shipped = templates_dir() / "styles" / f"{spec}{suffix}"
            if shipped.is_file():
                path = shipped
                break
        else:
            raise TemplateError(
                f"unknown prompt style {spec!r}: use one of {', '.join(style_names())}, "
                "chat-template:MODEL or the path to a style file (.yaml or .txt)"
            )
    return _read_style(path)


def wants_text(style: str | PromptStyle | ChatTemplateStyle) -> bool:
    """Whether rows in this loaded style carry a `text` column: only a style file that asks
    for it (`text: true`); the built-in styles' trainers read the Alpaca fields, `messages`
    or `prompt`/`completion`, so a `text` column would repeat the pair a fourth time."""
    return isinstance(style, PromptStyle) and style.text


def _read_style(path: Path) -> PromptStyle:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(
            f"cannot read prompt style {path} ({exc}): pass a readable UTF-8 file"
        ) from exc
    try:
        if path.suffix == ".txt":
            return PromptStyle(name=path.stem, with_input=text)
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise TemplateError(
                f"prompt style {path}: expected a mapping with name, with_input and without_input"
            )
        return PromptStyle.model_validate(data)
    except yaml.YAMLError as exc:
        raise TemplateError(
            f"prompt style {path} is not valid YAML ({_one_line(exc)}): fix its syntax"
        ) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "file"
        message = _one_line(Exception(err["msg"].removeprefix("Value error, ")))
        raise TemplateError(f"prompt style {path}: {where}: {message}") from exc


def _fields(pair_or_fields: Any) -> tuple[str, str, str]:
    if isinstance(pair_or_fields, Mapping):
        get = pair_or_fields.get
        return get("instruction") or "", get("input") or "", get("output") or ""
    return pair_or_fields.instruction, pair_or_fields.input or "", pair_or_fields.output


def render(
    style: str | PromptStyle | ChatTemplateStyle,
    pair_or_fields: Any,
    project: str = "",
    eos: str = "",
    system: str | None = None,
) -> str:
    """The `text` of a pair (a Pair or a mapping with instruction/input/output) in a style.

    `style` is "alpaca", "chatml", a shipped style's name, a style file's path,
    "chat-template:MODEL" or a loaded style. `eos` is appended by alpaca and file styles
    that place {eos}; ChatML and chat templates end the answer with their own token.
    `system` is the system turn of ChatML and chat templates (the others have none).

    Example: render("alpaca", {"instruction": "Name it.", "input": "", "output": "x"}) ->
        "Below is an instruction that describes a task. ...### Response:\\nx"
    """
    instruction, input, output = _fields(pair_or_fields)
    if isinstance(style, str):
        style = load_style(style)
    if style == "alpaca":
        return render_alpaca(instruction, input, output, eos=eos)
    if style == "chatml":
        return render_chatml(instruction, input, output, system=system)
    if isinstance(style, ChatTemplateStyle):
        return style.render(chat_messages(instruction, input, output, system))
    return style.render(instruction, input, output, project=project, eos=eos)


def render_prompt(
    style: str | PromptStyle | ChatTemplateStyle,
    pair_or_fields: Any,
    project: str = "",
    system: str | None = None,
) -> str:
    """What the model is given: the rendered text up to where the output begins."""
    instruction, input, _ = _fields(pair_or_fields)
    if isinstance(style, str):
        style = load_style(style)
    if isinstance(style, ChatTemplateStyle):
        return style.render_prompt(chat_messages(instruction, input, "", system))
    fields = {"instruction": instruction, "input": input, "output": _OUTPUT_MARK}
    return render(style, fields, project=project, system=system).split(_OUTPUT_MARK, 1)[0]


def prompt_completion(
    style: str | PromptStyle | ChatTemplateStyle,
    pair_or_fields: Any,
    project: str = "",
    system: str | None = None,
) -> tuple[str, str, str]:
    """(text, prompt, completion) of a pair: `prompt` is what the model is given, the
    completion what it learns to write. prompt + completion is the text, less the newline
    a chat template writes after the end-of-turn token (so TRL adds no second EOS).

    Example: prompt_completion("chatml", {"instruction": "Hi", "input": "", "output": "Yo"})
        -> ("<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\nYo<|im_end|>\\n",
            "<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n", "Yo<|im_end|>")
    """
    if isinstance(style, str):
        style = load_style(style)
    if style == "alpaca":  # what `render_prompt` cuts is the Alpaca prompt itself
        instruction, input, output = _fields(pair_or_fields)
        prompt = alpaca_prompt(instruction, input)
        if _OUTPUT_MARK not in prompt:
            return prompt + output, prompt, output
    text = render(style, pair_or_fields, project=project, system=system)
    prompt = render_prompt(style, pair_or_fields, project=project, system=system)
    if not text.startswith(prompt):
        name = getattr(style, "name", style)
        raise TemplateError(
            f"the prompt style {name} renders the prompt alone differently from the whole "
            "conversation, so no completion can be cut from it: use --style chatml or alpaca"
        )
    completion = text[len(prompt) :]
    end = _end_of_turn(style)
    if end and completion.rstrip("\n").endswith(end):
        completion = completion.rstrip("\n")
    return text, prompt, completion


def _end_of_turn(style: str | PromptStyle | ChatTemplateStyle) -> str:
    if style == "chatml":
        return CHATML_END
    if isinstance(style, ChatTemplateStyle):
        return style.end_of_turn
    return ""


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
