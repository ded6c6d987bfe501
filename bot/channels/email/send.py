"""The e-mail transport: SMTP when `VK_SMTP_HOST` is set, else `.eml` files in `mail_dir`."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from bot import clock

if TYPE_CHECKING:
    from bot.config import Settings

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def compose(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A plain-text message with an HTML alternative. `message_id` makes retries recognisable."""
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    domain = settings.smtp_from.rsplit("@", 1)[-1].strip(" >") or "vrijwilligerskracht.invalid"
    msg["Message-ID"] = f"<{message_id}@{domain}>" if message_id else make_msgid(domain=domain)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def describe(settings: Settings) -> str:
    """One line for the startup banner."""
    if settings.smtp_host:
        return f"SMTP {settings.smtp_host}:{settings.smtp_port}"
    return f"no VK_SMTP_HOST: written as .eml files to {settings.mail_dir}"


async def send(settings: Settings, msg: EmailMessage) -> str:
    """Deliver one message; returns where it went. Raises on failure (the job retries)."""
    if not settings.smtp_host:
        return str(_write_eml(settings.mail_dir, msg))
    import aiosmtplib

    await aiosmtplib.send(
        msg,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_starttls,
        timeout=30,
    )
    return f"smtp:{msg['To']}"


def _write_eml(folder: Path, msg: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S")
    ident = _SAFE.sub("", str(msg["Message-ID"] or "").split("@")[0]).strip(".")[:60] or "message"
    path = folder / f"{stamp}-{ident}.eml"
    path.write_bytes(bytes(msg))
    return path
