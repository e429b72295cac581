"""Signing in and out of the staff app, and its home page."""

import hmac
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from adapters.staff.auth import COOKIE, StaffAuth
from adapters.staff.pages import LOGIN_CSRF_COOKIE, login_page, page_language, render, safe_next
from adapters.staff.texts import say
from storage.staff import NAME_PATTERN, StaffMember


def session_router(auth: StaffAuth) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    SignedIn = Annotated[StaffMember, Depends(auth.require())]

    @router.get("/staff/login", response_class=HTMLResponse)
    async def login_form(request: Request, next: str = "/staff") -> HTMLResponse:
        return login_page(request, next)

    @router.post("/staff/login")
    async def login(
        request: Request,
        name: str = Form(max_length=80),
        password: str = Form(max_length=1024),
        login_csrf: str = Form(default="", max_length=100),
        next: str = Form(default="/staff", max_length=2000),
    ):
        language = page_language(request)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        same_token = bool(expected) and hmac.compare_digest(expected.encode(), login_csrf.encode())
        if not auth.same_origin(request) or not same_token:
            auth.audit_as("web", "staff.login_csrf_refused", detail={"address": _address(request)})
            return login_page(request, next, say("login.stale", language), 403, name=name)
        address = _address(request)
        if await run_in_threadpool(auth.throttled, name, address):
            await run_in_threadpool(auth.audit_as, f"staff:{name}", "staff.login_throttled", None, {"address": address})
            minutes = round(auth.settings.login_window_minutes)
            return login_page(request, next, say("login.throttled", language, minutes=minutes), 429, name=name)
        opened = None
        if re.fullmatch(NAME_PATTERN, name):
            opened = await run_in_threadpool(auth.sign_in, name, password, address)
        else:
            await run_in_threadpool(auth.staff.record_failure, name, address, auth.clock())
        if opened is None:
            return login_page(request, next, say("login.wrong", language), 401, name=name)
        token, _csrf = opened
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(COOKIE, token, **auth.cookie_options())
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff/login")
        return response

    @router.post("/staff/logout")
    async def logout(member: SignedIn, request: Request):
        token = request.cookies.get(COOKIE)
        if token:
            await run_in_threadpool(auth.staff.close_session, token)
        await run_in_threadpool(auth.audit, member, "staff.logout")
        response = RedirectResponse("/staff/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", secure=auth.settings.cookie_secure, httponly=True, samesite="lax")
        return response

    @router.get("/staff", response_class=HTMLResponse)
    def home(member: SignedIn, request: Request) -> HTMLResponse:
        auth.audit(member, "staff.view", "/staff")
        return render(request, "home.html", member)

    return router


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
