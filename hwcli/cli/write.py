"""`hw write TEXT -o out.svg`: text to handwriting."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli.cli import app, error_boundary

SAMPLING, PAGE, STYLE = "Sampling", "Page", "Style"
DEFAULT_BIAS = 1.0  # hwcli.generate.sampler.DEFAULT_BIAS, kept here so `hw --help` need not import torch


def read_text(text: str) -> str:
    """TEXT itself (a literal backslash-n breaks the line, as shells cannot type a newline
    easily), stdin for `-`, or a file's contents for `@FILE`."""
    from hwcli.errors import DataError

    if text == "-":
        return sys.stdin.read()
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DataError(f"cannot read text from {path}: {getattr(error, 'strerror', None) or error}") from None
    return text.replace("\\n", "\n")


def output_kind(path: Path) -> str:
    from hwcli.errors import UsageError

    suffix = path.suffix.lower()
    if suffix in (".svg", ".json", ".inkml"):
        return suffix[1:]
    raise UsageError(f"{path}: unknown output type; use .svg (picture), .json or .inkml (strokes)")


@app.command()
@error_boundary
def write(
    text: Annotated[str, typer.Argument(help="The text; '-' reads stdin, '@FILE' reads a file. Newlines start new lines.")],
    output: Annotated[list[Path], typer.Option("-o", "--output", help="Output file(s): .svg, .json or .inkml; repeat for several.")],
    model: Annotated[Optional[str], typer.Option(help="Model name or .pt file [default: the shipped model].")] = None,
    bias: Annotated[float, typer.Option(help="Sampling bias b >= 0: higher is neater (paper section 5.4).", rich_help_panel=SAMPLING)] = DEFAULT_BIAS,
    seed: Annotated[Optional[int], typer.Option(help="Seed for reproducible ink.", rich_help_panel=SAMPLING)] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse characters the model lacks instead of substituting (é -> e).", rich_help_panel=SAMPLING)] = False,
    style: Annotated[Optional[str], typer.Option(help="Built-in style (`hw models` lists them), a .json/.inkml file of your handwriting, line:ID, or none (unprimed); default: the model's own style, if it names one.", rich_help_panel=STYLE)] = None,
    style_text: Annotated[Optional[str], typer.Option(help="The words the style ink shows (when its file has no text).", rich_help_panel=STYLE)] = None,
    width: Annotated[int, typer.Option(help="Wrap lines at this many characters.", rich_help_panel=PAGE)] = 50,
    line_spacing: Annotated[float, typer.Option(help="Baseline to baseline, in line heights.", rich_help_panel=PAGE)] = 3.0,
    margin: Annotated[Optional[float], typer.Option(help="Space around the ink, in letter sizes [default: 0.5].", rich_help_panel=PAGE)] = None,
    stroke_width: Annotated[Optional[float], typer.Option(help="Pen width in ink units [default: from the letter size].", rich_help_panel=PAGE)] = None,
    color: Annotated[str, typer.Option(help="Ink colour (any SVG colour).", rich_help_panel=PAGE)] = "black",
    page_width: Annotated[Optional[float], typer.Option(help="Physical width of the SVG in mm.", rich_help_panel=PAGE)] = None,
    animate: Annotated[bool, typer.Option("--animate", help="Draw the strokes in writing order (SVG/CSS animation).", rich_help_panel=PAGE)] = False,
) -> None:
    """Write TEXT as handwriting: an SVG picture and/or the strokes.

    Example: [bold]hw write "Good morning" -o out.svg[/bold]
    """
    from rich.console import Console

    from hwcli.errors import UsageError
    from hwcli.generate.page import write_page

    console = Console(stderr=True)
    kinds = [output_kind(path) for path in output]
    if bias < 0:
        raise UsageError(f"--bias must be >= 0, not {bias}")
    if margin is not None and margin < 0:
        raise UsageError(f"--margin must be >= 0, not {margin}")
    page = write_page(read_text(text), model_name=model, bias=bias, seed=seed, style=style, style_text=style_text,
                      width=width, line_spacing=line_spacing, substitute=not strict)
    for old, new in page.substitutions.items():
        console.print(f"note: wrote {old!r} as {new!r} (the model has no {old!r})", highlight=False)
    for path, kind in zip(output, kinds):
        page.save(path, kind, stroke_width=stroke_width, color=color, page_width_mm=page_width, animate=animate,
                  margin_letters=margin)
        console.print(f"wrote {path}", highlight=False)
