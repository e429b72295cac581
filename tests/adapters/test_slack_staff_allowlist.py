"""Who may use /customer and /note: listed user ids, or members of listed user groups."""

from __future__ import annotations

from adapters import slack_staff
from adapters.slack_staff import StaffAllowlist


class GroupClient:
    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = members
        self.calls = 0

    async def usergroups_users_list(self, usergroup: str) -> dict:
        self.calls += 1
        return {"ok": True, "users": self.members.get(usergroup, [])}


async def test_group_members_are_fetched_on_first_use_even_right_after_boot(monkeypatch):
    monkeypatch.setattr(slack_staff.time, "monotonic", lambda: 12.0)  # a machine up for 12 seconds
    client = GroupClient({"S1": ["U7"]})
    allowlist = StaffAllowlist("U5,S1")

    assert await allowlist.allows("U7", client)
    assert not await allowlist.allows("U8", client)
    assert client.calls == 1  # cached for GROUP_CACHE_SECONDS


async def test_group_members_are_fetched_again_after_the_cache_expires(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(slack_staff.time, "monotonic", lambda: now[0])
    client = GroupClient({"S1": ["U7"]})
    allowlist = StaffAllowlist("S1")
    assert await allowlist.allows("U7", client)

    client.members["S1"] = ["U9"]
    now[0] += slack_staff.GROUP_CACHE_SECONDS + 1
    assert await allowlist.allows("U9", client)
    assert not await allowlist.allows("U7", client)
    assert client.calls == 2
