"""Antivirus scanning through clamd's INSTREAM command.

We speak clamd's protocol ourselves (a few dozen lines over a socket) rather than depend on a
client library: the Python clients on PyPI (`clamd`, `pyclamd`) have had no release for years, and
the protocol is small and stable. The exchange, from clamd's manual page:

- the client sends ``zINSTREAM\\0``, then the file as chunks, each prefixed by its length as four
  bytes in network order, and a zero-length chunk to finish;
- clamd answers ``stream: OK``, ``stream: <signature> FOUND`` or ``<message> ERROR``, ended by NUL.

clamd is reached by `CLAMD_SOCKET` (a Unix socket) or `CLAMD_HOST`/`CLAMD_PORT`. Anything other
than a clear verdict (refused connection, time-out, "size limit exceeded", garbage) raises
`AntivirusUnavailable`: the caller keeps the file unusable until a later scan succeeds.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable

from django.conf import settings

CHUNK_BYTES = 64 * 1024
_MAX_REPLY_BYTES = 4096


class AntivirusUnavailable(Exception):
    """clamd could not give a verdict (down, too slow, refused the stream)."""


def is_configured() -> bool:
    return bool(settings.CLAMD_SOCKET or settings.CLAMD_HOST)


def _connect() -> socket.socket:
    timeout = settings.CLAMD_TIMEOUT
    try:
        if settings.CLAMD_SOCKET:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(settings.CLAMD_SOCKET)
            except BaseException:
                sock.close()
                raise
            return sock
        return socket.create_connection((settings.CLAMD_HOST, settings.CLAMD_PORT), timeout=timeout)
    except OSError as error:
        raise AntivirusUnavailable(f"clamd unreachable: {error}") from error


def _reply(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\0") and len(data) < _MAX_REPLY_BYTES:
        chunk = sock.recv(_MAX_REPLY_BYTES)
        if not chunk:
            break
        data += chunk
    return data.rstrip(b"\0").decode("utf-8", "replace").strip()


def ping() -> bool:
    """True when clamd answers PONG."""
    try:
        with _connect() as sock:
            sock.sendall(b"zPING\0")
            return _reply(sock) == "PONG"
    except (AntivirusUnavailable, OSError):
        return False


def scan_chunks(chunks: Iterable[bytes]) -> str | None:
    """Stream the bytes to clamd; None when clean, the signature name when infected.

    Raises AntivirusUnavailable when clamd gives no verdict.
    """
    try:
        with _connect() as sock:
            sock.sendall(b"zINSTREAM\0")
            for chunk in chunks:
                for start in range(0, len(chunk), CHUNK_BYTES):
                    part = chunk[start : start + CHUNK_BYTES]
                    sock.sendall(struct.pack("!L", len(part)) + part)
            sock.sendall(struct.pack("!L", 0))
            reply = _reply(sock)
    except OSError as error:
        # Also clamd closing the connection once the stream passes its StreamMaxLength.
        raise AntivirusUnavailable(f"clamd scan failed: {error}") from error
    if reply == "stream: OK":
        return None
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        return reply.removeprefix("stream: ").removesuffix(" FOUND").strip() or "inconnue"
    raise AntivirusUnavailable(f"clamd gave no verdict: {reply[:200]!r}")


def scan_file(file) -> str | None:
    """Scan a Django File (uploaded or stored) from its start; the file is left at position 0."""
    file.seek(0)
    try:
        return scan_chunks(file.chunks(CHUNK_BYTES))
    finally:
        file.seek(0)
