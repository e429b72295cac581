"""The HTTP side: one FastAPI app that mounts every web-facing adapter and answers /healthz."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from adapters.body_limit import BodySizeLimit
from adapters.channels import Channels
from adapters.handoff_desks import HandoffDesks
from adapters.staff import install_staff_app, open_staff_auth
from adapters.webchat import webchat_router
from bot.runtime import Runtime

MAX_BODY_BYTES = 256 * 1024
SHUTDOWN_ANNOUNCE_SECONDS = 10.0  # how long a stopping server waits for handoff news still on its way to Slack


def create_app(runtime: Runtime, *, telegram_polling: bool = False) -> FastAPI:
    channels = Channels.open(runtime)
    staff = open_staff_auth(runtime)
    handoff = HandoffDesks.open(runtime, staff)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        await channels.start(telegram_polling)
        delivery = asyncio.create_task(runtime.outbox.run(stop))
        handoff_watch = asyncio.create_task(handoff.watch(stop))
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
            if scheduled_jobs is not None:
                await scheduled_jobs
            await channels.stop()

    app = FastAPI(title="Warmdesk", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.channels = channels

    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the rejected input, which cannot be sent back when it is the reason
        # for the rejection (a lone UTF-16 surrogate is not encodable): say where and why, not what.
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in error.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, object]:
        return {"status": "ok", "faq_entries": len(runtime.knowledge)}

    install_staff_app(app, runtime, staff)
    app.include_router(webchat_router(runtime.engine, handoff.mailbox))
    for router in handoff.routers:
        app.include_router(router)
    for router in channels.routers():
        app.include_router(router)
    return app
