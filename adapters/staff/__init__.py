"""The staff web app: one sign-in (`StaffAuth.require(roles)`), one layout (templates/base.html), one audit path.

Adding a page (the manager dashboard, the staff inbox...): write a router module here whose routes depend on
`auth.require("manager")` (or whichever roles may see it), render with `pages.render(request, "x.html", member)`
from a template that extends base.html, put its texts in `texts.py` (both languages), add its link to the nav in
base.html, and include the router in `install_staff_app` below. Queries for the page belong in `storage/`.
"""

from __future__ import annotations

import contextlib
import threading

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from adapters.staff.auth import StaffAuth
from adapters.staff.care_pages import care_pages_router
from adapters.staff.customer_pages import customer_pages_router
from adapters.staff.drafts import drafts_router
from adapters.staff.gaps import gaps_router
from adapters.staff.insights_pages import insights_pages_router
from adapters.staff.kb import kb_router
from adapters.staff.kb_import import ImportJobs, import_jobs_router
from adapters.staff.kb_tools import kb_tools_router
from adapters.staff.pages import STATIC_DIR, install_error_pages
from adapters.staff.session_routes import session_router
from bot.draft_approval import DraftApproval
from bot.insights import Insights, insight_settings
from bot.kb_gaps import GapQueue
from bot.runtime import Runtime
from storage.kb_gaps import GapLog
from storage.staff import StaffRepository
from storage.staff_drafts import DraftRepository
from storage.staff_kb import KbListing, KbTests


def open_staff_auth(runtime: Runtime) -> StaffAuth:
    return StaffAuth(StaffRepository(runtime.db), runtime.customers, runtime.settings)


def install_staff_app(app: FastAPI, runtime: Runtime, auth: StaffAuth, notify_editors=None) -> None:
    """`notify_editors(draft)` posts a new pending draft for approval elsewhere (Slack); optional."""
    app.state.staff_auth = auth
    install_error_pages(app)
    app.mount("/staff/static", StaticFiles(directory=STATIC_DIR), name="staff-static")
    tests, drafts = KbTests(runtime.db), DraftRepository(runtime.db)
    app.include_router(session_router(auth))
    approval = DraftApproval(drafts, runtime.faqs, runtime.knowledge)
    app.include_router(drafts_router(auth, approval))
    gaps = GapQueue(GapLog(runtime.db), runtime.embedder, runtime.knowledge)
    app.include_router(gaps_router(auth, gaps, drafts, runtime.faqs, notify_editors or _nobody))
    listing = KbListing(runtime.db, runtime.faqs)
    # Read the list once now, not while the first editor waits (a few seconds with 20,000 entries).
    threading.Thread(target=_warm_up, args=(listing,), name="kb-listing-warm-up", daemon=True).start()
    app.include_router(kb_router(runtime, auth, listing, tests, drafts))
    jobs = app.state.kb_import_jobs = ImportJobs(runtime, auth)
    app.include_router(import_jobs_router(auth, jobs))
    app.include_router(kb_tools_router(runtime, auth, tests, jobs))
    insights = Insights(runtime.db, insight_settings(runtime.settings))
    app.include_router(insights_pages_router(runtime.db, auth, insights))
    app.include_router(customer_pages_router(runtime.db, auth))
    if runtime.care is not None:
        app.include_router(care_pages_router(auth, runtime.care))


def _nobody(draft) -> None:
    return None


def _warm_up(listing: KbListing) -> None:
    with contextlib.suppress(Exception):  # a server stopping at once closes the database under it; pages retry
        listing.rows()
