"""Prompt styles: how a pair becomes the `text` a trainer sees.

`alpaca` is byte for byte what Axolotl's `type: alpaca` renders (default style): the
with-input and no-input headers, `### Instruction:`, `### Input:`, `### Response:`,
then the output and the EOS token. The fine-tune stage renders with the same function,
so what is exported is what is trained.
"""

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
    user = f"{instruction}\n\n{input}" if input else instruction
    head = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    return f"{head}<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{output}<|im_end|>\n"
