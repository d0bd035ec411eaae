"""Keep the requesters' secret links out of the logs.

The status and confirmation links carry a token that is as good as a password to
a person's request (and their access report). Django logs the path of every 4xx
and 5xx response ("Not Found: /fi/privacy/status/<token>/"), and the development
server logs every request line: this filter replaces the token before any
handler writes the record.
"""

from __future__ import annotations

import logging
import re

TOKEN_IN_PATH = re.compile(r"(/(?:status|confirm)/)[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    return TOKEN_IN_PATH.sub(r"\1[token]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
