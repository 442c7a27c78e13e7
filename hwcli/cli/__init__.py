"""The `hw` command line: a Typer app, one small module per command, one error boundary.

Heavy modules (torch, numpy) are imported inside command bodies so that
`hw --help` stays instant.
"""

from __future__ import annotations

import functools
import os
import sys
from contextlib import contextmanager
from typing import Annotated, Optional

# Sampling steps are tiny products (batch 1 to a page of lines): spread over threads, they spin
# and collapse when another program holds a core (docs/performance.md, "Under load"). One thread
# for numpy's BLAS and OpenMP unless the user says otherwise; set before numpy or torch is first
# imported. `hw train` sets torch's own thread count (cli/train.py).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import typer  # noqa: E402
from typer.core import TyperGroup, TyperOption  # noqa: E402

from hwcli import __version__  # noqa: E402
from hwcli import config  # noqa: E402
from hwcli.errors import HwError, UsageError  # noqa: E402


def fail(message: str, code: int = 1):
    """One red line on stderr, then exit: how every user error ends."""
    from rich.markup import escape

    message = " ".join(line.strip() for line in message.strip().splitlines() if line.strip())
    print_error(escape(message))
    raise typer.Exit(code)


class Signals:
    """Ctrl-C and SIGTERM both raise KeyboardInterrupt inside a command (so `finally` blocks run,
    atomic writes clean up and training saves); `received` remembers which came, for the exit
    code: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as shells report."""

    received: int | None = None

    @classmethod
    def handler(cls, signum, frame):
        cls.received = signum
        raise KeyboardInterrupt

    @classmethod
    @contextmanager
    def caught(cls):
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            yield
            return
        cls.received = None
        previous = {sig: signal.signal(sig, cls.handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @classmethod
    def exit_code(cls) -> int:
        import signal

        return 128 + (cls.received or signal.SIGINT)


def error_boundary(command):
    """Decorate every command: HwError -> one line and exit 1 (2 for usage errors);
    a bug -> one line too, unless HW_DEBUG=1; Ctrl-C / SIGTERM -> exit 130 / 143."""

    @functools.wraps(command)
    def guarded(*args, **kwargs):
        try:
            with Signals.caught():
                from hwcli import paths

                paths.check_home()  # HW_HOME naming a file: one clear line in every command
                return command(*args, **kwargs)
        except UsageError as error:
            fail(str(error), 2)
        except HwError as error:
            fail(str(error))
        except KeyboardInterrupt:
            code = Signals.exit_code()
            fail("terminated" if code == 143 else "interrupted", code)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as error:
            if os.environ.get("HW_DEBUG") == "1":
                raise
            fail(f"internal error: {type(error).__name__}: {error} (rerun with HW_DEBUG=1 for the traceback)")

    return guarded


def print_error(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True, markup=True)


class OneLineErrors(TyperGroup):
    """Usage errors found while parsing (a value out of range, an unknown option) as one
    `error:` line and exit 2, like the errors the commands raise, instead of a panel."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from typer._click.exceptions import ClickException

        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickException as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # `hw` alone: the help, as typer shows it
                return super().main(args, prog_name, complete_var, standalone_mode=True, **extra)
            from rich.markup import escape

            print_error(escape(error.format_message().replace("\n", " ")))
            sys.exit(error.exit_code)
        except typer.Abort:
            print_error("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def load_model(name: str | None, kind: str):
    """The model a command uses, and the lines to print once it has succeeded: which file it
    is when it is not a shipped one, and why a model of the same name was passed over. (After
    the work, so an error stays the only line.)"""
    from hwcli.models import store

    entry = store.find(store.DEFAULT_MODELS[kind] if name is None else name)
    model = store.load(name, kind)  # finds the same entry
    notes = [f"note: {entry.note}"] if entry.note else []
    if not entry.shipped:
        notes.append(f"model: {entry.path}")
    return model, notes


def substitution_notes(substitutions: dict) -> list[str]:
    """One note per character written as another (hw write and hw inspect alike)."""
    return [f"note: wrote {old!r} as {new!r} (the model has no {old!r})" for old, new in substitutions.items()]


def print_notes(console, notes: list[str]) -> None:
    for note in notes:
        console.print(note, highlight=False, soft_wrap=True, markup=False)


def _flag_type(option, ctx):
    """No `<bool>` beside an on/off flag in --help: the flag itself is the value."""
    if getattr(option, "is_flag", False) and option.metavar is None:
        return None
    return _display_type_rich(option, ctx)


# A private hook of typer's rich help (typer 0.16 and later, but not every release has it): where
# it is missing, flags keep their `<bool>` in --help and nothing else changes.
_display_type_rich = getattr(TyperOption, "display_type_rich", None)
if _display_type_rich is not None:
    TyperOption.display_type_rich = _flag_type


class RangeError(typer.BadParameter):
    """A value outside its range: the message says it all (`--bias must be ..., not nan`)."""

    def format_message(self) -> str:
        return self.message


def _range_callback(name: str):
    def check(value):
        if value is None:
            return value
        for item in value if isinstance(value, (list, tuple)) else (value,):
            try:
                config.check(name, item, flag=True)
            except UsageError as error:
                raise RangeError(str(error)) from None
        return value

    return check


def ranged(name: str, *param_decls: str, help: str = "", **kwargs):
    """typer.Option for the numeric parameter `name` of hwcli.config.RANGES: its range in the help
    and checked while parsing, NaN and infinities included (click's FloatRange lets NaN through),
    so a bad value is one usage-error line (exit 2) before any work."""
    spec = config.RANGES[name]
    return typer.Option(*param_decls, help=f"{help} \\[range: {spec.short()}]", callback=_range_callback(name),
                        **kwargs)


app = typer.Typer(
    name="hw",
    cls=OneLineErrors,
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
from hwcli.cli import preprocess, train, sample, write, inspect, models, export, styles  # noqa: E402,F401  # isort: skip


def main() -> None:
    app()
