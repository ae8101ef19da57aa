"""Bot API requests over aiohttp (python-telegram-bot's `BaseRequest`).

PTB ships one transport, `HTTPXRequest`. Measured with `bench/throughput.py` (200 users, SQLite,
one run, both alternated): the bot's CPU per update went from 5.0 to 4.2 ms and its updates per
second from 191 to 225 with this transport. Most of httpx's cost per request was its connection
pool's bookkeeping (anyio cancel scopes, `getpeername` and a socket poll per pooled connection);
aiohttp parses HTTP in C and keeps its pool with less work. The shape follows ptbcontrib's
`aiohttp_request` (maintained by PTB's authors, not published on PyPI).

Timeouts keep PTB's meaning:
- `read_timeout`: the longest wait for the answer's next bytes (aiohttp `sock_read`);
- `connect_timeout`: the longest wait to open a connection (aiohttp `sock_connect`);
- `pool_timeout`: the longest wait for a free connection of the pool (a semaphore of the pool's
  size: aiohttp itself counts that wait and the connecting as one);
- `write_timeout`: aiohttp has no timeout for sending the body, so a request that carries a
  body is bounded as a whole by connect + read + write per 64 KiB of files (a stalled upload
  cannot hang forever, a large one on a slow line still has time). A download (GET) has no
  such bound: its reads are still bounded one by one.

Errors keep PTB's classes, which the outbox sender tells apart (bot/sender.py): a timeout
while the request is on its way or awaiting its answer is `TimedOut` (it may have reached
Telegram: the row becomes "uncertain"); anything else, including a wait for a free connection
or for the connection itself that ran out (`NotSent`), is `NetworkError` (retried).
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.logsafety import redact

DEFAULT_READ, DEFAULT_WRITE, DEFAULT_CONNECT, DEFAULT_POOL = 5.0, 5.0, 5.0, 1.0
MEDIA_WRITE = 20.0  # PTB's default for requests that upload files
WRITE_CHUNK = 64 * 1024  # an upload gets `write_timeout` per this many bytes
# "Not given": PTB passes its DefaultValue marker (the class itself is not public).
_NOT_GIVEN = type(BaseRequest.DEFAULT_NONE)


def _body_size(request_data: RequestData | None) -> int:
    """Bytes of the files to upload (a file handle counts as one chunk)."""
    if request_data is None or not request_data.contains_files:
        return 0
    return sum(len(content) if isinstance(content, bytes | bytearray) else WRITE_CHUNK
               for _name, content, _type in request_data.multipart_data.values())


def _sum(*parts: float | None) -> float | None:
    return None if any(part is None for part in parts) else sum(parts)  # type: ignore[arg-type]


class NotSent(NetworkError):
    """The request never left this process (no free connection in time, or the connection
    could not be opened in time): sending it again cannot duplicate it. A `NetworkError`,
    not a `TimedOut`, so the outbox retries it instead of counting it uncertain."""


class AiohttpRequest(BaseRequest):
    """One aiohttp session (and connection pool) per instance, opened by `initialize`."""

    __slots__ = ("_defaults", "_free", "_pool_size", "_proxies", "_proxy_of", "_session", "_ssl")

    def __init__(self, connection_pool_size: int = 64, *, ssl_context: ssl.SSLContext | None = None,
                 read_timeout: float | None = DEFAULT_READ,
                 write_timeout: float | None = DEFAULT_WRITE,
                 connect_timeout: float | None = DEFAULT_CONNECT,
                 pool_timeout: float | None = DEFAULT_POOL) -> None:
        self._pool_size = connection_pool_size
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._free: asyncio.Semaphore | None = None  # made by `initialize`, on its loop
        self._defaults = {"read": read_timeout, "write": write_timeout,
                          "connect": connect_timeout, "pool": pool_timeout}
        self._proxies: dict[str, str] = {}
        self._proxy_of: dict[str, str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """PTB adds a long poll's own timeout to this for getUpdates."""
        return self._defaults["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size,
                                             ssl=self._ssl if self._ssl is not None else True)
            self._session = aiohttp.ClientSession(connector=connector,
                                                  headers={"User-Agent": self.USER_AGENT},
                                                  timeout=aiohttp.ClientTimeout(total=None))
            self._free = asyncio.Semaphore(self._pool_size)
            # HTTPS_PROXY, NO_PROXY… are honoured, as httpx did, but read once here: aiohttp's
            # own `trust_env` reads the environment again for every request (measured: 0.7 ms
            # of CPU per update in bench/throughput.py).
            self._proxies = urllib.request.getproxies_environment()
            self._proxy_of = {}

    def _proxy(self, url: str) -> str | None:
        origin = "/".join(url.split("/", 3)[:3])  # scheme://host[:port]
        if origin not in self._proxy_of:
            scheme, _, host = origin.partition("://")
            bypass = urllib.request.proxy_bypass_environment(host, self._proxies)
            self._proxy_of[origin] = None if bypass else (self._proxies.get(scheme)
                                                          or self._proxies.get("all"))
        return self._proxy_of[origin]

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _timeout(self, request_data: RequestData | None, method: str, read: Any, write: Any,
                 connect: Any, pool: Any) -> tuple[aiohttp.ClientTimeout, float | None]:
        files = bool(request_data and request_data.contains_files)
        read = self._defaults["read"] if isinstance(read, _NOT_GIVEN) else read
        connect = self._defaults["connect"] if isinstance(connect, _NOT_GIVEN) else connect
        pool = self._defaults["pool"] if isinstance(pool, _NOT_GIVEN) else pool
        if isinstance(write, _NOT_GIVEN):
            write = MEDIA_WRITE if files else self._defaults["write"]
        total = None  # a download (GET): its reads are bounded one by one
        if method != "GET":
            # httpx bounded each write; here the whole upload gets `write` per 64 KiB.
            chunks = max(1, -(-_body_size(request_data) // WRITE_CHUNK))
            total = _sum(connect, read, None if write is None else write * chunks)
        return aiohttp.ClientTimeout(total=total, connect=connect, sock_connect=connect,
                                     sock_read=read), pool

    @staticmethod
    def _body(request_data: RequestData | None) -> Any:
        if request_data is None:
            return None
        fields = request_data.json_parameters
        files = request_data.multipart_data
        if not files:
            return fields or None  # a form, url-encoded, as PTB's own transport sends it
        form = aiohttp.FormData(quote_fields=False)  # file names as typed (UTF-8), as httpx
        for name, value in fields.items():
            form.add_field(name, value)
        for name, (filename, content, mimetype) in files.items():
            form.add_field(name, content, filename=filename, content_type=mimetype)
        return form

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed or self._free is None:
            raise RuntimeError("This AiohttpRequest is not initialized")
        timeout, pool = self._timeout(request_data, method, read_timeout, write_timeout,
                                      connect_timeout, pool_timeout)
        free = self._free  # the one released below, even if `initialize` makes another
        try:
            async with asyncio.timeout(pool):
                await free.acquire()
        except TimeoutError as exc:
            raise NotSent(f"Pool timeout: all {self._pool_size} connections to Telegram are "
                          "busy; the request was not sent.") from exc
        try:
            async with self._session.request(method, url, data=self._body(request_data),
                                             timeout=timeout,
                                             proxy=self._proxy(url)) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise NotSent("Connect timeout: Telegram could not be reached in time; the "
                          "request was not sent.") from exc
        except TimeoutError as exc:  # sock_read, or the whole request
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # Some aiohttp messages carry the request's URL, and so the bot token; the text
            # ends up in the outbox's `last_error` column.
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {redact(str(exc))}") \
                from exc
        finally:
            free.release()
