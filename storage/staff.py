"""Staff accounts (argon2-hashed passwords, roles), their server-side sessions and the sign-in throttle's memory."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.models import LoginFailure, StaffAccount, StaffSession, utcnow

ROLES = ("admin", "editor", "agent", "manager")
NAME_PATTERN = r"^[\w.@-]{1,40}$"  # also the console's rule minus spaces: names appear in audit actors
MIN_PASSWORD_CHARS = 10

_hasher = PasswordHasher()
# Verifying against this when the name is unknown takes as long as a real check, so timing tells nobody
# which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A mistake in what was asked (bad name, role, password, unknown or duplicate account)."""


@dataclass(frozen=True, slots=True)
class StaffMember:
    """Who is signed in, and what they may do."""

    name: str
    roles: tuple[str, ...]
    csrf_token: str = ""
    via_token: bool = False  # signed in with WARMDESK_AGENT_TOKEN (the bootstrap admin) rather than an account

    @property
    def actor(self) -> str:
        return f"staff:{self.name}"

    def has_any(self, roles: tuple[str, ...] | list[str]) -> bool:
        return "admin" in self.roles or any(role in self.roles for role in roles)


@dataclass(frozen=True, slots=True)
class AccountInfo:
    name: str
    roles: tuple[str, ...]
    created_at: datetime
    disabled_at: datetime | None


def check_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name or ""):
        raise StaffError(f"bad name {name!r}: 1 to 40 letters, digits or . @ - _ (no spaces)")
    return name


def check_roles(roles: list[str]) -> tuple[str, ...]:
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise StaffError(f"unknown role {unknown[0]!r}" if unknown else "give at least one role")
    return tuple(dict.fromkeys(roles))


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise StaffError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > 1024:
        raise StaffError("the password is longer than 1,024 characters")
    return password


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- accounts -----------------------------------------------------------------------------------

    def add(self, name: str, roles: list[str], password: str) -> AccountInfo:
        account = StaffAccount(
            name=check_name(name),
            roles=list(check_roles(roles)),
            password_hash=_hasher.hash(check_password(password)),
        )
        try:
            with self._db.session() as session:
                session.add(account)
        except IntegrityError as error:
            raise StaffError(f"there is already an account named {name!r}") from error
        return _info(account)

    def accounts(self) -> list[AccountInfo]:
        with self._db.session() as session:
            return [_info(a) for a in session.exec(select(StaffAccount).order_by(StaffAccount.name)).all()]

    def exists(self, name: str) -> bool:
        with self._db.session() as session:
            return session.exec(select(StaffAccount.id).where(StaffAccount.name == name)).first() is not None

    def set_password(self, name: str, password: str) -> None:
        with self._db.session() as session:
            account = _account(session, name)
            account.password_hash = _hasher.hash(check_password(password))
            account.password_changed_at = utcnow()
            session.add(account)
            session.exec(delete(StaffSession).where(StaffSession.staff_name == name))

    def disable(self, name: str) -> None:
        """The account can no longer sign in and every browser it is signed in on is signed out."""
        with self._db.session() as session:
            account = _account(session, name)
            account.disabled_at = account.disabled_at or utcnow()
            session.add(account)
            session.exec(delete(StaffSession).where(StaffSession.staff_name == name))

    def has_role(self, name: str, roles: tuple[str, ...]) -> bool:
        """An enabled account named `name` holds one of `roles`."""
        with self._db.session() as session:
            account = session.exec(select(StaffAccount).where(StaffAccount.name == name)).first()
        return account is not None and account.disabled_at is None and any(r in account.roles for r in roles)

    def verify(self, name: str, password: str) -> tuple[str, ...] | None:
        """The account's roles when `password` is right and the account enabled; None otherwise."""
        with self._db.session() as session:
            account = session.exec(select(StaffAccount).where(StaffAccount.name == name)).first()
        try:
            _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if account is None or account.disabled_at is not None:
            return None
        return tuple(account.roles)

    # --- sessions -----------------------------------------------------------------------------------

    def open_session(self, name: str, roles: tuple[str, ...], now: datetime, lifetime: timedelta) -> tuple[str, str]:
        """A new session: (the cookie's token, the session's CSRF token). The token itself is never stored."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._db.session() as session:
            session.add(
                StaffSession(
                    token_hash=token_hash(token),
                    staff_name=name,
                    roles=list(roles),
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + lifetime,
                )
            )
            session.exec(delete(StaffSession).where(StaffSession.expires_at < now))
        return token, csrf

    def session_member(self, token: str, now: datetime, idle: timedelta) -> StaffMember | None:
        """The signed-in member for a cookie token, or None when unknown, expired or idle too long.
        Seen-at moves at most once a minute, so page loads do not all write."""
        with self._db.session() as session:
            row = session.get(StaffSession, token_hash(token))
            if row is None:
                return None
            if row.expires_at <= now or row.last_seen_at + idle <= now:
                session.delete(row)
                return None
            if now - row.last_seen_at > timedelta(minutes=1):
                row.last_seen_at = now
                session.add(row)
            return StaffMember(row.staff_name, tuple(row.roles), row.csrf_token)

    def close_session(self, token: str) -> None:
        with self._db.session() as session:
            session.exec(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))

    # --- sign-in throttle ---------------------------------------------------------------------------

    def record_failure(self, name: str, address: str, now: datetime) -> None:
        with self._db.session() as session:
            session.add(LoginFailure(name=name[:80], address=address[:80], created_at=now))

    def recent_failures(self, name: str, address: str, since: datetime) -> tuple[int, int]:
        """Wrong sign-ins since `since`: (for this name, from this address)."""
        with self._db.session() as session:
            recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.created_at >= since)
            by_name = session.exec(recent.where(LoginFailure.name == name[:80])).one()
            by_address = session.exec(recent.where(LoginFailure.address == address[:80])).one()
            session.exec(delete(LoginFailure).where(LoginFailure.created_at < since))
        return by_name, by_address

    def clear_failures(self, name: str) -> None:
        with self._db.session() as session:
            session.exec(delete(LoginFailure).where(LoginFailure.name == name[:80]))


def _account(session, name: str) -> StaffAccount:
    account = session.exec(select(StaffAccount).where(StaffAccount.name == name)).first()
    if account is None:
        raise StaffError(f"no account named {name!r}")
    return account


def _info(account: StaffAccount) -> AccountInfo:
    return AccountInfo(account.name, tuple(account.roles), account.created_at, account.disabled_at)
