#!/usr/bin/env python3
"""Container health probe: GET http://127.0.0.1:$PORT<path>, exit 0 on HTTP 2xx.

Used by the Dockerfile HEALTHCHECK (`/healthz`) and by compose (`/readyz`).
Django answers 400 to a Host header that is not in ALLOWED_HOSTS, so the probe
sends the first ALLOWED_HOSTS entry as Host (leading "." of a domain wildcard
stripped) instead of 127.0.0.1.
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host() -> str:
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        entry = entry.strip().lstrip(".")
        if entry and entry != "*":
            return entry
    return "localhost"


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": probe_host(), "User-Agent": "collab-healthcheck"},
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
