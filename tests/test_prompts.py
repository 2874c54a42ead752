"""Prompt styles render byte for byte: Axolotl's alpaca, ChatML, shipped and user files."""

import pytest
import yaml
from factories import pair as make_pair

from dataprep.errors import TemplateError
from dataprep.prompts import (
    chat_messages,
    load_style,
    prompt_completion,
    render,
    render_alpaca,
    render_prompt,
    style_names,
    system_prompt,
)

WITH_INPUT = {
    "instruction": "Name the method.",
    "input": "int size() { return n; }",
    "output": "size",
}
NO_INPUT = {"instruction": "Which package is Booking in?", "input": "", "output": "com.example"}


def test_alpaca_with_input_is_axolotl_exact():
    expected = (
        "Below is an instruction that describes a task, paired with an input that provides "
        "further context. Write a response that appropriately completes the request.\n\n"
        "### Instruction:\nName the method.\n\n"
        "### Input:\nint size() { return n; }\n\n"
        "### Response:\nsize</s>"
    )
    assert render("alpaca", WITH_INPUT, eos="</s>") == expected
    assert render_alpaca(**WITH_INPUT, eos="</s>") == expected


def test_alpaca_without_input_is_axolotl_exact():
    expected = (
        "Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.\n\n"
        "### Instruction:\nWhich package is Booking in?\n\n"
        "### Response:\ncom.example"
    )
    assert render("alpaca", NO_INPUT) == expected


def test_chatml():
    assert render("chatml", WITH_INPUT) == (
        "<|im_start|>user\nName the method.\n\nint size() { return n; }<|im_end|>\n"
        "<|im_start|>assistant\nsize<|im_end|>\n"
    )
    assert render("chatml", NO_INPUT, system="You know the hotel code.") == (
        "<|im_start|>system\nYou know the hotel code.<|im_end|>\n"
        "<|im_start|>user\nWhich package is Booking in?<|im_end|>\n"
        "<|im_start|>assistant\ncom.example<|im_end|>\n"
    )


def test_shipped_repo_style():
    assert render("repo", WITH_INPUT, project="hotel-booking", eos="<|endoftext|>") == (
        "Below is an instruction, delimited by three hashes, that asks about the code base of "
        "hotel-booking, paired with an input that provides further context. Write a response "
        "that appropriately completes the request.\n\n"
        "### Instruction:\nName the method.\n\n"
        "### Input:\nint size() { return n; }\n\n"
        "### Response:\nsize<|endoftext|>"
    )
    assert render("repo", NO_INPUT, project="hotel-booking") == (
        "Below is an instruction, delimited by three hashes, that asks about the code base of "
        "hotel-booking. Write a response that appropriately completes the request.\n\n"
        "### Instruction:\nWhich package is Booking in?\n\n"
        "### Response:\ncom.example"
    )


def test_user_txt_style_and_braces_in_content(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("[{project}] Q: {instruction} {{literal}}\nCode: {input}\nA: {output}{eos}")
    fields = {"instruction": "Show it.", "input": "", "output": "void f() { g(); }"}
    assert render(str(path), fields, project="p", eos="<e>") == (
        "[p] Q: Show it. {literal}\nCode: \nA: void f() { g(); }<e>"
    )


def test_render_accepts_a_pair():
    pair = make_pair(**WITH_INPUT, task="method.name", template="method.name.0")
    assert render("alpaca", pair) == render("alpaca", WITH_INPUT)


@pytest.mark.parametrize("style", ["alpaca", "chatml", "repo"])
def test_render_prompt_is_the_text_before_the_output(style):
    text = render(style, WITH_INPUT, project="p")
    prompt = render_prompt(style, WITH_INPUT, project="p")
    assert text.startswith(prompt)
    assert text[len(prompt) :].startswith("size")


@pytest.mark.parametrize(
    ("style", "completion"),
    [("alpaca", "size"), ("repo", "size"), ("chatml", "size<|im_end|>")],
)
def test_prompt_completion_cuts_the_text_where_the_answer_begins(style, completion):
    system = system_prompt("p")
    text, prompt, cut = prompt_completion(style, WITH_INPUT, project="p", system=system)
    assert text == render(style, WITH_INPUT, project="p", system=system)
    assert prompt == render_prompt(style, WITH_INPUT, project="p", system=system)
    assert cut == completion
    # chatml's completion stops at its end-of-turn token, before the template's newline
    assert prompt + cut == (text[:-1] if style == "chatml" else text)


def test_chat_messages_and_the_system_prompt():
    assert system_prompt("hotel-booking") == (
        "You are an expert on the hotel-booking code base. "
        "Answer questions about its source code, tests and documentation."
    )
    assert chat_messages("Name the method.", "int size()", "size", "S") == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Name the method.\n\nint size()"},
        {"role": "assistant", "content": "size"},
    ]
    assert chat_messages("Hi", "", "Yo")[0] == {"role": "user", "content": "Hi"}
    # ChatML renders the same turns
    messages = chat_messages("Hi", "", "Yo", "S")
    assert render("chatml", {"instruction": "Hi", "input": "", "output": "Yo"}, system="S") == (
        "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    )


def test_style_names_lists_builtin_and_shipped():
    assert style_names()[:2] == ["alpaca", "chatml"]
    assert "repo" in style_names()


def test_unknown_style_names_the_choices():
    with pytest.raises(
        TemplateError, match=r"unknown prompt style 'alpacca': use one of alpaca, chatml"
    ):
        load_style("alpacca")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nwith_input: '{instruction} {answer}'\n", r"unknown placeholder \{answer\}"),
        ("name: x\nwith_input: '{instruction}'\n", r"no \{output\} placeholder"),
        (
            "name: x\nwith_input: '{output}'\ncolour: red\n",
            r"colour: Extra inputs are not permitted",
        ),
        ("name: [x\n", r"not valid YAML"),
    ],
)
def test_bad_style_file_names_file_and_fix(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(TemplateError, match=message) as info:
        load_style(str(path))
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{output:zz}",
            "with_input: {output:zz}: Unknown format code 'z' for object of type 'str'; "
            "write {output}, or pad it as {output:<20}",
        ),
        (
            "{instruction:>999999999999} {output}",
            "with_input: {instruction:>999999999999}: a width or precision above 1000 is not "
            "allowed; write {instruction} or a smaller width such as {instruction:<20}",
        ),
        (
            "{instruction:.%s} {output}" % ("9" * 5000),
            "with_input: {instruction:." + "9" * 43 + "...}: a width or precision above 1000 "
            "is not allowed",  # shortened: the message stays short
        ),
        (
            "{instruction!r} {output}",
            "with_input: {instruction!r}: conversions (!r, !s, !a) are not allowed; "
            "write {instruction}",
        ),
        (
            "{instruction.__class__} {output}",
            "with_input: {instruction.__class__}: attribute and index access are not allowed; "
            "write {instruction}",
        ),
        (
            "{instruction[0]} {output}",
            "with_input: {instruction[0]}: attribute and index access are not allowed; "
            "write {instruction}",
        ),
        (
            "{0} {output}",
            "with_input: unknown placeholder {0}; use only {instruction} {input} {output} "
            "{project} {eos}",
        ),
        ("{} {output}", "with_input: unknown placeholder {}; use only {instruction}"),
        ("{answer} {output}", "with_input: unknown placeholder {answer}; use only"),
        (
            "{output:>{eos}}",
            "with_input: {output:>{eos}}: a field inside a format spec is not allowed; "
            "write {output}",
        ),
        (
            "{output:=5}",
            "with_input: {output:=5}: '=' alignment not allowed in string format specifier; "
            "write {output}, or pad it as {output:<20}",
        ),
    ],
)
def test_a_bad_placeholder_is_one_line_naming_file_field_and_fix(tmp_path, template, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "with_input": template}))
    with pytest.raises(TemplateError) as info:
        load_style(str(path))
    assert str(info.value).startswith(f"prompt style {path}: {message}")
    assert "\n" not in str(info.value)


def test_the_same_checks_apply_to_without_input_and_txt_files(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump({"name": "x", "with_input": "{output}", "without_input": "{output!s}"})
    )
    with pytest.raises(TemplateError, match=r"without_input: \{output!s\}: conversions"):
        load_style(str(path))
    txt = tmp_path / "bad.txt"
    txt.write_text("{instruction}\n{output:\n}")
    with pytest.raises(TemplateError) as info:
        load_style(str(txt))
    assert str(info.value) == (  # the newline in the placeholder is shown as a space
        f"prompt style {txt}: with_input: {{output: }}: Unknown format code '\\xa' for object "
        "of type 'str'; write {output}, or pad it as {output:<20}"
    )


def test_padding_within_the_limit_is_allowed(tmp_path):
    path = tmp_path / "padded.txt"
    path.write_text("{instruction:<12}|{input:^5}|{output:>6}{eos:.2}")
    fields = {"instruction": "Name it.", "input": "x", "output": "size"}
    assert render(str(path), fields, eos="</s>") == "Name it.    |  x  |  size</"
