"""`hw models`: the models in the cache and in the package."""

from __future__ import annotations

from typing import Annotated

import typer

from hwcli.cli import app, error_boundary


def shown_alphabet(chars: str) -> str:
    """A model's characters for people: runs as ranges (a-z, 0-9), the rest one by one, `space`
    for the space."""
    codes = sorted({ord(c) for c in chars if c != " "})
    parts, i = [], 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1 and chr(codes[j + 1]).isalnum() == chr(codes[i]).isalnum():
            j += 1
        if j - i >= 2 and chr(codes[i]).isalnum():
            parts.append(f"{chr(codes[i])}-{chr(codes[j])}")
        else:
            parts.extend(chr(c) for c in codes[i:j + 1])
        i = j + 1
    if " " in chars:
        parts.append("space")
    return " ".join(parts) if parts else "nothing"


@app.command()
@error_boundary
def models(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON list on stdout instead of a table.")] = False,
) -> None:
    """List the models (name, kind, size, epochs, best validation loss, path) and the built-in styles.

    Example: [bold]hw models[/bold]
    """
    import json
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from hwcli import paths
    from hwcli.errors import ModelError
    from hwcli.models import checkpoint, store

    rows = []
    for entry in store.entries():
        try:
            row = {**asdict(checkpoint.summary(entry.path, entry.name)), "shipped": entry.shipped}
        except ModelError as error:
            rows.append({"name": entry.name, "kind": "unreadable", "error": str(error), "path": str(entry.path)})
            continue
        rows.append(row)
    if json_output:
        typer.echo(json.dumps(rows, indent=1))
        return
    console = Console()
    if not rows:
        console.print(f"no models in {paths.models_dir()}; train one with `hw train synthesis`")
        return
    # Paths and alphabets go below the table, each on its own line and never cut (a table
    # folds them to the width of the terminal, 80 columns in a pipe).
    table = Table("name", "kind", "size", "epochs", "validation (nats/line)")
    for row in rows:
        loss = row.get("best_validation")
        table.add_row(row["name"] + (" (shipped)" if row.get("shipped") else ""), row["kind"], row.get("size", ""),
                      "" if row.get("epochs") is None else str(row["epochs"]), "" if loss is None else f"{loss:.1f}")
    console.print(table)
    for row in rows:
        console.print(f"{row['name']}: {row['path']}", highlight=False, soft_wrap=True, markup=False)
        if row["kind"] == "synthesis":
            console.print(f"  writes: {shown_alphabet(row.get('alphabet') or '')}", highlight=False, soft_wrap=True,
                          markup=False)
        elif row["kind"] == "prediction":
            console.print("  writes: free ink, no text (hw sample)", highlight=False, soft_wrap=True)
        elif row.get("error"):
            console.print(f"  {row['error']}", highlight=False, soft_wrap=True, markup=False)
    for entry in store.unfinished():
        console.print(f"{entry.name}: {entry.path} {entry.note}", highlight=False, soft_wrap=True, markup=False)
    from hwcli.generate.library import builtin_names

    console.print(f"built-in styles (hw write --style NAME): {', '.join(builtin_names()) or 'none'}", highlight=False)
    from hwcli.generate.library import library_names

    console.print(f"your styles (hw styles list): {', '.join(library_names()) or 'none yet (hw styles add / capture)'}",
                  highlight=False)
    for row in rows:
        if row.get("default_style"):
            console.print(f"`{row['name']}` writes in style {row['default_style']!r} unless --style says otherwise"
                          " (--style none: unprimed)", highlight=False, soft_wrap=True)
