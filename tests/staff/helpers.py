"""Signing staff in over real HTTP exactly as a browser does: fetch the form, post it from the same origin."""

from __future__ import annotations

import re

import httpx

PASSWORD = "a long enough password"
ACCOUNTS = {"edna": ["editor"], "aggie": ["agent"], "mona": ["manager"], "ada": ["admin"]}


def add_accounts(runtime) -> None:
    from storage.staff import StaffRepository

    staff = StaffRepository(runtime.db)
    for name, roles in ACCOUNTS.items():
        if not staff.exists(name):
            staff.add(name, roles, PASSWORD)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} field in the page"
    return match.group(1)


def sign_in(base_url: str, name: str, password: str = PASSWORD, next_path: str = "/staff") -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30, headers={"origin": base_url})
    form = client.get("/staff/login", params={"next": next_path})
    response = client.post(
        "/staff/login",
        data={"name": name, "password": password, "login_csrf": hidden(form.text, "login_csrf"), "next": next_path},
    )
    client.last_login = response  # type: ignore[attr-defined]
    return client


def csrf_of(client: httpx.Client, path: str = "/staff") -> str:
    return hidden(client.get(path).text, "csrf")


LOCALES = (("en", "en-US"), ("zh", "zh-CN"))
SCREENS = (("desktop", {"width": 1280, "height": 860}), ("mobile", {"width": 390, "height": 844}))


def signed_in_pages(browser, base_url: str, name: str, on_login_page=None):
    """For docs/screenshots: a Chromium page signed in as `name` in each language and screen size, yielded as
    (language, size, page); `on_login_page(page, language, size)` runs on the sign-in form first."""
    for language, locale in LOCALES:
        for size, viewport in SCREENS:
            context = browser.new_context(locale=locale, viewport=viewport)
            page = context.new_page()
            page.goto(f"{base_url}/staff/login")
            if on_login_page is not None:
                on_login_page(page, language, size)
            page.fill("#name", name)
            page.fill("#password", PASSWORD)
            page.click("#login")
            page.wait_for_selector("h1")
            yield language, size, page
            context.close()
