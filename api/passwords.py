"""Where the CLI gets a signer's password: a flag-named environment variable, stdin, or a prompt.

Passwords never appear on a command line (they would be visible to every user
of the machine in the process list).
"""

from __future__ import annotations

import getpass
import os
import sys


class PasswordUnavailable(Exception):
    """No password could be read and none can be asked for."""


def read_password(prompt: str, *, env_var: str | None = None, from_stdin: bool = False) -> str:
    """A password from ``env_var``, standard input (one line) or an interactive prompt."""
    if env_var and os.environ.get(env_var):
        return os.environ[env_var]
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise PasswordUnavailable("--password-stdin was given but standard input is empty")
        return line.rstrip("\n")
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    raise PasswordUnavailable(
        f"a password is needed ({prompt.strip(': ')}); use --password-stdin or set {env_var or 'the variable'}"
    )
