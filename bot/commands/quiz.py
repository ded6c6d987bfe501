"""`vrijwilligerskracht quiz validate|profiles|simulate`: check, list and balance quiz content."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bot.content import CONTENT_DIR, DEFAULT_QUIZ, load_quiz_file, resolve_structure
from quiz.validate import ContentError, ContentInvalid

if TYPE_CHECKING:
    from quiz.model import Quiz

app = typer.Typer(help="quiz", no_args_is_help=True)

PATH_HELP = "A quiz structure file, one of its language files, or a folder of quizzes."


def _shown(file: str) -> str:
    """A file name relative to the working directory when it lies below it."""
    try:
        return str(Path(file).resolve().relative_to(Path.cwd()))
    except ValueError:
        return file


def _error_line(err: ContentError) -> str:
    return str(ContentError(_shown(err.file), err.path, err.message))


def _orphan_language_files(folder: Path) -> list[ContentError]:
    """`<quiz>.<lang>.yaml` files whose `<quiz>.yaml` is missing are never loaded: say so."""
    errors = []
    for path in sorted(folder.glob("*.yaml")):
        if path.stem.count(".") == 1:
            base = path.with_name(path.stem.split(".", 1)[0] + ".yaml")
            if not base.exists():
                errors.append(ContentError(str(path), "", f"no structure file {base.name} for it"))
    return errors


def _load_all(path: Path) -> tuple[list[Quiz], list[ContentError]]:
    quizzes: list[Quiz] = []
    errors: list[ContentError] = []
    if not path.exists():
        return [], [ContentError(str(path), "", "no such file or folder")]
    if path.is_dir():
        errors += _orphan_language_files(path)
    structures = resolve_structure(path)
    if not structures and not errors:
        errors.append(ContentError(str(path), "", "no quiz structure files (<quiz>.yaml) here"))
    for structure in structures:
        try:
            quizzes.append(load_quiz_file(structure))
        except ContentInvalid as exc:
            errors += exc.errors
    return quizzes, errors


def _load_one(path: Path | None) -> Quiz:
    """The quiz to list or simulate; a clear message and exit 1 if it does not load."""
    quizzes, errors = _load_all(path or CONTENT_DIR / f"{DEFAULT_QUIZ}.yaml")
    if errors or not quizzes:
        for err in errors:
            typer.echo(_error_line(err), err=True)
        raise typer.Exit(1)
    if len(quizzes) > 1:
        typer.echo(f"{path} holds {len(quizzes)} quizzes; name one structure file", err=True)
        raise typer.Exit(1)
    return quizzes[0]


def _summary(quiz: Quiz) -> dict[str, Any]:
    from quiz.simulate import estimated_seconds

    scored = len(quiz.scored_questions)
    return {
        "id": quiz.id,
        "version": quiz.version,
        "languages": list(quiz.languages),
        "profiles": len(quiz.profiles),
        "scored_questions": scored,
        "practical_questions": len(quiz.questions) - scored,
        "estimated_minutes": {
            lang: round(estimated_seconds(quiz, lang) / 60, 1) for lang in quiz.languages
        },
    }


@app.command("validate")
def validate(
    path: Path = typer.Argument(CONTENT_DIR, help=PATH_HELP, show_default="the shipped content"),
    as_json: bool = typer.Option(False, "--json", help="Print {ok, quizzes, errors} as JSON."),
    balance: bool = typer.Option(
        False, "--balance", help="Also require every profile to win 5-30 % of random answer sets."
    ),
) -> None:
    """Check quiz content; exit 1 listing every problem (file, path inside it, what is wrong)."""
    quizzes, errors = _load_all(path)
    if balance:
        from quiz.simulate import BALANCE_MAX, BALANCE_MIN, simulate

        for quiz in quizzes:
            sim = simulate(quiz, n=20_000)
            for pid, share in sim.out_of_range().items():
                errors.append(
                    ContentError(
                        f"quiz {quiz.id!r}",
                        f"profiles.{pid}",
                        f"wins {share:.1%} of random answer sets; "
                        f"allowed {BALANCE_MIN:.0%}-{BALANCE_MAX:.0%}",
                    )
                )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": not errors,
                    "quizzes": [_summary(q) for q in quizzes],
                    "errors": [
                        {"file": _shown(e.file), "path": e.path, "message": e.message}
                        for e in errors
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        raise typer.Exit(1 if errors else 0)
    for err in errors:
        typer.echo(_error_line(err), err=True)
    if errors:
        typer.echo(f"{len(errors)} problem(s) in {_shown(str(path))}", err=True)
        raise typer.Exit(1)
    for quiz in quizzes:
        s = _summary(quiz)
        typer.echo(
            f"OK {s['id']} v{s['version']}: {s['profiles']} profiles, "
            f"{s['scored_questions']} scored + {s['practical_questions']} practical questions, "
            f"languages {', '.join(s['languages'])}, "
            f"about {max(s['estimated_minutes'].values()):g} minutes a run"
        )


def profile_dicts(quiz: Quiz, lang: str) -> list[dict[str, Any]]:
    """The profiles in one language, with their signature (motives and activity affinities)."""
    return [
        {
            "id": p.id,
            "name": p.name[lang],
            "emoji": p.emoji,
            "tagline": p.tagline[lang],
            "description": p.description[lang],
            "strengths": list(p.strengths[lang]),
            "roles": list(p.roles[lang]),
            "motives": dict(p.motives),
            "activities": dict(p.activities),
        }
        for p in quiz.profiles
    ]


@app.command("profiles")
def profiles(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of profiles."),
    lang: str = typer.Option("nl", "--lang", help="Language of the texts: nl or en."),
    path: Path | None = typer.Option(None, "--path", help=PATH_HELP),
) -> None:
    """List the volunteer profiles with their motives and activity affinities."""
    quiz = _load_one(path)
    if lang not in quiz.languages:
        typer.echo(f"--lang must be one of {', '.join(quiz.languages)}", err=True)
        raise typer.Exit(2)
    items = profile_dicts(quiz, lang)
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{quiz.id}: profiles ({lang})")
    for column in ("id", "name", "tagline", "motives", "activities"):
        table.add_column(column)
    for item in items:
        table.add_row(
            item["id"],
            f"{item['emoji']} {item['name']}".strip(),
            item["tagline"],
            _weights(item["motives"]),
            _weights(item["activities"]),
        )
    Console().print(table)


def _weights(weights: dict[str, float]) -> str:
    ranked = sorted(weights.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v:g}" for k, v in ranked)


@app.command("simulate")
def simulate_command(
    n: int = typer.Option(100_000, "--n", min=1, help="Number of random answerers."),
    seed: int = typer.Option(0, "--seed", help="Random seed (the same seed, the same shares)."),
    as_json: bool = typer.Option(False, "--json", help='Print {"profiles": {id: share}}.'),
    check: bool = typer.Option(False, "--check", help="Exit 1 when a share is outside 5-30 %."),
    path: Path | None = typer.Option(None, "--path", help=PATH_HELP),
) -> None:
    """Share of each profile when every scored question is answered uniformly at random."""
    from quiz.simulate import BALANCE_MAX, BALANCE_MIN, simulate

    quiz = _load_one(path)
    if as_json:
        result = simulate(quiz, n=n, seed=seed)
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        from rich.console import Console
        from rich.progress import Progress
        from rich.table import Table

        console = Console()
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("simulating", total=n)
            result = simulate(
                quiz, n=n, seed=seed, progress=lambda done: progress.update(task, completed=done)
            )
        table = Table(title=f"{quiz.id}: {n} random answerers (seed {seed})")
        table.add_column("profile")
        table.add_column("name")
        table.add_column("share", justify="right")
        table.add_column("")
        table.add_column(f"{BALANCE_MIN:.0%}-{BALANCE_MAX:.0%}")
        for p in quiz.profiles:
            share = result.shares[p.id]
            ok = BALANCE_MIN <= share <= BALANCE_MAX
            table.add_row(
                p.id,
                p.name[quiz.default_language],
                f"{share:.1%}",
                "█" * round(share * 50),
                "[green]ok[/green]" if ok else "[red]out of range[/red]",
            )
        console.print(table)
    if check and result.out_of_range():
        raise typer.Exit(1)
