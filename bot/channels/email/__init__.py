"""Outbound e-mail (outbound only): compose from the texts in `texts.yaml`, then send over
SMTP (aiosmtplib, `VK_SMTP_*`) or, without `VK_SMTP_HOST`, write `.eml` files to
`var/mail/` so a demo installation shows what would have been sent."""
