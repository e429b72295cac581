"""A local stand-in for the WeChat Official Account API, and request builders using WeChat's own signing."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

# Tencent's published sample (WXBizMsgCrypt demo): token, EncodingAESKey, AppID and an encrypted text message.
SAMPLE_TOKEN = "spamtest"
SAMPLE_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_APP_ID = "wx2c2769f8efd9abc2"
SAMPLE_TIMESTAMP = "1409735669"
SAMPLE_NONCE = "1320562132"
SAMPLE_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
SAMPLE_BODY = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]>"
    "</FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]>"
    "</Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8K"
    "UePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T3"
    "32jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77T"
    "szTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMy"
    "VWQLCzpu9GhglF2PE=]]></Encrypt></xml>"
)
SAMPLE_OPENID = "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
SAMPLE_MSG_ID = "6054768590064713728"


def sign(*parts: str) -> str:
    """WeChat's callback signature: SHA-1 over the sorted, concatenated parts (wechatpy's signer)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def signed_query(token: str = SAMPLE_TOKEN, timestamp: str | None = None, nonce: str | None = None, **extra) -> str:
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or uuid.uuid4().hex[:10]
    params = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}
    return urlencode(params)


def text_xml(content: str, openid: str, msg_id: str | None = None, kind: str = "text") -> str:
    msg_id = msg_id or str(uuid.uuid4().int % 10**19)
    body = f"<Content><![CDATA[{content}]]></Content>" if kind == "text" else "<MediaId><![CDATA[m1]]></MediaId>"
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{body}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(event: str, openid: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def encrypted_request(plain_xml: str, timestamp: str | None = None) -> tuple[str, str]:
    """(query, body) of a safe-mode callback, sealed with the sample's key as WeChat would."""
    crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_APP_ID)
    timestamp, nonce = timestamp or str(int(time.time())), uuid.uuid4().hex[:10]
    sealed = crypto.encrypt_message(plain_xml, nonce, timestamp)
    encrypt = sealed.split("<Encrypt><![CDATA[", 1)[1].split("]]>", 1)[0]
    query = signed_query(
        timestamp=timestamp,
        nonce=nonce,
        encrypt_type="aes",
        msg_signature=sign(SAMPLE_TOKEN, timestamp, nonce, encrypt),
    )
    return query, f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"


class FakeWeChatApi:
    """`/cgi-bin/token` and `/cgi-bin/message/custom/send`, with scripted failures."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.token_requests = 0
        self.failures: list[tuple[int, dict]] = []
        self.valid_token = "ACCESS-1"
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/token", self._token, methods=["GET"]),
                Route("/cgi-bin/message/custom/send", self._send, methods=["POST"]),
            ]
        )

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self.failures.clear()
            self.token_requests = 0

    def wait_for_sent(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} customer-service messages, got {self.sent}")
            time.sleep(0.02)
        return list(self.sent)

    async def _token(self, request: Request) -> JSONResponse:
        self.token_requests += 1
        return JSONResponse({"access_token": self.valid_token, "expires_in": 7200})

    async def _send(self, request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != self.valid_token:
            return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
        payload = await request.json()
        with self._lock:
            if self.failures:
                status, body = self.failures.pop(0)
                return JSONResponse(body, status_code=status)
            self.sent.append(payload)
            return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": len(self.sent)})
