"""`hw models`: the models in the cache and in the package."""

from __future__ import annotations

from typing import Annotated

import typer

from hwcli.cli import app, error_boundary


@app.command()
@error_boundary
def models(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON list on stdout instead of a table.")] = False,
) -> None:
    """List the models (name, kind, size, epochs, best validation loss, path) and the built-in styles.

    Example: [bold]hw models[/bold]
    """
    import json

    from rich.console import Console
    from rich.table import Table

    from hwcli import paths
    from hwcli.errors import ModelError
    from hwcli.models import checkpoint, store

    rows = []
    for entry in store.entries():
        try:
            ckpt = checkpoint.read(entry.path)
            info, config = ckpt.get("info") or {}, ckpt["config"]
            weights = sum(t.numel() for t in ckpt["state_dict"].values())
            row = {
                "name": entry.name, "kind": ckpt["kind"], "shipped": entry.shipped,
                "size": f"{config['layers']}x{config['hidden']}", "weights": weights,
                "epochs": info.get("epochs"), "best_validation": info.get("best_validation"),
                "path": str(entry.path), "bytes": entry.path.stat().st_size,
                "default_style": info.get("default_style"),
            }
        except ModelError as error:
            rows.append({"name": entry.name, "kind": "unreadable", "error": str(error), "path": str(entry.path)})
            continue
        except (KeyError, TypeError, AttributeError) as error:  # our format, but parts missing or mistyped
            rows.append({"name": entry.name, "kind": "unreadable", "path": str(entry.path),
                         "error": f"{entry.path} is an incomplete hw checkpoint ({type(error).__name__}: {error})"})
            continue
        rows.append(row)
    if json_output:
        typer.echo(json.dumps(rows, indent=1))
        return
    console = Console()
    if not rows:
        console.print(f"no models in {paths.models_dir()}; train one with `hw train synthesis`")
        return
    table = Table("name", "kind", "size", "epochs", "validation (nats/line)", "path")
    for row in rows:
        loss = row.get("best_validation")
        table.add_row(row["name"] + (" (shipped)" if row.get("shipped") else ""), row["kind"], row.get("size", ""),
                      "" if row.get("epochs") is None else str(row["epochs"]), "" if loss is None else f"{loss:.1f}", row["path"])
    console.print(table)
    from hwcli.generate.priming import builtin_names

    console.print(f"built-in styles (hw write --style NAME): {', '.join(builtin_names()) or 'none'}", highlight=False)
    for row in rows:
        if row.get("default_style"):
            console.print(f"`{row['name']}` writes in style {row['default_style']!r} unless --style says otherwise"
                          " (--style none: unprimed)", highlight=False)
