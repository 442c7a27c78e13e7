"""The `hw` command line: a Typer app, one small module per command, one error boundary.

Heavy modules (torch, numpy) are imported inside command bodies so that
`hw --help` stays instant.
"""

from __future__ import annotations

import functools
import os
from typing import Annotated, Optional

import typer

from hwcli import __version__
from hwcli.errors import HwError, UsageError


def fail(message: str, code: int = 1):
    """One red line on stderr, then exit: how every user error ends."""
    from rich.console import Console

    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def error_boundary(command):
    """Decorate every command: HwError -> one line and exit 1 (2 for usage errors);
    a bug -> one line too, unless HW_DEBUG=1."""

    @functools.wraps(command)
    def guarded(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UsageError as error:
            fail(str(error), 2)
        except HwError as error:
            fail(str(error))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as error:
            if os.environ.get("HW_DEBUG") == "1":
                raise
            fail(f"internal error: {type(error).__name__}: {error} (rerun with HW_DEBUG=1 for the traceback)")

    return guarded


app = typer.Typer(
    name="hw",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hw {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
) -> None:
    """Handwriting from text, after A. Graves, Generating Sequences With Recurrent Neural Networks (2013).

    Example: [bold]hw write "Good morning" -o out.svg[/bold]
    """


# Each module adds its command to `app` on import; the order here is the order in `hw --help`.
from hwcli.cli import preprocess, train, sample, write, inspect, models  # noqa: E402,F401  # isort: skip


def main() -> None:
    app()
