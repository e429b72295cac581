"""`run.py staff ...`: accounts for the staff web app (/staff, /agent): add, list, disable, change a password."""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.runtime import open_database
from bot.settings import Settings
from storage.customers import CustomerRepository
from storage.staff import ROLES, StaffError, StaffRepository


def register(commands: argparse._SubParsersAction) -> None:
    staff = commands.add_parser("staff", help="staff accounts for the web app: add, list, disable, passwd")
    sub = staff.add_subparsers(dest="staff_command", required=True)

    p = sub.add_parser("add", help="create an account (asks for the password, or reads it from stdin)")
    p.add_argument("name")
    p.add_argument(
        "--role", action="append", required=True, choices=ROLES, help="admin, editor, agent or manager (repeatable)"
    )
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(handler=add)

    sub.add_parser("list", help="every account with its roles").set_defaults(handler=list_accounts)

    p = sub.add_parser("disable", help="stop an account from signing in; signs it out everywhere")
    p.add_argument("name")
    p.set_defaults(handler=disable)

    p = sub.add_parser("passwd", help="set a new password; signs the account out everywhere")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(handler=passwd)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise StaffError("the two passwords differ")
    return first


def _run(settings: Settings, change) -> int:
    db = open_database(settings)
    try:
        return change(StaffRepository(db), CustomerRepository(db))
    except StaffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except EOFError:
        print("error: no password given", file=sys.stderr)
        return 2
    finally:
        db.dispose()


def add(settings: Settings, args: argparse.Namespace) -> int:
    def change(staff: StaffRepository, audit: CustomerRepository) -> int:
        account = staff.add(args.name, args.role, _password(args))
        audit.audit("cli", "staff.add", f"staff:{account.name}", {"roles": list(account.roles)})
        print(f"added {account.name} ({', '.join(account.roles)})")
        return 0

    return _run(settings, change)


def list_accounts(settings: Settings, args: argparse.Namespace) -> int:
    def show(staff: StaffRepository, _audit: CustomerRepository) -> int:
        for account in staff.accounts():
            state = f"disabled {account.disabled_at:%Y-%m-%d}" if account.disabled_at else "active"
            print(f"{account.name}\t{','.join(account.roles)}\t{state}")
        return 0

    return _run(settings, show)


def disable(settings: Settings, args: argparse.Namespace) -> int:
    def change(staff: StaffRepository, audit: CustomerRepository) -> int:
        staff.disable(args.name)
        audit.audit("cli", "staff.disable", f"staff:{args.name}")
        print(f"{args.name} can no longer sign in")
        return 0

    return _run(settings, change)


def passwd(settings: Settings, args: argparse.Namespace) -> int:
    def change(staff: StaffRepository, audit: CustomerRepository) -> int:
        if not staff.exists(args.name):
            raise StaffError(f"no account named {args.name!r}")
        staff.set_password(args.name, _password(args))
        audit.audit("cli", "staff.passwd", f"staff:{args.name}")
        print(f"new password set for {args.name}; their sessions are closed")
        return 0

    return _run(settings, change)
