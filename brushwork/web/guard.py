"""Who may talk to the studio: whoever holds its token, its own page among them; never another web site.

Every web page the user visits can send requests to a studio on 127.0.0.1, and every user of the
machine can connect to it, so, as Jupyter does, each request is checked before any route sees it
(and before its body is read):

- Host: on loopback only the loopback names (and the name the studio was started with) are
  answered, so a site whose name is rebound to 127.0.0.1 (DNS rebinding) reads nothing.
- Nothing is answered without the token, on loopback too (another user of the machine would
  otherwise see the pictures, and take the token from the page): given once as ``?token=`` (the
  address the studio prints), it is kept in a cookie of the studio's port for the page's
  pictures and event streams.
- Changes (POST, PUT, PATCH, DELETE) must come from the studio's own origin and carry the token
  in :data:`TOKEN_HEADER`. The page is served with the token; another site's form or script
  cannot read it, nor send the header without the studio's consent.
- No answer may be shown in another site's frame, where the page (and its token) would take a
  click the user meant for that site.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brushwork.web.limits import reply

__all__ = ["TOKEN_HEADER", "Access", "Guard", "is_loopback"]

TOKEN_HEADER = "X-Brushwork-Token"
TOKEN_COOKIE = "brushwork-token-{port}"
"""The cookie the token is kept in, by the studio's port: a browser sends a host's cookies to each of its ports,
and two studios side by side must not take each other's."""
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")
"""A Host header: a name or an address (IPv6 in brackets), and a port."""
FOREIGN_SITES = frozenset({"cross-site", "same-site"})


def is_loopback(address: str) -> bool:
    """Whether a bound address is reachable from this machine only."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


@dataclass(frozen=True)
class Access:
    """A studio's token, and the Host names it answers (``None``: any, for a studio shared on a network) at its
    port (``None``: any)."""

    token: str
    hosts: frozenset[str] | None = LOOPBACK_NAMES
    port: int | None = None

    @classmethod
    def local(cls, token: str | None = None, name: str | None = None, port: int | None = None) -> Access:
        """A studio on loopback at ``port``, also answering to ``name`` (the host it was started with)."""
        extra = {name.strip("[]").lower()} if name else set()
        return cls(token or new_token(), LOOPBACK_NAMES | extra, port)

    @classmethod
    def shared(cls, token: str | None = None) -> Access:
        """A studio reachable from other machines, at any name they know it by."""
        return cls(token or new_token(), None)

    def holds(self, given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given.encode(), self.token.encode())

    def answers_at(self, header: str | None) -> bool:
        """Whether a Host header names this studio: one of its names, at its port (80 when none is said); a
        header that is no plain name and port (empty, missing, with a user or a path) names none."""
        if self.hosts is None:
            return True
        found = HOST.fullmatch(header or "")
        if found is None:
            return False
        name, port = found["name"].strip("[]").lower(), int(found["port"] or 80)
        return name in self.hosts and self.port in (None, port)

    def refusal(self, request: Request) -> str | None:
        """Why the studio will not answer ``request`` (one line), or ``None``."""
        if not self.answers_at(request.headers.get("host")):
            return (
                f"this studio answers only at 127.0.0.1, localhost or [::1] port {self.port or 'its own'}, not "
                f"{request.headers.get('host') or 'an empty host'!r}; open it at the address 'brushwork serve' printed"
            )
        return self._change_refusal(request) if request.method in CHANGES else self._read_refusal(request)

    def _read_refusal(self, request: Request) -> str | None:
        """A read needs the token: in the header, the cookie the printed address set, or the address itself."""
        given = (
            request.headers.get(TOKEN_HEADER),
            request.cookies.get(token_cookie(request)),
            request.query_params.get("token"),
        )
        if any(self.holds(token) for token in given):
            return None
        wrong = "the token given is not this studio's (mistyped, or from before it restarted); " if any(given) else ""
        return f"{wrong}this studio needs its token: open the address with ?token= that 'brushwork serve' printed"

    def _change_refusal(self, request: Request) -> str | None:
        """A change must come from the studio's own origin, with the token in the header (its page sends it)."""
        origin, own = request.headers.get("origin"), f"{request.url.scheme}://{request.headers.get('host', '')}"
        if request.headers.get("sec-fetch-site") in FOREIGN_SITES or (origin and origin.lower() != own.lower()):
            return "the studio takes changes only from its own page, not from another web site"
        given = request.headers.get(TOKEN_HEADER)
        if given and not self.holds(given):  # a page the studio served before it was restarted (a new token)
            return (
                "this page's token is not the studio's, which has restarted since: open the address 'brushwork serve' "
                f"printed (a script sends the token it printed in the {TOKEN_HEADER} header)"
            )
        if not self.holds(given):
            return f"changes need the studio's token in the {TOKEN_HEADER} header (its page sends it)"
        return None


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_cookie(request: Request) -> str:
    """The name of the cookie the token is kept in at the port ``request`` came to."""
    return TOKEN_COOKIE.format(port=request.scope.get("server", ("", 0))[1] or request.url.port or 80)


SAFETY = (
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("cross-origin-resource-policy", "same-origin"),
    ("referrer-policy", "no-referrer"),
)
"""Sent with every answer: no other site may show the studio in a frame, where a hidden click would drive it,
nor embed its pictures (which would tell it the studio runs); a browser takes each answer as the type it says."""
PAGE_POLICY = "frame-ancestors 'none'"
FILE_POLICY = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
"""The Content-Security-Policy of an answer that sets none of its own: a page (the API's /docs; the studio's page
sets a stricter one), and anything else, a picture, a clip or JSON, which runs nothing even if opened alone (the
browser's own viewer may still show a picture, centred, and play a clip: no ``sandbox``, whose null origin would
make the player's own request for the clip a cross-origin one)."""


class Guard:
    """ASGI middleware: a request :meth:`Access.refusal` refuses ends in 403; every answer forbids framing; a
    token that came as ``?token=`` is kept in a cookie, so that the page's pictures and event streams carry it."""

    def __init__(self, app: ASGIApp, access: Access):
        self.app, self.access = app, access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the studio has none: one added later must not skip these checks
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":  # the server's start and stop
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        keep_token = self.access.holds(request.query_params.get("token"))

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SAFETY:
                    headers[name] = value
                page = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("content-security-policy", PAGE_POLICY if page else FILE_POLICY)
                if keep_token:
                    headers.append(
                        "set-cookie", f"{token_cookie(request)}={self.access.token}; Path=/; HttpOnly; SameSite=Strict"
                    )
            await send(message)

        problem = self.access.refusal(request)
        if problem is not None:
            await reply(guarded, 403, problem, page="text/html" in request.headers.get("accept", ""))
            return
        await self.app(scope, receive, guarded)
