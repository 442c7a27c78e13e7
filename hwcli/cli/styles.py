"""`hw styles`: the user's style library (hwcli/generate/library.py) and the capture page."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli.cli import app, error_boundary, fail

styles_app = typer.Typer(
    name="styles",
    no_args_is_help=True,
    rich_markup_mode="rich",
    help="Your own handwriting styles: list, add from ink files, capture in the browser, remove.",
)
app.add_typer(styles_app, name="styles")


@styles_app.command("list")
@error_boundary
def list_styles(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON list on stdout instead of a table.")] = False,
) -> None:
    """List the styles `hw write --style NAME` takes: yours (the library) and the built-in ones.

    Example: [bold]hw styles list[/bold]
    """
    import json

    from rich.console import Console
    from rich.table import Table

    from hwcli import paths
    from hwcli.generate import library

    rows = library.entries()
    if json_output:
        typer.echo(json.dumps([row.as_dict() for row in rows], indent=1))
        return
    console = Console()
    table = Table("name", "kind", "lines", "text")
    for row in rows:
        kind = row.kind + (" (hidden by yours)" if row.shadowed else "")
        text = row.error or " / ".join(row.text.splitlines())
        table.add_row(row.name, kind, "" if row.error else str(row.lines),
                      text if len(text) <= 60 else text[:57] + "...")
    console.print(table)
    if not any(row.kind == "library" for row in rows):
        console.print(f"your library ({paths.styles_library_dir()}) is empty: add a style with "
                      "`hw styles add NAME FILE` or `hw styles capture NAME`", highlight=False)


@styles_app.command("add")
@error_boundary
def add(
    name: Annotated[str, typer.Argument(help="The style's name: letters, digits, '-', '_', '.'.")],
    files: Annotated[list[Path], typer.Argument(help="Ink file(s) of your handwriting: .json, .inkml or .svg; one line of ink each, or several lines in one file.", show_default=False)],
    text: Annotated[Optional[list[str]], typer.Option("--text", help="The words the ink shows (one per file, in order); default: the file's own text. '\\n' separates lines.", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a style of yours of the same name.")] = False,
) -> None:
    """Add a style to your library from ink files (JSON, InkML, or SVG from a drawing app).

    Example: [bold]hw styles add mine my_hand.svg --text "the quick brown fox"[/bold]
    """
    from rich.console import Console

    from hwcli.generate import library

    path = library.add_files(name, files, text, force)
    _done(Console(stderr=True), name, path)


@styles_app.command("remove")
@error_boundary
def remove(
    name: Annotated[str, typer.Argument(help="A style of yours (`hw styles list`).")],
) -> None:
    """Remove a style from your library (built-in styles stay).

    Example: [bold]hw styles remove mine[/bold]
    """
    from rich.console import Console

    from hwcli.generate import library

    path = library.remove(name)
    Console(stderr=True).print(f"removed style {name!r} ({path})", highlight=False)


@styles_app.command("capture")
@error_boundary
def capture(
    name: Annotated[str, typer.Argument(help="The style's name: letters, digits, '-', '_', '.'.")],
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to serve on; 0 picks a free one.")] = 0,
    host: Annotated[str, typer.Option(help="Address to serve on: this machine only, unless --allow-remote.")] = "127.0.0.1",
    sentences: Annotated[int, typer.Option(min=1, max=10, help="How many sentences the page asks for.")] = 3,
    force: Annotated[bool, typer.Option("--force", help="Replace a style of yours of the same name.")] = False,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="Allow a --host other machines can reach (a tablet on your network).")] = False,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
) -> None:
    """Write in the browser (pen, touch or mouse) and save it as a style.

    Serves a page on this machine until you press Save there (or Ctrl-C here).

    Example: [bold]hw styles capture mine[/bold]
    """
    from rich.console import Console

    from hwcli.generate.capture import CaptureSession

    console = Console(stderr=True)
    session = CaptureSession(name, sentences, host=host, port=port, force=force, allow_remote=allow_remote)
    try:
        session.start()
        print(session.url, flush=True)  # stdout: the address alone, for scripts
        console.print(f"write {sentences} sentence{'s' * (sentences > 1)} at {session.url} and press Save "
                      "(Ctrl-C stops, nothing saved)", highlight=False)
        if open_browser:
            import webbrowser

            webbrowser.open(session.url)
        outcome = session.wait()
    except KeyboardInterrupt:  # Ctrl-C (130) or SIGTERM (143): the server stops, nothing saved
        from hwcli.cli import Signals

        fail("capture stopped; nothing saved", Signals.exit_code())
    finally:
        session.close()
    if outcome is None or outcome.kind != "saved":
        fail("the capture page was closed before Save; nothing saved "
             f"(run `hw styles capture {name}` again)")
    _done(console, name, outcome.path)


def _done(console, name: str, path: Path) -> None:
    from hwcli.generate import library

    lines = library.read_style(path).lines
    console.print(f"saved style {name!r} ({len(lines)} line{'s' * (len(lines) > 1)}) to {path}", highlight=False)
    console.print(f'use it: hw write "Good morning" -o out.svg --style {name}', highlight=False)
    sys.stderr.flush()
