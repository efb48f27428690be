"""Serving the studio: bind the port first (a busy port is a one-line error), then run uvicorn until stopped.

The studio prints its address with its token (nothing is answered without it) and the token scripts
send; bound to any other address than loopback it prints the addresses other machines reach it at,
and warns that whoever holds that address can use it: it has no other login.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import ipaddress
import socket
import sys
import threading
import time
import webbrowser
from pathlib import Path
from types import FrameType
from typing import IO

import uvicorn

from brushwork.core.errors import BrushworkError
from brushwork.engine.allocator import share_main_heap
from brushwork.web.app import create_app
from brushwork.web.guard import TOKEN_HEADER, Access, is_loopback
from brushwork.web.limits import Limits
from brushwork.web.store import Job, make_data_folder

__all__ = ["ServerError", "serve", "claim_data"]

DATA_WAIT = 10.0
"""Seconds a studio waits for another one on its data folder to stop (a restart) before it refuses to start."""


class ServerError(BrushworkError):
    """The studio cannot start; ``option`` names what to change (``data``, ``host`` or ``port``)."""

    def __init__(self, problem: str, option: str):
        super().__init__(problem)
        self.option = option


class _Server(uvicorn.Server):
    """On Ctrl-C, first end the open event streams, which would otherwise hold up the shutdown until their
    jobs finish; the app's shutdown then stops the painting job and saves its picture so far."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event):
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopping.set()
        super().handle_exit(sig, frame)


def serve(
    data: Path,
    host: str,
    port: int,
    open_browser: bool = False,
    limits: Limits | None = None,
    token: str | None = None,
) -> None:
    """Run the studio on ``host``'s ``port`` (0: any free one) until Ctrl-C or SIGTERM; an unusable data folder,
    host or port is a :class:`ServerError`. Without ``token`` the studio makes a new one."""
    share_main_heap()  # before uvicorn's and the painter's threads: the painter's big blocks stay reusable
    data = data.expanduser()
    try:
        make_data_folder(data)
    except FileExistsError:
        raise ServerError(f"{data} is a file, not a folder", "data") from None
    except OSError as exc:
        raise ServerError(f"cannot use {data} as the data folder ({exc.strerror or exc})", "data") from None
    app = None
    try:
        with contextlib.ExitStack() as held:  # the data folder's lock and the socket, however the studio ends
            lock = held.enter_context(claim_data(data))
            sock = held.enter_context(_listen(host, port))
            bound_host, bound_port = sock.getsockname()[:2]
            local = is_loopback(bound_host)
            access = Access.local(token, host, bound_port) if local else Access.shared(token)
            app = create_app(data, limits, access=access)
            dual = sock.family == socket.AF_INET6 and not sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
            addresses = _addresses(bound_host, dual)
            _mark(lock, f"http://{_in_url(addresses[0])}:{bound_port}/")
            _announce(data, addresses, bound_port, access, local, open_browser)
            config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
            _Server(config, app.state.studio.stopping).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C (or SIGTERM) it handled once the studio has stopped
        pass  # cleanly; or one came before it ran
    stopped = [] if app is None else app.state.studio.jobs.stopped
    said = "".join(f"; {_stopped_words(job)}" for job in stopped)
    print(f"brushwork studio stopped{said}{'; the page paints it again' if stopped else ''}", file=sys.stderr)


def _stopped_words(job: Job) -> str:
    """A job that was painting when the studio stopped, as its page shows it (its photo with its paintings), and how
    it ended: stopped with its picture so far kept, finished or failed meanwhile, or not yet stopped."""
    photo, *paintings = job.sources
    ended = {
        "cancelled": f"{job.message}{'' if job.kind == 'clip' else ', the picture so far kept'}",  # a clip's says
        "done": "finished as the studio stopped",
        "failed": f"failed: {job.error}",
    }
    return f"{photo} with {' + '.join(paintings)}: {ended.get(job.state, 'still stopping as the studio ended')}"


_HOSTS_FAULT = (errno.EADDRNOTAVAIL, errno.EINVAL)
"""Errors of listening that are the host's: an address this machine lacks, one it cannot listen on as given."""


def _listen(host: str, port: int) -> socket.socket:
    """The studio's socket (on every IPv6 address, ``::``, IPv4's too where the system can); a name that does not
    resolve or an address this machine lacks blames the host."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    every_six = family == socket.AF_INET6 and host.strip("[]") == "::"
    try:
        if host:  # "" is every address, which the studio then says
            socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        return socket.create_server(
            (host, port), family=family, dualstack_ipv6=every_six and socket.has_dualstack_ipv6()
        )
    except (OSError, UnicodeError) as exc:
        ours = not isinstance(exc, (socket.gaierror, UnicodeError)) and exc.errno not in _HOSTS_FAULT
        option = "port" if ours else "host"  # a name that does not resolve, an address it lacks or cannot take
        raise ServerError(f"cannot listen on {host}:{port} ({getattr(exc, 'strerror', None) or exc})", option) from None


def _announce(data: Path, addresses: list[str], port: int, access: Access, local: bool, open_browser: bool) -> None:
    """Where the studio is, with its token (beyond loopback, each address it is reached at, and a warning), and
    the token scripts send; opens the browser if asked."""
    urls = [f"http://{_in_url(a)}:{port}/?token={access.token}" for a in addresses]
    url = urls[0]
    print(f"brushwork studio at {url} (results in {data}); Ctrl-C to stop", file=sys.stderr)
    for other in urls[1:]:
        print(f"  also at {other}", file=sys.stderr)
    if local:
        print(f"only this computer can reach it (it listens on {addresses[0]} alone)", file=sys.stderr)
        print(f"scripts send the header {TOKEN_HEADER}: {access.token} with each request", file=sys.stderr)
    else:
        print(
            "warning: the studio has no login; anyone who has this address, token included, can paint, "
            "see and delete its pictures",
            file=sys.stderr,
        )
    sys.stderr.flush()
    if open_browser:
        threading.Timer(1.0, webbrowser.open, (url,)).start()


def _in_url(address: str) -> str:
    """An address as a URL writes it (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address


def _mark(lock: IO[str], address: str) -> None:
    """Write where the studio holding the data folder is (its token left out) into its lock, for a second one to
    say; a courtesy, so a full disk only leaves it unsaid."""
    with contextlib.suppress(OSError):
        lock.seek(0)
        lock.truncate()
        lock.write(address)
        lock.flush()


def claim_data(data: Path, wait: float | None = None) -> IO[str]:
    """Lock the data folder for this studio: a second one on it would take the first's painting job for one
    stopped (and paint it again) and race it over the job files. A studio still stopping (restarted at once) is
    waited for, up to ``wait`` seconds; the lock goes with the process, however it ends."""
    try:
        handle = open(data / ".lock", "a")
    except OSError as exc:
        raise ServerError(f"cannot use {data} as the data folder ({exc.strerror or exc})", "data") from None
    deadline = time.monotonic() + (DATA_WAIT if wait is None else wait)
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                at = (data / ".lock").read_text(errors="replace").strip()
                where = f" (at {at})" if at.startswith("http://") and len(at) < 200 else ""
                raise ServerError(f"another brushwork studio{where} is using {data} until it stops", "data") from None
            time.sleep(0.2)


def _addresses(bound: str, dual: bool = False) -> list[str]:
    """Where the studio bound to ``bound`` is reached: that address, or for 0.0.0.0 and :: this machine's own
    addresses as other machines see them (for a ``dual``-stack ::, its IPv4 ones too, first), or its loopback
    address where it has none."""
    if not ipaddress.ip_address(bound).is_unspecified:
        return [bound]
    six = ":" in bound
    families = [socket.AF_INET, socket.AF_INET6] if six and dual else [socket.AF_INET6 if six else socket.AF_INET]
    found = [address for family in families for address in _outside_addresses(family)]
    return found or ["::1" if six and not dual else "127.0.0.1"]


def _outside_addresses(family: socket.AddressFamily) -> list[str]:
    """This machine's addresses of ``family`` that other machines reach, loopback and link-local left out."""
    found = set()
    try:
        found |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, family)}
    except OSError:
        pass
    with socket.socket(family, socket.SOCK_DGRAM) as probe:  # the address the default route leaves from
        try:
            probe.connect(("2001:db8::1" if family == socket.AF_INET6 else "192.0.2.1", 9))  # sends nothing
            found.add(str(probe.getsockname()[0]))
        except OSError:
            pass
    return sorted(
        a for a in found if not (ipaddress.ip_address(a).is_loopback or ipaddress.ip_address(a).is_link_local)
    )
