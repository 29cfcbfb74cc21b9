"""One HTTP POST of a delivery, with the standard library (no runtime dependency for a single request).

Only a 2xx answer counts as accepted. A redirect is a failure, not followed: the
receiver was configured by URL, and following it would send signed notices wherever
the answer points. Whatever else goes wrong (refused connection, timeout, TLS) is
reported as a short reason for ``custody webhook status``, never raised.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

TIMEOUT_SECONDS = 10.0
Post = Callable[[str, bytes, dict[str, str]], str | None]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict[str, str]) -> str | None:
    """None when the receiver accepted the delivery, else why not (e.g. 'HTTP 500', 'timed out')."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except urllib.error.URLError as error:
        return f"unreachable: {error.reason}"[:200]
    except (TimeoutError, OSError, ValueError) as error:
        return f"{type(error).__name__}: {error}"[:200]
    return None if 200 <= status < 300 else f"HTTP {status}"
