"""The managers' pages on a small app of their own (the staff sign-in, the insights API and pages, no bot
runtime): what the page tests and the screenshots serve."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from adapters.insights_api import insights_router
from adapters.staff.auth import StaffAuth
from adapters.staff.customer_pages import customer_pages_router
from adapters.staff.insights_pages import insights_pages_router
from adapters.staff.pages import STATIC_DIR, install_error_pages
from adapters.staff.session_routes import session_router
from bot.insights import Insights
from bot.settings import Settings
from storage.customers import CustomerRepository
from storage.db import Database
from storage.staff import StaffRepository
from tests.staff.helpers import ACCOUNTS, PASSWORD

TOKEN = "manager-pages-token"


def add_staff(db: Database) -> None:
    staff = StaffRepository(db)
    for name, roles in ACCOUNTS.items():
        if not staff.exists(name):
            staff.add(name, roles, PASSWORD)


def pages_app(db: Database, data_dir: Path) -> FastAPI:
    settings = Settings(data_dir=data_dir, agent_token=TOKEN, login_max_failures_per_address=50)
    auth = StaffAuth(StaffRepository(db), CustomerRepository(db), settings)
    app = FastAPI()
    app.state.staff_auth = auth
    install_error_pages(app)
    app.mount("/staff/static", StaticFiles(directory=STATIC_DIR), name="staff-static")
    insights = Insights(db)
    app.include_router(session_router(auth))
    app.include_router(insights_pages_router(db, auth, insights))
    app.include_router(customer_pages_router(db, auth))
    app.include_router(insights_router(db, TOKEN, insights, auth))
    return app
