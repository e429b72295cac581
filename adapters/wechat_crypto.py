"""Checking WeChat callback signatures and opening/sealing safe-mode (AES) messages, with wechatpy's crypto."""

from __future__ import annotations

import time
from collections.abc import Callable

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from adapters.wechat_xml import BadXml, parse_flat_xml

# The signature covers token, timestamp and nonce (in plaintext mode not the body): a request older or newer than
# this is refused in both modes, and a nonce seen before inside it is a replay (see adapters/wechat.py).
MAX_AGE_SECONDS = 300


class BadSignature(Exception):
    """The request was not signed with our token (or not by WeChat)."""


class CallbackCrypto:
    def __init__(
        self, token: str, aes_key: str | None = None, app_id: str | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._token = token
        self.clock = clock
        self._aes = WeChatCrypto(token, aes_key, app_id) if aes_key and app_id else None

    @property
    def safe_mode_available(self) -> bool:
        return self._aes is not None

    def verify(self, signature: str, timestamp: str, nonce: str) -> None:
        try:
            check_signature(self._token, signature, timestamp, nonce)
        except InvalidSignatureException as error:
            raise BadSignature("signature") from error

    def open(self, body: bytes, query: dict[str, str]) -> tuple[dict[str, str], bool]:
        """The message fields, and whether replies must be encrypted (compatible and safe modes)."""
        self.verify(query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
        if not _fresh(query.get("timestamp", ""), self.clock()):
            raise BadSignature("stale timestamp")
        envelope = parse_flat_xml(body)
        if query.get("encrypt_type", "raw").lower() != "aes":
            return envelope, False
        if self._aes is None:
            raise BadXml("safe mode message, but WECHAT_AES_KEY / WECHAT_APP_ID are not set")
        if "Encrypt" not in envelope:
            raise BadXml("safe mode message without <Encrypt>")
        try:
            plain = self._aes.decrypt_message(
                {"Encrypt": envelope["Encrypt"]}, query.get("msg_signature", ""), query["timestamp"], query["nonce"]
            )
        except InvalidSignatureException as error:
            raise BadSignature("msg_signature") from error
        except InvalidAppIdException as error:
            raise BadSignature("app id") from error
        except Exception as error:  # bad base64, padding or UTF-8 inside the ciphertext
            raise BadXml(f"cannot decrypt: {error.__class__.__name__}") from error
        return parse_flat_xml(plain), True

    def seal(self, reply_xml: str, nonce: str) -> str:
        if self._aes is None:
            raise RuntimeError("safe mode is not configured")
        return self._aes.encrypt_message(reply_xml, nonce)


def _fresh(timestamp: str, now: float) -> bool:
    try:
        return abs(now - int(timestamp)) <= MAX_AGE_SECONDS
    except ValueError:
        return False
