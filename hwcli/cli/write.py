"""`hw write TEXT -o out.svg`: text to handwriting."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli import config
from hwcli.cli import app, error_boundary, load_model, print_notes, ranged, substitution_notes

SAMPLING, PAGE, STYLE = "Sampling", "Page", "Style"
INK_OUTPUTS = ("svg", "json", "inkml")


def read_text(text: str) -> str:
    """TEXT itself (a literal backslash-n breaks the line, as shells cannot type a newline
    easily), stdin for `-`, or a file's contents for `@FILE`."""
    from hwcli.errors import DataError, UsageError

    if text == "-":
        return sys.stdin.read()
    if text.startswith("@"):
        if not text[1:].strip():
            raise UsageError("'@' needs a file name after it: @notes.txt reads notes.txt "
                             "(to write a lone @, pipe it in: echo @ | hw write - ...)")
        path = Path(text[1:]).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DataError(f"cannot read text from {path}: {getattr(error, 'strerror', None) or error}") from None
    return text.replace("\\n", "\n")


def output_kind(path: Path) -> str:
    """The kind of ink output `path` names, after checking it can be written (cli/outputs.py)."""
    from hwcli.cli.outputs import check_output

    return check_output(path, INK_OUTPUTS)


@app.command()
@error_boundary
def write(
    text: Annotated[str, typer.Argument(help="The text; '-' reads stdin, '@FILE' reads a file. Newlines start new lines.")],
    output: Annotated[list[Path], typer.Option("-o", "--output", help="Output file(s): .svg, .json or .inkml; repeat for several.")],
    model: Annotated[Optional[str], typer.Option(help="Model name or .pt file \\[default: the shipped model].", show_default=False)] = None,
    bias: Annotated[Optional[float], ranged("bias", help=f"Sampling bias b >= 0: higher is neater (paper section 5.4) \\[default: {config.DEFAULT_BIAS}, or {config.DEFAULT_STYLE_BIAS} with a style of your own ink, where it reads better].", rich_help_panel=SAMPLING, show_default=False)] = None,
    seed: Annotated[Optional[int], ranged("seed", help="Seed for reproducible ink \\[default: fresh ink each run].", rich_help_panel=SAMPLING, show_default=False)] = None,
    candidates: Annotated[int, ranged("candidates", help="Sample each line this many times and keep the one whose pace over its letters is most usual: fewer garbled words. 1 samples once, as the paper; two give no choice.", rich_help_panel=SAMPLING)] = config.DEFAULT_CANDIDATES,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse characters the model lacks instead of substituting (é -> e) or drawing them from the glyph font (Q & £ € °).", rich_help_panel=SAMPLING)] = False,
    style: Annotated[Optional[str], typer.Option(help="A style by name (yours or built-in: `hw styles list`), a .json/.inkml/.svg file of your handwriting (a line, or several one under the other), line:ID, or none (unprimed); default: the model's own style, if it names one.", rich_help_panel=STYLE)] = None,
    style_text: Annotated[Optional[str], typer.Option(help="The words the style ink shows (when its file has no text).", rich_help_panel=STYLE)] = None,
    match: Annotated[bool, typer.Option("--match/--no-match", help="With a style of your own ink: give the writing its slant, word spacing and how often it lifts the pen, and bring its letter width and ascender and descender reach toward the ink's (halfway from one line), measured on the ink (built-in styles are written as the model writes them); --no-match leaves the model's.", rich_help_panel=STYLE)] = True,
    width: Annotated[int, ranged("width", help="Wrap lines at this many characters.", rich_help_panel=PAGE)] = config.DEFAULT_WIDTH,
    line_spacing: Annotated[float, ranged("line_spacing", help="Baseline to baseline, in line heights.", rich_help_panel=PAGE)] = config.DEFAULT_LINE_SPACING,
    margin: Annotated[Optional[float], ranged("margin", help=f"Space around the ink, in letter sizes \\[default: {config.DEFAULT_MARGIN_LETTERS:g}].", rich_help_panel=PAGE, show_default=False)] = None,
    stroke_width: Annotated[Optional[float], ranged("stroke_width", help="Pen width in ink units \\[default: from the letter size].", rich_help_panel=PAGE, show_default=False)] = None,
    color: Annotated[str, typer.Option(help="Ink colour (any SVG colour).", rich_help_panel=PAGE)] = config.DEFAULT_COLOR,
    page_width: Annotated[Optional[float], ranged("page_width", help="Physical width of the SVG in mm \\[default: none, a screen size].", rich_help_panel=PAGE, show_default=False)] = None,
    animate: Annotated[bool, typer.Option("--animate", help="Draw the strokes in writing order (SVG/CSS animation).", rich_help_panel=PAGE)] = False,
) -> None:
    """Write TEXT as handwriting: an SVG picture and/or the strokes.

    Example: [bold]hw write "Good morning" -o out.svg[/bold]
    """
    from rich.console import Console

    from hwcli.errors import UsageError
    from hwcli.generate.page import write_page

    console = Console(stderr=True)
    kinds = [output_kind(path) for path in output]  # every output checked before any sampling
    text = read_text(text)
    if not text.strip():
        raise UsageError("nothing to write: the text is empty")
    network, notes = load_model(model, "synthesis")
    try:
        page = write_page(text, model=network, bias=bias, seed=seed, style=style, style_text=style_text,
                          width=width, line_spacing=line_spacing, substitute=not strict, match_style=match,
                          candidates=candidates)
    except UsageError as error:  # "this model cannot write ...": say which model file
        if str(error).startswith("this model") and network.path is not None:
            raise UsageError(str(error).replace("this model", f"the model {network.path}", 1)) from None
        raise
    print_notes(console, substitution_notes(page.substitutions))
    if page.glyphs:  # one line: what came from the glyph font, not the model
        console.print(f"note: drew {' '.join(page.glyphs)} from the glyph font (the model has no such characters)",
                      highlight=False, markup=False)
    if page.redrawn:
        console.print(f"note: drew {' '.join(page.redrawn)} from the glyph font too (the model's ink for them was a mere dot)",
                      highlight=False, markup=False)
    if page.style_mismatch:
        console.print(f"note: {page.style_mismatch}: do the style's ink and its text match?", highlight=False)
    for path, kind in zip(output, kinds):
        page.save(path, kind, stroke_width=stroke_width, color=color, page_width_mm=page_width, animate=animate,
                  margin_letters=margin)
        console.print(f"wrote {path}", highlight=False)
    print_notes(console, notes)
