"""``student-success``: the command line. A thin shell over the library; errors are one clear line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from student_success.cli import accounts as accounts_cli
from student_success.cli import notifications as notifications_cli
from student_success.cli import ops as ops_cli
from student_success.cli import privacy as privacy_cli
from student_success.cli import schools as schools_cli
from student_success.config import Settings, get_settings, settings_problem
from student_success.errors import StudentSuccessError, ValidationFailed

app = typer.Typer(
    help="Student Success Prediction System: risk scores, explanations and interventions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="List, activate and roll back model versions.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(ops_cli.db_app, name="db")
app.add_typer(ops_cli.logs_app, name="logs")
app.add_typer(privacy_cli.app, name="privacy")
app.add_typer(accounts_cli.users_app, name="users")
app.add_typer(accounts_cli.keys_app, name="api-keys")
app.add_typer(schools_cli.app, name="schools")
app.add_typer(notifications_cli.app, name="notifications")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _run(func: Callable[[], T]) -> T:
    """Run library code; map domain errors to one line on stderr and exit code 1."""
    try:
        return func()
    except ValidationFailed as exc:
        if len(exc.errors) == 1:
            typer.echo(f"error: {exc.errors[0]}", err=True)
        else:  # one line per bad row, so every problem can be fixed in one pass
            typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except StudentSuccessError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        typer.echo(f"error: {exc.strerror}: {exc.filename}", err=True)
        raise typer.Exit(1) from None


def _settings(model_dir: Path | None = None) -> Settings:
    settings = get_settings()
    if model_dir is not None:
        settings = settings.model_copy(update={"models_dir": model_dir})
    return settings


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=False
    )


def _csv_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _train_command(data: Path, presentations: str, k12_data: Path | None, model_card: Path | None) -> str:
    """The command line that reproduces a training run (recorded in the model card)."""
    parts = ["student-success", "train", "--data", str(data), "--presentations", presentations]
    if k12_data is not None:
        parts += ["--k12-data", str(k12_data)]
    if model_card is not None:
        parts += ["--model-card", str(model_card)]
    return " ".join(parts)


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="OULAD folder (the official CSV tables).")],
    presentations: Annotated[str, typer.Option(help="Presentations to train on, comma-separated.")] = (
        "2013B,2013J,2014B"
    ),
    out_dir: Annotated[Path | None, typer.Option("--out", help="Model registry folder.")] = None,
    k12_data: Annotated[
        Path | None, typer.Option(help="UCI student performance folder: also train the K-12 variant.")
    ] = None,
    model_card: Annotated[Path | None, typer.Option(help="Write the model card (Markdown) here.")] = None,
    command: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Train the model variants, measure them on the held-out presentations, and activate them."""
    from student_success.ml.service import train_and_register

    settings = _settings(out_dir)
    with _progress() as bar:
        task = bar.add_task("training", total=None)

        def step(message: str) -> None:
            bar.update(task, description=message)

        version = _run(
            lambda: train_and_register(
                settings,
                data_dir=data,
                presentations=_csv_list(presentations) or [],
                k12_dir=k12_data,
                model_card=model_card,
                progress=step,
                command=command or _train_command(data, presentations, k12_data, model_card),
            )
        )
    out.print(f"trained and activated model version {version} in {settings.models_dir}")


@app.command("train-k12")
def train_k12_command(
    data: Annotated[
        Path, typer.Option(help="UCI student performance folder (student-mat.csv, student-por.csv).")
    ],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Model registry folder.")] = None,
    model_card: Annotated[Path | None, typer.Option(help="Write the model card (Markdown) here.")] = None,
) -> None:
    """Retrain only the K-12 variant (the other variants of the active version are kept)."""
    from student_success.ml.service import train_k12_and_register

    settings = _settings(out_dir)
    version = _run(lambda: train_k12_and_register(settings, data_dir=data, model_card=model_card))
    out.print(f"trained and activated model version {version} in {settings.models_dir}")


@app.command()
def predict(
    path: Annotated[Path, typer.Argument(help="OULAD folder or zip, Canvas export, generic or K-12 CSV.")],
    as_of_day: Annotated[int | None, typer.Option(help="Day of the term (days since it started).")] = None,
    presentations: Annotated[str | None, typer.Option(help="OULAD: only these presentations.")] = None,
    model: Annotated[Path | None, typer.Option(help="Model registry folder.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
    mapping: Annotated[Path | None, typer.Option(help="Generic CSV: JSON column mapping file.")] = None,
) -> None:
    """Score every student in a file or folder; one row per student (per enrolment for OULAD)."""
    from student_success.ml.service import predict_path, render_predictions

    if output_format not in ("csv", "json"):
        err.print("error: --format must be csv or json")
        raise typer.Exit(2)
    settings = _settings(model)
    batch = _run(
        lambda: predict_path(
            settings, path, as_of_day=as_of_day, presentations=_csv_list(presentations), mapping=mapping
        )
    )
    text = render_predictions(batch, output_format=output_format)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(
            f"{len(batch.predictions)} students scored with variant {batch.variant} "
            f"(model {batch.model_version}) → {output}"
        )
    else:
        sys.stdout.write(text)


@app.command()
def evaluate(
    data: Annotated[Path, typer.Option(help="OULAD folder.")],
    days: Annotated[str, typer.Option(help="Checkpoint days, comma-separated.")] = "30,60,90,120",
    model: Annotated[Path | None, typer.Option(help="Model registry folder.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Measure the active model on the presentations it was not trained on."""
    from student_success.ml.pipeline import evaluate_active
    from student_success.ml.registry import ModelRegistry

    settings = _settings(model)
    day_list = [int(d) for d in (_csv_list(days) or [])]
    result: dict[str, Any] = _run(
        lambda: evaluate_active(ModelRegistry(settings.models_dir), data, days=day_list)
    )
    if output_format == "json":
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    table = Table(title=f"model {result['model_version']} on {', '.join(result['test_presentations'])}")
    for col in (
        "variant",
        "day",
        "n",
        "ROC-AUC",
        "reference",
        "PR-AUC",
        "Brier",
        "F1",
        "recall@top30%",
        "macro-F1",
    ):
        table.add_column(col)
    for name, v in result["variants"].items():
        ref = v.get("reference_auc") or {}
        for day, m in v["days"].items():
            cells = [m["roc_auc"], ref.get(day), m["pr_auc"], m["brier"], m["f1"], m["recall_at_top_30pct"]]
            cells.append(m.get("multiclass_macro_f1"))
            table.add_row(name, day, str(m["n"]), *("—" if c is None else f"{c:.3f}" for c in cells))
    out.print(table)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT or 8001).")] = None,
) -> None:
    """Start the web UI and API (the same server as ``python3 run_mvp.py``)."""
    from student_success.api.server import run

    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    try:
        settings = get_settings()
    except ValidationError as exc:  # e.g. a default MVP_API_KEY outside development
        typer.echo(f"error: {settings_problem(exc)}", err=True)
        raise typer.Exit(1) from None
    run(settings.model_copy(update=overrides))


@models_app.command("list")
def models_list(model: Annotated[Path | None, typer.Option(help="Model registry folder.")] = None) -> None:
    """List stored model versions; the active one is marked."""
    from student_success.ml.registry import ModelRegistry

    versions = ModelRegistry(_settings(model).models_dir).versions()
    if not versions:
        out.print("no model versions stored")
        return
    for v in versions:
        mark = "*" if v["active"] else " "
        out.print(
            f"{mark} {v['version']}  trained {v['training_date']}  variants: {', '.join(v['variants'])}"
        )


@models_app.command("activate")
def models_activate(
    version: Annotated[str, typer.Argument(help="Version id, as `models list` shows it.")],
    model: Annotated[Path | None, typer.Option(help="Model registry folder.")] = None,
) -> None:
    """Make a stored version the active one (its files are verified first)."""
    from student_success.ml.registry import ModelRegistry

    _run(lambda: ModelRegistry(_settings(model).models_dir).activate(version))
    out.print(f"model version {version} is now active")


@models_app.command("rollback")
def models_rollback(
    model: Annotated[Path | None, typer.Option(help="Model registry folder.")] = None,
) -> None:
    """Re-activate the version that was active before the current one."""
    from student_success.ml.registry import ModelRegistry

    version = _run(lambda: ModelRegistry(_settings(model).models_dir).rollback())
    out.print(f"rolled back: model version {version} is now active")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
