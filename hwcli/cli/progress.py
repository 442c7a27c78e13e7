"""Progress for long commands: a rich bar on stderr fed by library callbacks."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)
# Without a terminal (a log file), one line every this many training steps.
LOG_EVERY = 25


class TrainingReporter:
    """The `callback(event, **data)` of hwcli.training: a bar per epoch and a line per epoch."""

    def __init__(self, notes: list[str] | None = None):
        self.notes = notes or []  # printed when the run starts (after its checkpoint and data were read)

    def __enter__(self):
        from hwcli.training.distributed import world

        self.quiet = world()[0] != 0  # only rank 0 reports under torchrun
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.3f}  {task.fields[speed]:,.0f} steps/s"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=self.quiet,
        )
        self.started = False  # the bar starts with the first epoch: an error before it is one line
        self.task = None
        self.steps = 0
        return self

    def __exit__(self, *exc):
        if self.started:
            self.progress.__exit__(*exc)

    def __call__(self, event: str, **data) -> None:
        if self.quiet:
            return
        if event == "epoch_start" and not self.started:
            self.progress.__enter__()
            self.started = True
        if event == "start":
            for note in self.notes:
                console.print(note, highlight=False, soft_wrap=True, markup=False)
            console.print(
                f"training {data['kind']} ({data['parameters']:,} weights) on {data['device']}"
                f"{' x' + str(data['world_size']) if data['world_size'] > 1 else ''}: "
                f"{data['train_lines']:,} lines, {data['valid_lines']:,} for validation -> {data['model_dir']}",
                highlight=False, soft_wrap=True,
            )
        elif event == "epoch_start":
            if self.task is not None:
                self.progress.remove_task(self.task)
            self.task = self.progress.add_task("", total=data["batches"], completed=data["done"],
                                               epoch=data["epoch"] + 1, loss=float("nan"), speed=0.0)
        elif event == "step":
            self.progress.update(self.task, advance=1, loss=data["loss"], speed=data["steps_per_second"])
            self.steps += 1
            if not console.is_terminal and self.steps % LOG_EVERY == 0:  # a log file gets a line now and then
                task = self.progress.tasks[-1]
                console.print(f"step {self.steps}: batch {task.completed:.0f}/{task.total:.0f}, "
                              f"loss {data['loss']:.3f}, {data['steps_per_second']:,.0f} steps/s")
        elif event == "epoch_end":
            mark = "  (best)" if data["improved"] else ""
            console.print(
                f"epoch {data['epoch']}: validation {data['nats_per_line']:.1f} nats/line, "
                f"{data['nats_per_step']:.4f} nats/step{mark}"
            )

    def finish(self, summary: dict) -> None:
        if self.quiet:
            return
        status = summary["status"]
        if status == "interrupted":
            console.print(f"interrupted: state saved in {summary['model_dir']}; continue with --resume",
                          highlight=False, soft_wrap=True)
        else:
            console.print(f"{status}: {summary['epochs']} epochs, {summary['steps']} steps, "
                          f"{summary['skipped']} skipped batches; model in {summary['model_dir']}",
                          highlight=False, soft_wrap=True)
