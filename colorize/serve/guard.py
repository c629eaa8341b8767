"""What ``colorize serve`` refuses before the app sees a request (``HostGuard``: a host name other than loopback's
when serving on loopback, a cross-site POST), and the headers every response carries (``SECURITY_HEADERS``)."""
from urllib.parse import urlsplit

from starlette.responses import JSONResponse

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class HostGuard:
    """ASGI middleware. When serving on loopback, answer only requests for a loopback host name (a DNS-rebinding
    guard); everywhere, refuse POSTs whose Origin is another site (a cross-site request)."""

    def __init__(self, app, loopback_only):
        self.app, self.loopback_only = app, loopback_only

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            host = headers.get("host", "")
            origin = headers.get("origin")
            if self.loopback_only and _hostname(f"//{host}") not in LOOPBACK_NAMES:
                refusal = f"host {host[:100]!r} is not served: this app answers on localhost only"
                return await error_response(400, refusal)(scope, receive, send)
            if scope["method"] == "POST" and origin is not None and _netloc(origin) != host:
                return await error_response(403, "cross-site requests are refused; use the page this server serves")(
                    scope, receive, send)
        await self.app(scope, receive, send)


def _hostname(url):
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a malformed [IPv6] part
        return ""


def _netloc(url):
    try:
        return urlsplit(url).netloc
    except ValueError:
        return None


def error_response(status, message):
    return JSONResponse({"error": message}, status_code=status, headers=SECURITY_HEADERS)
