"""`hw sample -o out.svg`: free handwriting (or signatures) from a prediction network."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli import config
from hwcli.cli import app, error_boundary, load_model, print_notes, ranged


# Runs of at least this many steps show a progress bar (a few seconds and more).
PROGRESS_FROM_STEPS = 2000


@contextmanager
def sampling_progress(steps: int, console):
    """A transient bar on a terminal for long samples; None (no reports) otherwise."""
    if steps < PROGRESS_FROM_STEPS or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("sampling", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task("", total=steps)
        yield lambda done, total: bar.update(task, completed=done)


@app.command()
@error_boundary
def sample(
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file: .svg, .json or .inkml.")],
    model: Annotated[Optional[str], typer.Option(help="Model name or .pt file, e.g. `signatures` \\[default: the shipped prediction model].", show_default=False)] = None,
    steps: Annotated[Optional[int], ranged("steps", help=f"Pen points to sample, at most \\[default: {config.DEFAULT_SAMPLE_STEPS}; a signature model stops when its signature ends].", show_default=False)] = None,
    bias: Annotated[float, ranged("bias", help="Sampling bias b >= 0: higher is neater.")] = config.DEFAULT_SAMPLE_BIAS,
    seed: Annotated[Optional[int], ranged("seed", help="Seed for reproducible ink \\[default: fresh ink each run].", show_default=False)] = None,
    stroke_width: Annotated[Optional[float], ranged("stroke_width", help="Pen width in ink units \\[default: from the letter size].", show_default=False)] = None,
    color: Annotated[str, typer.Option(help="Ink colour (any SVG colour).")] = config.DEFAULT_COLOR,
) -> None:
    """Sample handwriting-like ink with no text (paper section 4.1).

    Example: [bold]hw sample -o scribble.svg --steps 700 --seed 1[/bold]
    """
    from rich.console import Console

    from hwcli.cli.write import output_kind
    from hwcli.data.ink import offsets_to_strokes
    from hwcli.generate.sampler import sample_free, signature_end

    kind = output_kind(output)
    console = Console(stderr=True)
    network, notes = load_model(model, "prediction")
    stop_after = None
    if steps is None:  # a signature model draws one signature, ended at the model's pen-up
        stop_after = signature_end(network)
        steps = config.DEFAULT_SAMPLE_STEPS if stop_after is None else config.SIGNATURE_MAX_STEPS
    with sampling_progress(steps, console) as progress:
        lines = sample_free(network, steps=steps, bias=bias, seed=seed, stop_after=stop_after, progress=progress)
    strokes = offsets_to_strokes(lines[0])
    if kind == "svg":
        from hwcli.render.svg import write_svg

        write_svg(output, strokes, stroke_width=stroke_width, color=color)
    else:
        from hwcli.data.inkfile import write_ink

        write_ink(output, strokes)
    console.print(f"wrote {output}", highlight=False)
    print_notes(console, notes)
