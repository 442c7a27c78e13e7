"""`hw sample -o out.svg`: free handwriting (or signatures) from a prediction network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli.cli import app, error_boundary


@app.command()
@error_boundary
def sample(
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file: .svg, .json or .inkml.")],
    model: Annotated[Optional[str], typer.Option(help="Model name or .pt file, e.g. `signatures` [default: the shipped prediction model].")] = None,
    steps: Annotated[int, typer.Option(help="Pen points to sample.")] = 700,
    bias: Annotated[float, typer.Option(help="Sampling bias b >= 0: higher is neater.")] = 0.0,
    seed: Annotated[Optional[int], typer.Option(help="Seed for reproducible ink.")] = None,
    stroke_width: Annotated[Optional[float], typer.Option(help="Pen width in ink units [default: from the letter size].")] = None,
    color: Annotated[str, typer.Option(help="Ink colour (any SVG colour).")] = "black",
) -> None:
    """Sample handwriting-like ink with no text (paper section 4.1).

    Example: [bold]hw sample -o scribble.svg --steps 700 --seed 1[/bold]
    """
    from rich.console import Console

    from hwcli.cli.write import output_kind
    from hwcli.data.ink import offsets_to_strokes
    from hwcli.errors import UsageError
    from hwcli.models import store
    from hwcli.generate.sampler import sample_free

    kind = output_kind(output)
    if bias < 0:
        raise UsageError(f"--bias must be >= 0, not {bias}")
    network = store.load(model, "prediction")
    strokes = offsets_to_strokes(sample_free(network, steps=steps, bias=bias, seed=seed)[0])
    if kind == "svg":
        from hwcli.render.svg import write_svg

        write_svg(output, strokes, stroke_width=stroke_width, color=color)
    else:
        from hwcli.data.inkfile import write_ink

        write_ink(output, strokes)
    Console(stderr=True).print(f"wrote {output}", highlight=False)
