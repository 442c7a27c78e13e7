"""`hw inspect TEXT -o attention.svg`: see how the network aligned text and ink."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli import config
from hwcli.cli import app, error_boundary, load_model, print_notes, ranged, substitution_notes


@app.command()
@error_boundary
def inspect(
    text: Annotated[str, typer.Argument(help="One line of text to write and inspect; '-' reads stdin, '@FILE' reads a file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The figure (.svg).")],
    model: Annotated[Optional[str], typer.Option(help="Model name or .pt file \\[default: the shipped model].", show_default=False)] = None,
    bias: Annotated[Optional[float], ranged("bias", help=f"Sampling bias b >= 0 \\[default: as hw write: {config.DEFAULT_BIAS}, or {config.DEFAULT_STYLE_BIAS} with a style of your own ink].", show_default=False)] = None,
    seed: Annotated[Optional[int], ranged("seed", help="Seed for reproducible ink \\[default: fresh ink each run].", show_default=False)] = None,
    candidates: Annotated[int, ranged("candidates", help="As hw write: the line is the most usual of this many samples.")] = config.DEFAULT_CANDIDATES,
    style: Annotated[Optional[str], typer.Option(help="As hw write --style: a style name, an ink file, line:ID, or none \\[default: the model's own style].", show_default=False)] = None,
    style_text: Annotated[Optional[str], typer.Option(help="The words the style ink shows, for ink without text.", show_default=False)] = None,
) -> None:
    """Write TEXT and plot the window weights phi(t, u) over it (paper Figs. 10 and 13).

    Example: [bold]hw inspect "hello world" -o attention.svg[/bold]
    """
    from rich.console import Console

    from hwcli.errors import UsageError
    from hwcli.generate.inspection import inspect_text
    from hwcli.render.plots import attention_svg

    from hwcli.cli.outputs import check_output
    from hwcli.cli.write import read_text

    check_output(output, ("svg",))
    text = read_text(text).strip("\r\n")  # the same text path as `hw write`: `\n`, '-' and '@FILE'
    if not text.strip():
        raise UsageError("nothing to write: the text is empty")
    if len(text.splitlines()) > 1:
        raise UsageError(f"hw inspect shows one line; the text has {len(text.splitlines())} lines "
                         "(inspect them one at a time)")
    console = Console(stderr=True)
    network, notes = load_model(model, "synthesis")
    result = inspect_text(network, text, bias=bias, seed=seed, style=style, style_text=style_text, candidates=candidates)
    attention_svg(output, result.strokes, result.phi, result.text, result.density)
    print_notes(console, substitution_notes(result.substitutions))
    console.print(f"wrote {output}", highlight=False)
    print_notes(console, notes)
    console.print(f"{len(result.phi)} steps for {len(result.text)} characters: {result.steps_per_char:.1f} steps per character")
    console.print("stopping rule: " + ("fired (the window moved past the last character)" if result.stopped_by_rule
                                       else "did not fire: the line was cut at the step cap"))
    if result.skipped:
        console.print("never in focus: " + ", ".join(f"{c!r} (#{u + 1})" for u, c in result.skipped), highlight=False)
    if result.lagged:
        console.print("lingered on: " + ", ".join(f"{c!r} (#{u + 1}, {n} steps)" for u, c, n in result.lagged), highlight=False)
    if not result.skipped and not result.lagged:
        console.print("the window moved through every character in turn")
