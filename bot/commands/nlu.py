"""`vrijwilligerskracht nlu train|parse|eval`: the language understanding from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.nlu.evaluate import EvalReport
    from bot.nlu.model import NluModel

app = typer.Typer(help="Train, run and evaluate the language understanding.", no_args_is_help=True)
console = Console(stderr=True)

BACKENDS = ("spacy", "rasa")
DEFAULT_RASA_URL = "http://127.0.0.1:5005"


def _settings() -> Settings:
    from bot.config import get_settings

    return get_settings()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(1)


def _train(data: Path, out: Path, architecture: str | None = None) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.nlu.textcat import DEFAULT_ARCHITECTURE
    from bot.nlu.training import train_model

    with Progress(
        TextColumn("[bold]training {task.description}"),
        BarColumn(),
        TextColumn("epoch {task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        tasks: dict[str, Any] = {}

        def step(lang: str, done: int, total: int) -> None:
            if lang not in tasks:
                tasks[lang] = progress.add_task(lang, total=total)
            progress.update(tasks[lang], completed=done)

        meta = train_model(data, out, architecture or DEFAULT_ARCHITECTURE, progress=step)
    console.print(
        f"[green]Trained[/green] {meta.architecture} intent classifier for "
        f"{', '.join(meta.languages)} on {meta.examples} examples, {len(meta.intents)} intents, "
        f"in {meta.seconds:.1f} s -> {out}"
    )


def _load_model(settings: Settings, data: Path | None = None) -> NluModel:
    from bot.nlu.model import NluModel
    from bot.nlu.training import is_stale

    root = data or Path(settings.nlu_data_dir)
    model_dir = Path(settings.model_dir)
    if is_stale(root, model_dir):
        _train(root, model_dir)
    return NluModel.load(model_dir)


@app.command("train")
def train(
    data: Path = typer.Option(None, help="nlu_data folder (default: VK_NLU_DATA_DIR)"),
    out: Path = typer.Option(None, help="model folder (default: VK_MODEL_DIR)"),
    architecture: str = typer.Option(None, "--arch", help="bow, bow2, subword, cnn, ensemble"),
) -> None:
    """Train the embedded spaCy NLU from nlu_data/train (seconds; nothing is downloaded)."""
    from bot.nlu.data import NluDataError
    from bot.nlu.textcat import ARCHITECTURES

    settings = _settings()
    if architecture and architecture not in ARCHITECTURES:
        raise _fail(
            f"Unknown architecture {architecture!r}; choose from {', '.join(ARCHITECTURES)}"
        )
    root = data or Path(settings.nlu_data_dir)
    if not root.is_dir():
        raise _fail(f"No training data folder at {root}")
    try:
        _train(root, out or Path(settings.model_dir), architecture)
    except (NluDataError, ValueError) as exc:
        raise _fail(str(exc)) from exc


def _rasa_url(settings: Settings, url: str | None) -> str:
    return url or settings.rasa_url or DEFAULT_RASA_URL


@app.command("parse")
def parse(
    lang: str = typer.Option(None, help="language hint for lines without one"),
    backend: str = typer.Option("spacy", help="spacy (embedded) or rasa"),
    rasa_url: str = typer.Option(
        None, help=f"Rasa server (default VK_RASA_URL or {DEFAULT_RASA_URL})"
    ),
) -> None:
    """JSON Lines on stdin ({"text", "lang"?, "options"?}) -> one parse result per line."""
    from bot.nlu.options import specs_from_dicts

    if backend not in BACKENDS:
        raise _fail(f"Unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    settings = _settings()
    model = _load_model(settings)
    client = None
    if backend == "rasa":
        from bot.nlu.rasa_client import RasaClient

        client = RasaClient(_rasa_url(settings, rasa_url), model.entities.vocabulary, model.matcher)
    failures = 0
    for lineno, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if isinstance(item, str):
                item = {"text": item}
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError('each line must be a JSON object with a "text" string')
            options = specs_from_dicts(item.get("options") or [])
            line_lang = item.get("lang") or lang
            if client is not None:
                result = client.parse_sync(item["text"], line_lang, options)
            else:
                result = model.parse(item["text"], line_lang, options)
        except Exception as exc:
            failures += 1
            result = {"error": f"line {lineno}: {exc}"}
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if client is not None:
        client.close()
    if failures:
        raise typer.Exit(1)


@app.command("eval")
def evaluate_command(
    backend: str = typer.Option("spacy", help="spacy (embedded) or rasa"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    data: Path = typer.Option(None, help="nlu_data folder (its test/ split is evaluated)"),
    rasa_url: str = typer.Option(
        None, help=f"Rasa server (default VK_RASA_URL or {DEFAULT_RASA_URL})"
    ),
    errors: bool = typer.Option(False, "--errors", help="list the misclassified examples"),
) -> None:
    """Per-intent precision/recall/F1, confusion table, entity F1 and parses per second on the
    held-out split (nlu_data/test), which training never sees."""
    from bot.nlu.data import load_nlu_data
    from bot.nlu.evaluate import evaluate
    from bot.nlu.training import heldout_split, train_split

    if backend not in BACKENDS:
        raise _fail(f"Unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    settings = _settings()
    root = data or Path(settings.nlu_data_dir)
    if not heldout_split(root).is_dir():
        raise _fail(f"No held-out split at {heldout_split(root)}")
    train_data = load_nlu_data([train_split(root)])
    test = load_nlu_data([heldout_split(root)], synonyms=train_data.synonyms)
    model = _load_model(settings, root)
    if backend == "rasa":
        from bot.nlu.rasa_client import RasaClient, RasaError

        url = _rasa_url(settings, rasa_url)
        client = RasaClient(url, model.entities.vocabulary, model.matcher, timeout=30.0)
        try:
            client.parse_sync("hallo")
            report = evaluate(
                lambda text, lang: client.parse_sync(text, lang), test.examples, "rasa"
            )
        except RasaError as exc:
            raise _fail(f"{exc}\nStart Rasa with `make rasa` (or pass --rasa-url).") from exc
        finally:
            client.close()
    else:
        report = evaluate(lambda text, lang: model.parse(text, lang), test.examples, "spacy")
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
        return
    _print_report(report, errors)


def _print_report(report: EvalReport, show_errors: bool) -> None:
    from rich.table import Table

    out = Console(width=max(Console().width, 120))
    out.print(
        f"[bold]{report.backend}[/bold] on {report.examples} held-out examples: "
        f"accuracy [bold]{report.accuracy:.3f}[/bold], "
        f"macro-F1 [bold]{report.macro_f1:.3f}[/bold], "
        f"entity F1 [bold]{report.entity_f1:.3f}[/bold], "
        f"[bold]{report.parses_per_second:.0f}[/bold] parses/s"
    )
    by_lang = ", ".join(f"{k} {v:.3f}" for k, v in report.by_language.items())
    out.print(f"accuracy by language: {by_lang}")
    table = Table(title="Intents")
    for col in ("intent", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "intent" else "right")
    for name, s in report.intents.items():
        table.add_row(name, f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}", str(s.support))
    out.print(table)
    labels = list(report.intents)
    predicted = labels + sorted({p for row in report.confusion.values() for p in row} - set(labels))
    confusion = Table(title="Confusion (rows: expected, columns: predicted, numbered as the rows)")
    confusion.add_column("expected")
    for i, _ in enumerate(predicted, start=1):
        confusion.add_column(str(i), justify="right")
    for i, gold in enumerate(labels, start=1):
        row = report.confusion.get(gold, {})
        cells = []
        for p in predicted:
            n = row.get(p, 0)
            if n == 0:
                cells.append("")
            else:
                cells.append(f"[green]{n}[/green]" if p == gold else f"[red]{n}[/red]")
        confusion.add_row(f"{i} {gold}", *cells)
    out.print(confusion)
    ents = Table(title="Entities (entity, value) pairs")
    for col in ("entity", "precision", "recall", "F1", "support"):
        ents.add_column(col, justify="left" if col == "entity" else "right")
    for name, s in report.entities.items():
        ents.add_row(name, f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}", str(s.support))
    out.print(ents)
    if show_errors:
        for e in report.errors:
            out.print(f"[red]{e['expected']} -> {e['predicted']}[/red] ({e['lang']}) {e['text']!r}")
