"""Rendering staff pages: one Jinja2 environment (templates/ with base.html + partials), the page language
(?lang= remembered in a cookie, else the browser's), and the sign-in / forbidden pages for refusals."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.staff.auth import SignInRequired
from adapters.staff.texts import LANGUAGES, say
from storage.staff import StaffMember

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html
STATIC_DIR = HERE / "static"
LANGUAGE_COOKIE = "warmdesk_staff_lang"
LOGIN_CSRF_COOKIE = "warmdesk_login_csrf"


def page_language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if asked in LANGUAGES:
        return asked
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


def render(
    request: Request, template: str, member: StaffMember | None, status_code: int = 200, **context: object
) -> HTMLResponse:
    language = page_language(request)

    def t(key: str, **values: object) -> str:
        return say(key, language, **values)

    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"t": t, "lang": language, "member": member, "csrf": member.csrf_token if member else "", **context},
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, samesite="lax", max_age=365 * 86400)
    return response


def login_page(
    request: Request, next_path: str = "/staff", error: str = "", status_code: int = 200, name: str = ""
) -> HTMLResponse:
    """The sign-in form with a fresh login-CSRF token (double-submit: cookie and hidden field)."""
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", None, status_code, next=safe_next(next_path), error=error, login_csrf=token, name=name
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/staff/login")
    return response


def safe_next(path: str | None) -> str:
    """Only a path on this site: `//evil.example` or `https://...` would send the editor elsewhere."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/staff"
    return path


def install_error_pages(app) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, error: SignInRequired) -> HTMLResponse | JSONResponse:
        if error.api:
            return JSONResponse({"detail": "sign in at /staff/login"}, status_code=401)
        return login_page(request, request.url.path, say("login.expired", page_language(request)), 401)

    previous = app.exception_handlers.get(StarletteHTTPException)

    @app.exception_handler(StarletteHTTPException)
    async def staff_http_error(request: Request, error: StarletteHTTPException):
        path = request.url.path
        browser_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        if error.status_code == 403 and browser_page and path.startswith(("/staff", "/agent")) and "/api/" not in path:
            return render(request, "forbidden.html", None, 403, detail=str(error.detail))
        if previous is not None:
            return await previous(request, error)
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
