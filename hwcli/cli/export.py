"""`hw export NAME OUT.pt`: a trained model as a shippable file (hwcli.models.export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli.cli import app, error_boundary


@app.command()
@error_boundary
def export(
    name: Annotated[str, typer.Argument(help="Model name (`hw models` lists them) or .pt file.", show_default=False)],
    out: Annotated[Path, typer.Argument(help="The file to write, ending in .pt.", show_default=False)],
    dataset: Annotated[
        Optional[Path],
        typer.Option("--dataset", help="Dataset file to measure the ink scale on (default: the one it was trained on).",
                     show_default=False),
    ] = None,
    default_style: Annotated[
        Optional[str],
        typer.Option("--default-style", help="Built-in style `hw write` primes with when no --style is given.",
                     show_default=False),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print what the file carries as JSON on stdout.")] = False,
) -> None:
    """Write a trained model as a shippable file: half-precision weights, no optimiser state, the
    ink scale of its data, and optionally a default style.

    Example: [bold]hw export synth256 hwcli/assets/models/synthesis.pt --default-style upright[/bold]
    """
    import json

    from hwcli.errors import UsageError

    if out.suffix != ".pt":
        raise UsageError(f"{out}: the file to write must end in .pt")
    from hwcli.models.export import export as export_model

    info = export_model(name, out, dataset, default_style)
    keys = ("epochs", "steps", "best_validation", "line_height", "pen_step", "default_style")
    shown = {key: info[key] for key in keys if info.get(key) is not None}
    if json_output:
        typer.echo(json.dumps({"path": str(out), **shown}, indent=1))
        return
    facts = ", ".join(f"{key.replace('_', ' ')} {value:.1f}" if isinstance(value, float) else f"{key.replace('_', ' ')} {value}"
                      for key, value in shown.items())
    typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {facts}")
