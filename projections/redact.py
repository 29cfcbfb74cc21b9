"""An error message fit for a report that anyone running the read models may read: no payload values.

Python quotes the values it complains about (``invalid literal for int(): 'x'``,
``KeyError: 'x'``), and a payload value may be personal data. So quoted text is
masked; a missing key is named only when it looks like one of the ledger's
field names (lower-case snake case), which come from code, not from people.
"""

from __future__ import annotations

import re

MASK = "'…'"
MESSAGE_LENGTH = 300
_QUOTED = re.compile(r"""b?'(?:[^'\\]|\\.)*'|b?"(?:[^"\\]|\\.)*\"""")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")


def describe(error: BaseException) -> str:
    """The error's message without the values it quotes, and not longer than a line of a report."""
    if isinstance(error, KeyError) and len(error.args) == 1:
        key = error.args[0]
        named = isinstance(key, str) and _FIELD_NAME.fullmatch(key) is not None
        return f"missing key {key if named else MASK}"
    return _QUOTED.sub(MASK, str(error))[:MESSAGE_LENGTH]
