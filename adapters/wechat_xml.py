"""WeChat's flat XML, read with defusedxml (no DTDs, no entities, nothing expanded) and written back safely."""

from __future__ import annotations

import time
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class BadXml(ValueError):
    """The body is not a WeChat XML message we can read."""


def parse_flat_xml(body: bytes | str) -> dict[str, str]:
    """`<xml><Tag>value</Tag>...</xml>` as a dict; nested elements keep only their text."""
    if not body:
        raise BadXml("empty body")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, UnicodeError, ValueError) as error:
        raise BadXml(f"{error.__class__.__name__}: {error}") from error
    if root.tag != "xml":
        raise BadXml(f"root element is <{root.tag}>, not <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def cdata(value: str) -> str:
    # "]]>" cannot appear inside a CDATA section; split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply_xml(to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    """A passive text reply, as WeChat expects it in the callback's response body."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{now or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )
