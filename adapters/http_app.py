"""The HTTP side: one FastAPI app that mounts every web-facing adapter and answers /healthz."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters.body_limit import BodySizeLimit
from adapters.channels import Channels
from adapters.handoff_desks import HandoffDesks
from adapters.insights_api import insights_router
from adapters.privacy_http import PrivacyHttp
from adapters.staff import install_staff_app, open_staff_auth
from adapters.staff.kb_tools import MAX_UPLOAD_MB
from adapters.webchat import webchat_router
from bot.deadline import ServiceBusy
from bot.insights import Insights, insight_settings
from bot.runtime import Runtime
from storage.db import off_loop

MAX_BODY_BYTES = 256 * 1024
KB_UPLOAD_PATH, KB_UPLOAD_BYTES = "/staff/kb/import", (MAX_UPLOAD_MB + 1) * 1024 * 1024  # editors' uploads
SHUTDOWN_ANNOUNCE_SECONDS = 10.0  # how long a stopping server waits for handoff news still on its way to Slack
READY_CHECK_SECONDS = 2.0
WORKER_THREADS = 32  # blocking calls (database, embedding) run here; a few hung on the database leave room
BUSY = {"error": "busy", "detail": "The service cannot reach its database right now; please try again shortly."}


def create_app(runtime: Runtime, *, telegram_polling: bool = False) -> FastAPI:
    channels = Channels.open(runtime)
    staff = open_staff_auth(runtime)
    handoff = HandoffDesks.open(runtime, staff)
    privacy = PrivacyHttp.open(runtime, channels)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(WORKER_THREADS, "warmdesk-worker"))
        await channels.start(telegram_polling)
        delivery = asyncio.create_task(runtime.outbox.run(stop))
        handoff_watch = asyncio.create_task(handoff.watch(stop))
        privacy_watch = asyncio.create_task(privacy.watch(stop))
        scheduled_jobs = asyncio.create_task(runtime.care.scheduler.run(stop)) if runtime.care else None
        try:
            yield
        finally:
            stop.set()
            if runtime.handoff is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(runtime.handoff.settle(), SHUTDOWN_ANNOUNCE_SECONDS)
            await delivery
            await handoff_watch
            await privacy_watch
            if scheduled_jobs is not None:
                await scheduled_jobs
            await channels.stop()

    app = FastAPI(title="Warmdesk", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.channels = channels

    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES, larger={KB_UPLOAD_PATH: KB_UPLOAD_BYTES})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the rejected input, which cannot be sent back when it is the reason
        # for the rejection (a lone UTF-16 surrogate is not encodable): say where and why, not what.
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in error.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(ServiceBusy)
    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    async def database_busy(_request: Request, _error: Exception) -> JSONResponse:
        return JSONResponse(BUSY, status_code=503, headers={"Retry-After": "5"})

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, object]:
        """Liveness: the process answers. Touches neither the database nor the index (see /readyz)."""
        return {"status": "ok", "faq_entries": len(runtime.knowledge)}

    install_staff_app(app, runtime, staff, handoff.editors.notify if handoff.editors else None)

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Readiness: the database and the knowledge index answer; 503 with the reason when one does not."""
        checks = [("database", runtime.db.ping)]
        if runtime.chroma is not None:
            checks.append(("knowledge index", runtime.chroma.heartbeat))
        for name, check in checks:
            try:
                await asyncio.wait_for(off_loop(check), READY_CHECK_SECONDS)
            except TimeoutError:
                return JSONResponse(
                    {"status": "not ready", "reason": f"{name}: no answer within {READY_CHECK_SECONDS:g} s"}, 503
                )
            except Exception as error:
                return JSONResponse({"status": "not ready", "reason": f"{name}: {error.__class__.__name__}"}, 503)
        return JSONResponse({"status": "ready", "faq_entries": len(runtime.knowledge)})

    deadline = runtime.settings.reply_deadline_seconds
    app.include_router(webchat_router(runtime.engine, handoff.mailbox, deadline=deadline))
    insights = Insights(runtime.db, insight_settings(runtime.settings))
    app.include_router(insights_router(runtime.db, runtime.settings.agent_token, insights, staff))
    if privacy.router is not None:
        app.include_router(privacy.router)
    for router in handoff.routers:
        app.include_router(router)
    for router in channels.routers():
        app.include_router(router)
    return app
