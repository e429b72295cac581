"""Who is signed in to the staff app, and what they may do: the one sign-in dependency every staff route uses.

A browser signs in at /staff/login and gets a server-side session (cookie `warmdesk_staff`, HttpOnly,
SameSite=Lax, Secure when WARMDESK_COOKIE_SECURE is set) that ends after WARMDESK_STAFF_SESSION_HOURS, after
WARMDESK_STAFF_IDLE_MINUTES without a request, or at sign-out. A request that changes something with that
cookie must come from the app's own origin (Origin, or Referer when a browser sends no Origin), and a form
must carry the session's CSRF token. Scripts use `Authorization: Bearer $WARMDESK_AGENT_TOKEN` (+ X-Agent-Name)
instead: no cookie, so no cross-site risk and no Origin check. The token also signs a person in at the form as
the bootstrap admin, under any name that is not an account's.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from bot.settings import Settings
from storage.customers import CustomerRepository
from storage.models import utcnow
from storage.staff import StaffMember, StaffRepository

COOKIE = "warmdesk_staff"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BEARER_NAME_PATTERN = r"^[\w .@-]{1,40}$"  # the console's X-Agent-Name rule: spaces allowed


class SignInRequired(Exception):
    """Nobody (or nobody still valid) is signed in: pages show the sign-in form, APIs answer 401."""

    def __init__(self, path: str, api: bool) -> None:
        self.path, self.api = path, api


class StaffAuth:
    def __init__(
        self,
        staff: StaffRepository,
        audit_log: CustomerRepository,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.staff, self._audit_log, self.settings, self.clock = staff, audit_log, settings, clock
        self._token = settings.agent_token or ""
        self._origins = {o.strip().rstrip("/") for o in settings.staff_origins.split(",") if o.strip()}

    # --- the dependency -----------------------------------------------------------------------------

    def member(self, request: Request) -> StaffMember | None:
        """The signed-in member for this request (session cookie or bearer token), without any checks."""
        bearer = request.headers.get("authorization", "")
        if self._token and bearer.startswith("Bearer "):
            if not hmac.compare_digest(bearer.removeprefix("Bearer ").encode(), self._token.encode()):
                return None
            return StaffMember(_bearer_name(request.headers.get("x-agent-name")), ("admin",), via_token=True)
        token = request.cookies.get(COOKIE)
        if not token or len(token) > 200:
            return None
        return self.staff.session_member(token, self.clock(), timedelta(minutes=self.settings.staff_idle_minutes))

    def require(self, *roles: str) -> Callable:
        """A route dependency: the signed-in member holding one of `roles` (admin holds every role), whose
        state-changing request came from this app. Refusals are audited."""

        async def dependency(request: Request) -> StaffMember:
            member = await run_in_threadpool(self.member, request)
            if member is None:
                raise SignInRequired(request.url.path, _wants_json(request))
            if member.name == "":
                raise HTTPException(400, "X-Agent-Name: 1 to 40 letters, digits or . @ - _")
            if request.method not in SAFE_METHODS and not member.via_token:
                await self._check_same_origin(request, member)
            if roles and not member.has_any(roles):
                await run_in_threadpool(
                    self.audit, member, "staff.forbidden", request.url.path, {"method": request.method}
                )
                raise HTTPException(403, f"your roles ({', '.join(member.roles)}) do not allow this")
            return member

        return dependency

    async def _check_same_origin(self, request: Request, member: StaffMember) -> None:
        if not self.same_origin(request):
            await run_in_threadpool(self.audit, member, "staff.cross_site_refused", request.url.path)
            raise HTTPException(403, "cross-site request refused: send it from the staff app's own pages")
        if request.headers.get("content-type", "").split(";")[0].strip() in FORM_TYPES:
            form = await request.form()
            given = form.get("csrf")
            if not isinstance(given, str) or not hmac.compare_digest(given.encode(), member.csrf_token.encode()):
                await run_in_threadpool(self.audit, member, "staff.csrf_refused", request.url.path)
                raise HTTPException(403, "the form's security token is missing or old: reload the page")

    def same_origin(self, request: Request) -> bool:
        """Origin (or Referer) names this very host and port, or one of WARMDESK_STAFF_ORIGINS."""
        claimed = request.headers.get("origin") or request.headers.get("referer")
        if not claimed or claimed == "null":
            return False
        parts = urlsplit(claimed)
        origin = f"{parts.scheme}://{parts.netloc}"
        host = request.headers.get("host", "")
        return (bool(host) and parts.netloc == host) or origin in self._origins

    # --- signing in and out -------------------------------------------------------------------------

    def throttled(self, name: str, address: str) -> bool:
        since = self.clock() - timedelta(minutes=self.settings.login_window_minutes)
        by_name, by_address = self.staff.recent_failures(name, address, since)
        return (
            by_name >= self.settings.login_max_failures_per_name
            or by_address >= self.settings.login_max_failures_per_address
        )

    def sign_in(self, name: str, password: str, address: str) -> tuple[str, str] | None:
        """Check the password (or the bootstrap token) and open a session: (cookie token, CSRF token)."""
        roles = self.staff.verify(name, password)
        bootstrap = bool(self._token) and hmac.compare_digest(password.encode(), self._token.encode())
        if roles is None and bootstrap and not self.staff.exists(name):
            roles = ("admin",)
        if roles is None:
            self.staff.record_failure(name, address, self.clock())
            self.audit_as(f"staff:{name}", "staff.login_failed", detail={"address": address})
            return None
        self.staff.clear_failures(name)
        lifetime = timedelta(hours=self.settings.staff_session_hours)
        opened = self.staff.open_session(name, roles, self.clock(), lifetime)
        self.audit_as(f"staff:{name}", "staff.login", detail={"address": address, "roles": list(roles)})
        return opened

    def cookie_options(self) -> dict[str, object]:
        return {
            "httponly": True,
            "samesite": "lax",  # strict would drop the session when an editor follows a link from Slack
            "secure": self.settings.cookie_secure,
            "path": "/",
            "max_age": int(self.settings.staff_session_hours * 3600),
        }

    # --- the one audit path -------------------------------------------------------------------------

    def audit(self, member: StaffMember, action: str, target: str | None = None, detail: dict | None = None) -> None:
        self.audit_as(member.actor, action, target, detail)

    def audit_as(self, actor: str, action: str, target: str | None = None, detail: dict | None = None) -> None:
        self._audit_log.audit(actor, action, target, detail)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "/api/" in request.url.path or ("text/html" not in accept and request.method != "GET")


def _bearer_name(raw: str | None) -> str:
    """The name a Bearer client sends in X-Agent-Name ("token" when none); "" when it breaks the rule. HTTP
    headers arrive as Latin-1, so UTF-8 names are decoded again. Spaces are allowed, as the console always did."""
    if raw is None:
        return "token"
    try:
        name = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return ""
    return name if re.fullmatch(BEARER_NAME_PATTERN, name) else ""
