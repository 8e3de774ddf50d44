"""Email out through the school's own SMTP server: the one place that speaks SMTP.

Off unless `email_notifications` is set (models.settings checks the server is named). Security is
the server's choice: plain on a relay inside the school (port 25), STARTTLS (587) or TLS from the
first byte (465); a login is sent only over TLS, except to a relay on this machine.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from models.settings import Settings


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, message: EmailMessage) -> None:
        """One connection per message: a digest run sends a few, minutes apart at most."""
        s = self._settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        with smtp:
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            smtp.send_message(message)
