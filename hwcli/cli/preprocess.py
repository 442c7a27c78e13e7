"""`hw preprocess PATH`: a raw data set -> the dataset file that training reads."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli.cli import app, error_boundary, ranged

# The bar redraws at most this often: reading calls back once per line file.
REFRESH_SECONDS = 0.1


class Format(str, Enum):
    iamondb = "iamondb"
    svc2004 = "svc2004"


@app.command()
@error_boundary
def preprocess(
    path: Annotated[
        Path,
        typer.Argument(
            help="IAM-OnDB root (lineStrokes/ and ascii/, or lineStrokes-all.tar.gz and ascii-all.tar.gz), "
            "or an SVC2004 folder or zip.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", help="Dataset file to write. Default: iam-ondb.npz or svc2004.npz in the hw cache dir.",
            rich_help_panel="Output",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Kept for old scripts: an existing output file is always replaced.",
                           rich_help_panel="Output", hidden=True)
    ] = False,
    json_out: Annotated[
        bool,
        typer.Option("--json", help="Print the summary as one JSON object on stdout instead of a table.", rich_help_panel="Output"),
    ] = False,
    data_format: Annotated[
        Optional[Format],
        typer.Option("--format", help="Input format. Default: detected from PATH.", rich_help_panel="Input"),
    ] = None,
    all_signatures: Annotated[
        bool,
        typer.Option(
            "--all-signatures",
            help="SVC2004: keep the skilled forgeries (S21-S40) too, not only the genuine signatures.",
            rich_help_panel="Input",
        ),
    ] = False,
    workers: Annotated[
        int, ranged("workers", "--workers", help="Processes that parse line files.", rich_help_panel="Input")
    ] = 2,
) -> None:
    """Read a handwriting data set, clean and split it, and write one dataset file.

    Lines are paired with their text, recording errors are repaired, the
    split follows training_set.txt / validation_set.txt when PATH holds them
    (else by form), and offsets are normalised by the training lines.

    Example: [bold]hw preprocess ~/data/iam-ondb[/bold]
    """
    import json
    import time

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from hwcli.cli.outputs import check_output
    from hwcli.data.preprocess import preprocess as run_preprocess

    if output is not None:
        check_output(output, ("npz",))  # before reading anything: the folder exists, the name is *.npz
    console = Console(stderr=True)
    # No refresh thread (auto_refresh=False): reading forks worker processes,
    # and forking while another thread holds a lock is unsafe.
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
        disable=not console.is_interactive,  # a non-interactive rich bar still prints a blank line
    )
    task = bar.add_task("starting", total=None)
    last_refresh = [0.0]

    def on_progress(stage: str, done: int, total: int | None) -> None:
        bar.update(task, description=stage, completed=done, total=total)
        now = time.monotonic()
        if now - last_refresh[0] >= REFRESH_SECONDS:
            last_refresh[0] = now
            bar.refresh()

    with bar:
        summary = run_preprocess(
            path,
            output,
            fmt=data_format.value if data_format else None,
            force=True,  # one policy for every command: an existing output is replaced (docs/user-guide.md)
            workers=workers,
            all_signatures=all_signatures,
            progress=on_progress,
        )
    for warning in summary["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
    if json_out:
        typer.echo(json.dumps(summary))
        return
    console.print(_table(summary))
    console.print(f"wrote {summary['output']}", highlight=False, soft_wrap=True)


def _table(summary: dict):
    from rich.table import Table

    table = Table(title="hw preprocess", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    unit = "signatures" if summary["format"] == "svc2004" else "lines"
    table.add_row("input", f"{summary['input']} ({summary['format']}, {summary['read_from']})")
    table.add_row(f"{unit} read", f"{summary['lines_read']:,}")
    table.add_row(f"{unit} kept", f"{summary['kept']:,}")
    for reason, count in summary["dropped"].items():
        table.add_row(f"  dropped: {reason}", f"{count:,}")
    if summary.get("forgeries_left_out"):
        table.add_row("  forgeries left out (--all-signatures keeps them)", f"{summary['forgeries_left_out']:,}")
    table.add_row("recording errors repaired", f"{summary['repairs']:,}")
    table.add_row("points", f"{summary['points']:,}")
    table.add_row("split", summary["split"])
    table.add_row("  training", f"{summary['train_lines']:,}")
    table.add_row("  validation", f"{summary['validation_lines']:,}")
    classes = summary["alphabet_classes"]
    table.add_row("alphabet", f"{summary['alphabet_size']} characters, {classes} class{'es' if classes != 1 else ''}")
    table.add_row("warnings", f"{len(summary['warnings'])}")
    table.add_row("output", summary["output"])
    size = summary["output_bytes"]
    table.add_row("size", f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB")
    table.add_row("time", f"{summary['seconds']:.1f} s")
    return table
