"""The fake Bot API server: state, HTTP endpoints, validation and rate limits."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.fakeapi import html as tg_html

log = logging.getLogger(__name__)

SANDBOX_TOKEN = "1000000001:SANDBOX-not-a-real-token-0000000000"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
WEBHOOK_RETRY_SECONDS = 0.5
MAX_INLINE_BUTTONS = 100  # Telegram: "reply markup is too long" beyond this
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SEND_METHODS = {
    "sendmessage", "sendphoto", "senddocument", "sendlocation", "sendvoice", "sendcontact",
    "sendmediagroup", "copymessage", "forwardmessage", "sendsticker", "sendvideo", "sendaudio",
}
# Complex parameters PTB sends as JSON strings inside form data.
_JSON_PARAMS = {
    "reply_markup", "entities", "caption_entities", "commands", "scope", "allowed_updates",
    "link_preview_options", "reply_parameters", "media",
}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _inline(markup: dict | None) -> dict | None:
    """The inline keyboard a message keeps (reply keyboards are not part of the message)."""
    return markup if markup and "inline_keyboard" in markup else None


def _not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message")


@dataclass
class Limits:
    """Telegram's published limits, with a time scale for fast benchmarks."""

    global_per_second: int = 30
    group_per_minute: int = 20
    private_per_second: int = 5
    time_scale: float = 1.0  # 10.0: every window is ten times shorter
    enabled: bool = True


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    started: bool = False  # a user must open the chat before the bot may write
    blocked: bool = False  # the user blocked the bot / the bot was removed from the group
    messages: dict[int, dict] = field(default_factory=dict)
    next_message_id: int = 1
    events: list[tuple[str, int]] = field(default_factory=list)  # ("sent"|"edited"|"deleted", id)

    def as_dict(self) -> dict:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or "User"
            if self.username:
                data["username"] = self.username
        else:
            data["title"] = self.title or "Group"
        return data


@dataclass
class Call:
    method: str
    params: dict
    status: int
    description: str = ""


class FakeTelegram:
    """One fake bot on a fake Telegram. Start it, point the bot's base URL at `url`."""

    def __init__(self, *, token: str = SANDBOX_TOKEN, bot_username: str = "treem_sandbox_bot",
                 limits: Limits | None = None) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user = {"id": self.bot_id, "is_bot": True, "first_name": "Trẻ Em Bot",
                         "username": bot_username, "can_join_groups": True,
                         "can_read_all_group_messages": False, "supports_inline_queries": False}
        self.limits = limits or Limits()
        self.users: dict[int, dict] = {}
        self.chats: dict[int, Chat] = {}
        self.updates: list[dict] = []  # not yet confirmed
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (path, bytes)
        self.callback_queries: dict[str, dict] = {}
        self.commands: dict[str, list[dict]] = {}
        self.webhook: dict[str, Any] | None = None
        self.calls: list[Call] = []
        self.violations: list[Call] = []  # 400/404/409/429: the bot did something Telegram refuses
        self.forbidden: list[Call] = []  # 403: a user blocked the bot (not the bot's fault)
        self.delivered_webhook: list[int] = []
        # Outages a test asks for (`fail_next`): answered as Telegram's front end answers when
        # it cannot reach the API (502), counted in `outages`, not in `violations`.
        self._outages: list[tuple[str, Callable[[dict], bool], list[int]]] = []
        self.outages: list[Call] = []
        self._sends: dict[Any, collections.deque] = collections.defaultdict(collections.deque)
        self._changed = asyncio.Condition()
        self._poller: asyncio.Future | None = None
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    # --- life cycle -------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # Like Telegram, a long poll ends when the bot drops the connection.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._webhook_task:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._poller and not self._poller.done():
            self._poller.cancel()
        if self._http:
            await self._http.close()
        if self._runner:
            await self._runner.cleanup()

    # --- the world: users, groups, updates ----------------------------------------------

    def add_user(self, user_id: int, first_name: str, *, username: str | None = None,
                 last_name: str | None = None) -> dict:
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}
        if username:
            user["username"] = username
        if last_name:
            user["last_name"] = last_name
        self.users[user_id] = user
        self.chats.setdefault(user_id, Chat(id=user_id, type="private", first_name=first_name,
                                            username=username))
        return user

    def add_group(self, chat_id: int, title: str, *, supergroup: bool = True) -> Chat:
        chat = Chat(id=chat_id, type="supergroup" if supergroup else "group", title=title,
                    started=True)
        self.chats[chat_id] = chat
        return chat

    def next_message_id(self, chat: Chat) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def fail_next(self, method: str, *, count: int = 1,
                  when: Callable[[dict], bool] = lambda _params: True) -> None:
        """The next `count` calls of `method` (those whose parameters `when` accepts) get 502
        Bad Gateway and do nothing: a request that did not get through."""
        self._outages.append((method.lower(), when, [count]))

    def _outage(self, method: str, params: dict) -> bool:
        for name, when, left in self._outages:
            if name == method.lower() and left[0] > 0 and when(params):
                left[0] -= 1
                return True
        return False

    async def push_update(self, kind: str, payload: dict) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: payload})
        async with self._changed:
            self._changed.notify_all()
        return update_id

    def store_file(self, data: bytes, *, kind: str = "photos", ext: str = "jpg") -> str:
        number = next(self._file_ids)
        file_id = f"F{number:06d}{kind[:3]}"
        self.files[file_id] = (f"{kind}/file_{number}.{ext}", data)
        return file_id

    async def wait_for_events(self, chat_id: int, count: int, timeout: float) -> None:
        """Wait until chat `chat_id` has at least `count` events."""
        chat = self.chats[chat_id]
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(chat.events) >= count), timeout)

    # --- HTTP --------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if request.content_type == "application/json":
                body = await request.json()
                params.update(body or {})
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = ("__upload__", value.file.read(), value.filename)
                    else:
                        params[key] = value
        for key in _JSON_PARAMS & params.keys():
            if isinstance(params[key], str):
                try:
                    params[key] = json.loads(params[key])
                except json.JSONDecodeError as exc:
                    raise bad_request(f"can't parse {key} JSON object") from exc
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()  # rate limits count arrivals, not when we got round to them
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._reply(Call(method, {}, 401, "Unauthorized"), None)
        try:
            params = await self._params(request)
        except ApiError as exc:
            return self._reply(Call(method, {}, exc.code, exc.description), None)
        handler = getattr(self, f"api_{method.lower()}", None)
        call = Call(method, {k: v for k, v in params.items() if not isinstance(v, tuple)}, 200)
        if self._outage(method, params):
            self.outages.append(call)
            call.status, call.description = 502, "Bad Gateway"
            return web.json_response({"ok": False, "error_code": 502,
                                      "description": "Bad Gateway"}, status=502)
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            if method.lower() in _SEND_METHODS:
                self._check_rate(self._chat_id(params), arrived)
            result = await handler(params)
        except ApiError as exc:
            call.status, call.description = exc.code, exc.description
            return self._reply(call, None, exc.retry_after)
        return self._reply(call, result)

    def _reply(self, call: Call, result: Any, retry_after: int | None = None) -> web.Response:
        self.calls.append(call)
        if call.status == 200:
            return web.json_response({"ok": True, "result": result})
        if call.status == 403:
            self.forbidden.append(call)
        else:
            self.violations.append(call)
            log.debug("fake telegram refused %s: %s", call.method, call.description)
        body: dict[str, Any] = {"ok": False, "error_code": call.status,
                                "description": call.description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=call.status)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored_path, data in self.files.values():
            if stored_path == path:
                return web.Response(body=data)
        return web.Response(status=404)

    # --- validation helpers ------------------------------------------------------------

    def _chat_id(self, params: dict) -> int | None:
        value = params.get("chat_id")
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def _chat(self, params: dict, *, writing: bool = True) -> Chat:
        chat_id = self._chat_id(params)
        chat = self.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise bad_request("chat not found")
        if writing and chat.blocked:
            if chat.type == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        if writing and chat.type == "private" and not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _check_rate(self, chat_id: int | None, now: float) -> None:
        if not self.limits.enabled:
            return
        scale = self.limits.time_scale
        checks = [("global", self.limits.global_per_second, 1.0 / scale)]
        chat = self.chats.get(chat_id) if chat_id is not None else None
        if chat is not None and chat.type != "private":
            checks.append((chat_id, self.limits.group_per_minute, 60.0 / scale))
        elif chat is not None:
            checks.append((chat_id, self.limits.private_per_second, 1.0 / scale))
        for key, limit, window in checks:
            sent = self._sends[key]
            while sent and sent[0] <= now - window:
                sent.popleft()
            # Arrivals are stamped before their bodies are read, so they can be recorded
            # slightly out of order; count only those inside the window.
            if len(sent) >= limit:
                wait = max(1, math.ceil(sent[0] + window - now))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        for key, _limit, _window in checks:
            self._sends[key].append(now)

    def _check_text(self, text: Any, parse_mode: str | None, *, caption: bool = False) -> str:
        text = "" if text is None else str(text)
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                visible = tg_html.parse(text)
            except tg_html.HtmlError as exc:
                raise bad_request(str(exc)) from None
        elif parse_mode and parse_mode not in {"MarkdownV2", "Markdown"}:
            raise bad_request("unsupported parse_mode")
        else:
            visible = text
        if caption:
            if tg_html.utf16_len(visible) > MAX_CAPTION:
                raise bad_request("message caption is too long")
        else:
            if not visible.strip():
                raise bad_request("message text is empty")
            if tg_html.utf16_len(visible) > MAX_TEXT:
                raise bad_request("message is too long")
        return visible

    def _check_markup(self, markup: Any, chat: Chat | None) -> Any:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            if sum(len(row) for row in markup["inline_keyboard"]) > MAX_INLINE_BUTTONS:
                raise bad_request("reply markup is too long")
            for row in markup["inline_keyboard"]:
                for button in row:
                    if not str(button.get("text", "")).strip():
                        raise bad_request("inline keyboard button text must be non-empty")
                    if "callback_data" in button:
                        size = len(str(button["callback_data"]).encode("utf-8"))
                        if size == 0 or size > MAX_CALLBACK_BYTES:
                            raise bad_request("BUTTON_DATA_INVALID")
                    elif "url" in button:
                        url = str(button["url"])
                        if not re.match(r"^(https?|tg)://", url):
                            raise bad_request(
                                f"inline keyboard button URL '{url}' is invalid: "
                                "Unsupported URL protocol")
                    elif not ({"switch_inline_query", "web_app", "login_url", "pay",
                               "copy_text", "switch_inline_query_current_chat"} & button.keys()):
                        raise bad_request("can't find field \"callback_data\"")
        elif "keyboard" in markup:
            for row in markup["keyboard"]:
                for button in row:
                    label = button if isinstance(button, str) else button.get("text", "")
                    if not str(label).strip():
                        raise bad_request("keyboard button text must be non-empty")
                    if isinstance(button, dict) and (
                        button.get("request_contact") or button.get("request_location")
                    ) and chat is not None and chat.type != "private":
                        raise bad_request("contact and location buttons are only in private chats")
        return markup

    def _message(self, chat: Chat, message_id: int, **content: Any) -> dict:
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat.as_dict(),
                   "from": self.bot_user, **{k: v for k, v in content.items() if v is not None}}
        return message

    def _record(self, chat: Chat, message: dict, event: str) -> None:
        chat.messages[message["message_id"]] = message
        chat.events.append((event, message["message_id"]))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- Bot API methods ---------------------------------------------------------------

    async def api_getme(self, _params: dict) -> dict:
        return self.bot_user

    async def api_close(self, _params: dict) -> bool:
        return True

    async def api_logout(self, _params: dict) -> bool:
        return True

    async def api_getupdates(self, params: dict) -> list[dict]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        if self._poller is not None and not self._poller.done():
            self._poller.set_exception(ApiError(
                409, "Conflict: terminated by other getUpdates request; make sure that only one "
                     "bot instance is running"))
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        allowed = params.get("allowed_updates")

        def ready() -> list[dict]:
            found = [u for u in self.updates if u["update_id"] >= offset]
            if allowed:
                found = [u for u in found if set(u) - {"update_id"} & set(allowed)]
            return found[:limit]

        if not ready() and timeout > 0:
            mine = self._poller = asyncio.get_running_loop().create_future()
            waiter = asyncio.ensure_future(self._wait_updates(ready))
            try:
                done, _pending = await asyncio.wait(
                    {waiter, mine}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if mine in done and not mine.cancelled() and mine.exception():
                    raise mine.exception()
            finally:
                waiter.cancel()
                if not mine.done():
                    mine.cancel()
        return ready()

    @property
    def long_polling(self) -> bool:
        """A getUpdates call is waiting for updates right now."""
        return self._poller is not None and not self._poller.done()

    async def _wait_updates(self, ready) -> None:  # noqa: ANN001
        async with self._changed:
            await self._changed.wait_for(lambda: bool(ready()))

    async def api_setwebhook(self, params: dict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self.api_deletewebhook(params)
        if not re.match(r"^https?://", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret,
                        "allowed_updates": params.get("allowed_updates")}
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_webhook())
        return True

    async def api_deletewebhook(self, params: dict) -> bool:
        self.webhook = None
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self.updates.clear()
        return True

    async def api_getwebhookinfo(self, _params: dict) -> dict:
        return {"url": self.webhook["url"] if self.webhook else "", "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}

    async def _deliver_webhook(self) -> None:
        """Send pending updates one by one, in order, retrying until the bot answers 2xx."""
        while self.webhook is not None:
            if not self.updates:
                async with self._changed:
                    await self._changed.wait_for(lambda: bool(self.updates) or self.webhook is None)
                continue
            update = self.updates[0]
            headers = {}
            if self.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
            try:
                async with self._http.post(self.webhook["url"], json=update,
                                           headers=headers) as response:
                    ok = 200 <= response.status < 300
            except aiohttp.ClientError:
                ok = False
            if ok:
                self.delivered_webhook.append(update["update_id"])
                self.updates.pop(0)
            else:
                # Telegram waits before retrying a failed delivery (longer than this); the
                # fake's retry pace follows its time scale like every other window.
                await asyncio.sleep(WEBHOOK_RETRY_SECONDS / self.limits.time_scale)

    async def api_sendmessage(self, params: dict) -> dict:
        chat = self._chat(params)
        visible = self._check_text(params.get("text"), params.get("parse_mode"))
        markup = self._check_markup(params.get("reply_markup"), chat)
        message = self._message(chat, self.next_message_id(chat), text=visible,
                                reply_markup=_inline(markup))
        message["_html"] = str(params.get("text"))
        message["_keyboard"] = markup
        self._record(chat, message, "sent")
        await self._notify()
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def _send_media(self, params: dict, field_name: str, kind: str) -> dict:
        chat = self._chat(params)
        caption = self._check_text(params.get("caption"), params.get("parse_mode"), caption=True)
        markup = self._check_markup(params.get("reply_markup"), chat)
        value = params.get(field_name)
        if isinstance(value, tuple):
            ext = (value[2] or "bin").rsplit(".", 1)[-1]
            file_id = self.store_file(value[1], kind=kind, ext=ext)
        elif isinstance(value, str) and value in self.files:
            file_id = value
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        size = len(self.files[file_id][1])
        media: Any = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size}
        if field_name == "photo":
            media = [{**media, "width": 800, "height": 600}]
        elif field_name == "document":
            media["file_name"] = value[2] if isinstance(value, tuple) else "file"
        elif field_name == "voice":
            media["duration"] = 1
        message = self._message(chat, self.next_message_id(chat), caption=caption or None,
                                reply_markup=_inline(markup),
                                **{field_name: media})
        message["_keyboard"] = markup
        message["_html"] = str(params.get("caption") or "")
        self._record(chat, message, "sent")
        await self._notify()
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def api_sendphoto(self, params: dict) -> dict:
        return await self._send_media(params, "photo", "photos")

    async def api_senddocument(self, params: dict) -> dict:
        return await self._send_media(params, "document", "documents")

    async def api_sendvoice(self, params: dict) -> dict:
        return await self._send_media(params, "voice", "voice")

    async def api_sendlocation(self, params: dict) -> dict:
        chat = self._chat(params)
        try:
            lat, lon = float(params["latitude"]), float(params["longitude"])
        except (KeyError, ValueError):
            raise bad_request("wrong latitude or longitude") from None
        message = self._message(chat, self.next_message_id(chat),
                                location={"latitude": lat, "longitude": lon})
        self._record(chat, message, "sent")
        await self._notify()
        return message

    async def api_sendchataction(self, params: dict) -> bool:
        self._chat(params)
        return True

    async def api_getchat(self, params: dict) -> dict:
        return self._chat(params, writing=False).as_dict()

    def _editable(self, params: dict) -> tuple[Chat, dict]:
        if params.get("inline_message_id"):
            raise bad_request("message to edit not found")
        chat = self._chat(params)
        message = chat.messages.get(int(params.get("message_id") or 0))
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return chat, message

    async def api_editmessagetext(self, params: dict) -> dict:
        chat, message = self._editable(params)
        visible = self._check_text(params.get("text"), params.get("parse_mode"))
        markup = self._check_markup(params.get("reply_markup"), chat)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        if visible == message.get("text") and markup == message.get("reply_markup"):
            raise _not_modified()
        message.update(text=visible, _html=str(params.get("text")), edit_date=int(time.time()))
        return await self._edited(chat, message, markup)

    async def _edited(self, chat: Chat, message: dict, markup: dict | None) -> dict:
        message.pop("reply_markup", None)
        message["_keyboard"] = markup
        if markup:
            message["reply_markup"] = markup
        chat.events.append(("edited", message["message_id"]))
        await self._notify()
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def api_editmessagereplymarkup(self, params: dict) -> dict:
        chat, message = self._editable(params)
        markup = self._check_markup(params.get("reply_markup"), chat)
        if markup == message.get("reply_markup"):
            raise _not_modified()
        return await self._edited(chat, message, markup)

    async def api_deletemessage(self, params: dict) -> bool:
        chat = self._chat(params)
        message_id = int(params.get("message_id") or 0)
        if message_id not in chat.messages:
            raise bad_request("message to delete not found")
        del chat.messages[message_id]
        chat.events.append(("deleted", message_id))
        await self._notify()
        return True

    async def api_answercallbackquery(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self.callback_queries.get(query_id)
        if query is None or query.get("answered"):
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        query["answer"] = text
        return True

    def _scope_key(self, params: dict) -> str:
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") in {"chat", "chat_administrators", "chat_member"}:
            chat_id = int(scope.get("chat_id", 0))
            if chat_id not in self.chats or (
                self.chats[chat_id].type == "private" and not self.chats[chat_id].started
            ):
                raise bad_request("chat not found")
            return f"{scope['type']}:{chat_id}"
        return str(scope.get("type"))

    async def api_setmycommands(self, params: dict) -> bool:
        commands = params.get("commands") or []
        if len(commands) > 100:
            raise bad_request("too many commands")
        for command in commands:
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description is too long or empty")
        self.commands[self._scope_key(params)] = commands
        return True

    async def api_deletemycommands(self, params: dict) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    async def api_getmycommands(self, params: dict) -> list[dict]:
        return self.commands.get(self._scope_key(params), [])

    async def api_getfile(self, params: dict) -> dict:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        path, data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
                "file_path": path}
