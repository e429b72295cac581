"""Staff commands from Slack: /customer <query> (an ephemeral card) and /note <customer> <text>.

Only Slack user ids (U…/W…) or members of user groups (S…) listed in SLACK_STAFF_IDS may use them; others
get a polite refusal. Every lookup, refusal and note is written to the AuditLog.
"""

from __future__ import annotations

import shlex
import time

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_blocks import customer_card
from bot.handoff.agent_texts import agent_say
from storage.customers import CustomerRepository
from storage.db import off_loop

GROUP_CACHE_SECONDS = 300
MAX_CARDS = 3


class StaffAllowlist:
    def __init__(self, ids: str) -> None:
        entries = [item.strip() for item in ids.split(",") if item.strip()]
        self._users = {item for item in entries if not item.startswith("S")}
        self._groups = [item for item in entries if item.startswith("S")]
        self._group_members: tuple[float, set[str]] | None = None  # (fetched at, members)

    async def allows(self, user_id: str, client: AsyncWebClient) -> bool:
        if user_id in self._users:
            return True
        if not self._groups:
            return False
        # Never fetched counts as stale: a monotonic clock may start near 0 (a freshly booted machine).
        if self._group_members is None or time.monotonic() - self._group_members[0] > GROUP_CACHE_SECONDS:
            members = set()
            for group in self._groups:
                response = await client.usergroups_users_list(usergroup=group)
                members.update(response.get("users", []))
            self._group_members = (time.monotonic(), members)
        return user_id in self._group_members[1]


class StaffCommands:
    def __init__(self, customers: CustomerRepository, staff_ids: str, language: str = "en") -> None:
        self._customers = customers
        self._allowlist = StaffAllowlist(staff_ids)
        self._language = language

    def register(self, app: AsyncApp) -> None:
        app.command("/customer")(self.lookup)
        app.command("/note")(self.note)

    async def lookup(self, ack, command, client) -> None:
        actor, query = f"slack:{command['user_id']}", (command.get("text") or "").strip()
        if not await self._allowlist.allows(command["user_id"], client):
            await off_loop(self._customers.audit, actor, "customer.lookup_refused", None, {"query": query})
            return await ack(text=self._say("error.not_staff"))
        if not query:
            return await ack(text=self._say("lookup.usage"))
        found = await off_loop(self._customers.find, query)
        await off_loop(
            self._customers.audit,
            actor,
            "customer.lookup",
            ",".join(f"customer:{c.id}" for c in found) or None,
            {"query": query},
        )
        if not found:
            return await ack(text=self._say("lookup.none", query=query))
        blocks = []
        for customer in found[:MAX_CARDS]:
            view = await off_loop(self._customers.view, customer.id, message_limit=50)
            if view is not None:
                blocks += [*customer_card(view, self._language), {"type": "divider"}]
        await ack(text=f"{len(found)} customer(s) found", blocks=blocks[:-1], response_type="ephemeral")

    async def note(self, ack, command, client) -> None:
        actor, raw = f"slack:{command['user_id']}", (command.get("text") or "").strip()
        if not await self._allowlist.allows(command["user_id"], client):
            await off_loop(self._customers.audit, actor, "customer.note_refused", None, {"text": raw[:200]})
            return await ack(text=self._say("error.not_staff"))
        query, text = _split_note(raw)
        if not query or not text:
            return await ack(text=self._say("note.usage"))
        found = await off_loop(self._customers.find, query)
        if len(found) != 1:
            key = "lookup.none" if not found else "note.ambiguous"
            return await ack(text=self._say(key, query=query, count=len(found)))
        customer = found[0]
        await off_loop(self._customers.add_note, customer.id, actor, text)
        await off_loop(self._customers.audit, actor, "customer.note", f"customer:{customer.id}", {"query": query})
        await ack(text=self._say("note.added", name=customer.display_name or f"#{customer.id}"))

    def _say(self, key: str, **values: object) -> str:
        return agent_say(key, self._language, **values)


def _split_note(raw: str) -> tuple[str, str]:
    """`"Ann Lee" called back` or `#12 called back` → (customer query, note text)."""
    if raw.startswith('"'):
        try:
            first = shlex.split(raw)[0]
        except ValueError:
            return "", ""
        rest = raw[raw.index('"', 1) + 1 :].strip()
        return first, rest
    query, _, text = raw.partition(" ")
    return query, text.strip()
