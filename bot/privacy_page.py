"""GET /privacy: the installation's plain privacy statement (Dutch, then English).

It says the same as the consent text, filled from the same settings, so the two can never
disagree: who is responsible, what is kept, for how long, and what stays as counts.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter

    from bot.config import Settings

_PAGE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Privacy</title>
<style>
body{{font:1.05rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
</style>
</head><body>
<h1>Privacy</h1>
<p><strong>Wie is verantwoordelijk?</strong> {controller}.</p>
<p><strong>Wat bewaren we?</strong> Alleen je antwoorden op de test en de taal die je koos.
Geen naam, geen telefoonnummer. Je chat-id bewaren we alleen versleuteld (als code).</p>
<p><strong>Alleen als jij ja zegt.</strong> Zeg je nee? Dan kun je de test toch doen.
Na de uitslag wissen we dan je antwoorden.</p>
<p><strong>Jonger dan 16?</strong> Dan bewaren we niets, ook niet als je ja zegt. Na de
uitslag wissen we alles. Vraag eerst je ouder of verzorger of je vrijwilligerswerk mag doen.
Je ziet alleen werk dat je op jouw leeftijd mag doen.</p>
<p><strong>Hoe lang?</strong> Hoogstens {days} dagen. Daarna wist de server alles zelf.
Een test die je zonder ja half liet liggen, wissen we na één dag.</p>
<p><strong>Organisaties</strong> krijgen je gegevens pas als jij zegt: ik wil helpen.</p>
<p><strong>Statistiek.</strong> We tellen zonder namen hoe vaak iets gekozen wordt.
Die tellingen zijn niet terug te leiden naar jou.</p>
<p><strong>Zelf doen.</strong> Typ in de chat 'mijn gegevens' om te zien wat we weten.
Typ 'wis mijn gegevens' om alles te wissen.</p>
<hr>
<h2 lang="en">In English</h2>
<p lang="en">Responsible for your data: {controller}. We keep only your answers, and only if you
say yes; without a yes you can still take the test and your answers are deleted after the
result. We keep answers for at most {days} days; an unfinished test without consent goes
after one day. If you are under 16 we keep nothing, even if you say yes, and show only
work you may do at your age. Organisations get your details only when you say: I want to
help. We count choices without names for statistics. Type 'my data' or 'delete my data' in
the chat.</p>
</body></html>
"""


def privacy_statement(settings: Settings) -> str:
    return _PAGE.format(
        controller=escape(settings.controller_name), days=int(settings.retention_days)
    )


def build_router(settings: Settings) -> APIRouter:
    from fastapi import APIRouter
    from starlette.responses import HTMLResponse

    router = APIRouter(include_in_schema=False)
    body = privacy_statement(settings)

    @router.get("/privacy")
    async def privacy() -> HTMLResponse:
        return HTMLResponse(body, headers={"Cache-Control": "public, max-age=3600"})

    return router
