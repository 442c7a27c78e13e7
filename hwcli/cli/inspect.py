"""`hw inspect TEXT -o attention.svg`: see how the network aligned text and ink."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli.cli import app, error_boundary
from hwcli.cli.write import DEFAULT_BIAS


@app.command()
@error_boundary
def inspect(
    text: Annotated[str, typer.Argument(help="One line of text to write and inspect.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The figure (.svg).")],
    model: Annotated[Optional[str], typer.Option(help="Model name or .pt file [default: the shipped model].")] = None,
    bias: Annotated[float, typer.Option(help="Sampling bias b >= 0.")] = DEFAULT_BIAS,
    seed: Annotated[Optional[int], typer.Option(help="Seed for reproducible ink.")] = None,
) -> None:
    """Write TEXT and plot the window weights phi(t, u) over it (paper Figs. 10 and 13).

    Example: [bold]hw inspect "hello world" -o attention.svg[/bold]
    """
    from rich.console import Console

    from hwcli.errors import UsageError
    from hwcli.generate.inspection import inspect_text
    from hwcli.models import store
    from hwcli.render.plots import attention_svg

    if output.suffix.lower() != ".svg":
        raise UsageError(f"{output}: the figure is an SVG; name it *.svg")
    if not text.strip():
        raise UsageError("nothing to write: the text is empty")
    if bias < 0:
        raise UsageError(f"--bias must be >= 0, not {bias}")
    result = inspect_text(store.load(model, "synthesis"), text, bias=bias, seed=seed)
    attention_svg(output, result.strokes, result.phi, result.text, result.density)
    console = Console(stderr=True)
    console.print(f"wrote {output}", highlight=False)
    console.print(f"{len(result.phi)} steps for {len(result.text)} characters: {result.steps_per_char:.1f} steps per character")
    console.print("stopping rule: " + ("fired (the window moved past the last character)" if result.stopped_by_rule
                                       else "did not fire: the line was cut at the step cap"))
    if result.skipped:
        console.print("never in focus: " + ", ".join(f"{c!r} (#{u + 1})" for u, c in result.skipped), highlight=False)
    if result.lagged:
        console.print("lingered on: " + ", ".join(f"{c!r} (#{u + 1}, {n} steps)" for u, c, n in result.lagged), highlight=False)
    if not result.skipped and not result.lagged:
        console.print("the window moved through every character in turn")
