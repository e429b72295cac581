"""The WeChat Official Account API through wechatpy: access token cached and refreshed, calls retried (tenacity),
customer-service messages (客服消息) as the outbox's WeChat sender."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from adapters.wechat_messages import render_text, split_text
from bot.messages import OutboundMessage
from bot.outbox import DeliveryError

# Longer than the API's real latency: a read that times out may have been delivered, and is sent again.
REQUEST_TIMEOUT_SECONDS = (10.0, 30.0)  # (connect, read)
RATE_LIMIT_PAUSE_SECONDS = 60.0
# errcode: -1 system busy, -1000 system error; None: an HTTP-level failure (5xx, connection reset).
TRANSIENT_ERRCODES = (None, -1, -1000)
RATE_LIMITED_ERRCODES = (45009,)  # out of API call quota; retry later


class _TimeoutSession(requests.Session):
    """wechatpy fetches the access token without a timeout; a hung token request must not stall the outbox."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = REQUEST_TIMEOUT_SECONDS
        return super().request(*args, **kwargs)


class OfficialAccountClient(WeChatClient):
    """wechatpy's client, pointed at `api_base_url` (Tencent's, or a local server in tests)."""

    def __init__(self, app_id: str, secret: str, api_base_url: str = "https://api.weixin.qq.com") -> None:
        super().__init__(app_id, secret, timeout=REQUEST_TIMEOUT_SECONDS)
        root = api_base_url.rstrip("/")
        self.API_BASE_URL = f"{root}/cgi-bin/"
        self._token_url = f"{root}/cgi-bin/token"
        self._http = _TimeoutSession()

    def fetch_access_token(self) -> dict:
        return self._fetch_access_token(
            url=self._token_url,
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def _transient(error: BaseException) -> bool:
    if isinstance(error, requests.ReadTimeout):  # WeChat may have sent it: the outbox decides, later, not here
        return False
    if isinstance(error, requests.RequestException):
        return True
    return isinstance(error, WeChatClientException) and error.errcode in TRANSIENT_ERRCODES


def default_retrying() -> Retrying:
    return Retrying(
        retry=retry_if_exception(_transient),
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.3, max=3),
        reraise=True,
    )


class WeChatSender:
    """Sends customer-service text messages; wechatpy is blocking, so each call runs in a worker thread."""

    def __init__(self, client: OfficialAccountClient, retrying: Retrying | None = None) -> None:
        self._client = client
        self._retrying = retrying or default_retrying()
        self._lock = threading.Lock()  # one token refresh at a time

    async def send(self, message: OutboundMessage) -> str | None:
        """One customer-service message, or several in order when the text is over WeChat's size limit (a retry
        after a later part failed sends the earlier parts again: the outbox retries whole messages)."""
        ids = [
            await asyncio.to_thread(self._send_blocking, message.platform_user_id, part)
            for part in split_text(render_text(message))
        ]
        return ids[0]

    def _send_blocking(self, openid: str, text: str) -> str | None:
        try:
            with self._lock:
                result = self._retrying(self._client.message.send_text, openid, text)
        except WeChatClientException as error:
            reason = f"wechat: errcode {error.errcode}: {error.errmsg}"
            if error.errcode in RATE_LIMITED_ERRCODES:
                raise DeliveryError(reason, retry_after=RATE_LIMIT_PAUSE_SECONDS) from error
            # 45015: the customer has not written for 48 h; 43004: unsubscribed; 40003: unknown openid ...
            raise DeliveryError(reason, permanent=error.errcode not in TRANSIENT_ERRCODES) from error
        except requests.RequestException as error:
            raise DeliveryError(f"wechat: {error.__class__.__name__}: {error}") from error
        msgid = result.get("msgid") if isinstance(result, dict) else None
        return str(msgid) if msgid is not None else None
