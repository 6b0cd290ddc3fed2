"""Keep secrets that travel in URLs out of the logs."""

from __future__ import annotations

import logging
import re

# Paths whose last segment is a bearer secret: an invitation token, a password-reset or an
# e-mail confirmation key. Django logs the path of every 4xx answer (a second click on a used
# invitation is a 410), so without this the token would sit in the logs in clear.
SECRET_IN_PATH = re.compile(r"(/(?:invitations|accounts/password/reset/key|accounts/confirm-email)/)[^/?#\s'\"]+")


def redact(text: str) -> str:
    return SECRET_IN_PATH.sub(r"\1[redacted]", text)


class RedactUrlSecrets(logging.Filter):
    """Rewrites the record's message and arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
