"""``python -m matcher users ...``: planners' accounts and roles, for an administrator.

Whoever runs the command line holds the store's credentials (the workspace folder or
``MATCHER_DB_URL``): it is an administrator's tool. Changes still name the admin account that makes
them (``--as``), and the store checks that it is one; the first account (an admin) needs no ``--as``.
Passwords are read without echo from the terminal, or from standard input with ``--password-stdin``;
never from the command line, where other users of the server could read them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from matcher.commands.store import WHERE
from matcher.exceptions import MatcherError
from matcher.store import ROLES, Store


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``users`` command and its actions."""
    parser = subparsers.add_parser(
        "users",
        help="planners' accounts and roles (add, list, disable, unlock, reset-password, set-role)",
        description="Accounts of the planners who sign in to the app. While the store has no account, "
        "the app runs for one local planner on this computer; once it has one, everybody signs in and "
        "every change is made by an account allowed to make it (viewer: reads; planner: edits "
        "shortlists, meetings and outcomes; admin: also manages accounts and data sets). " + WHERE,
    )
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
    actions = parser.add_subparsers(dest="users_action", metavar="ACTION")

    def action(name: str, help_text: str, func: Callable[[argparse.Namespace], int], *, user: bool = True, password: bool = False,
               role: bool = False, admin: bool = True) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text + ". " + WHERE)
        if user:
            sub.add_argument("username", metavar="NAME", help="the account's name")
        if role:
            sub.add_argument("--role", required=True, choices=list(ROLES),
                             help="viewer (reads), planner (edits), admin (manages accounts and data sets)")
        if password:
            sub.add_argument("--password-stdin", action="store_true",
                             help="read the password from standard input (one line) instead of asking")
        if admin:
            sub.add_argument("--as", dest="by", metavar="ADMIN",
                             help="the admin account making the change (not needed for the first account)")
        sub.set_defaults(func=func)
        return sub

    action("add", "add an account (the first one must be an admin)", run_add, password=True, role=True)
    action("list", "list the accounts (never their passwords)", run_list, user=False, admin=False)
    action("disable", "disable an account (it can no longer sign in)", run_change)
    action("enable", "enable a disabled account again", run_change)
    action("unlock", "unlock an account locked after too many wrong passwords", run_change)
    action("reset-password", "set a new password for an account (and unlock it)", run_change, password=True)
    action("set-role", "change an account's role", run_change, role=True)
    sign_ins = actions.add_parser("sign-ins", help="the audit of sign-ins (all, or one account's)",
                                  description="Every sign-in, failed sign-in and lock, oldest first. " + WHERE)
    sign_ins.add_argument("username", nargs="?", metavar="NAME", help="only this account")
    sign_ins.set_defaults(func=run_sign_ins)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise MatcherError("give the password with --password-stdin (standard input is not a terminal)")
    first = getpass.getpass(f"New password for {args.username}: ")
    if getpass.getpass("Again: ") != first:
        raise MatcherError("the two passwords differ; nothing was changed")
    return first


def _show(account: dict) -> str:
    state = "disabled" if account["disabled"] else ("locked" if account.get("locked_until") else "active")
    return f"{account['username']} ({account['role']}, {state})"


def run_add(args: argparse.Namespace) -> int:
    account = Store().add_account(args.username, _password(args), args.role, by=args.by)
    print(f"added {_show(account)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    accounts = Store().accounts()
    if accounts.empty:
        print("no accounts: the app runs for one local planner (on this computer only)")
        return 0
    for account in accounts.to_dict("records"):
        print(f"{_show(account)}  since {account['created_at'][:10]}")
    return 0


def run_change(args: argparse.Namespace) -> int:
    """disable, enable, unlock, reset-password, set-role: one store call, said in one line."""
    store = Store()
    action = args.users_action
    if action == "reset-password":
        account, said = store.reset_password(args.username, _password(args), by=args.by), "new password set for"
    elif action == "set-role":
        account, said = store.set_role(args.username, args.role, by=args.by), "role changed:"
    else:
        done = {"disable": "disabled", "enable": "enabled", "unlock": "unlocked"}
        account, said = getattr(store, action)(args.username, by=args.by), done[action]
    print(f"{said} {_show(account)}")
    return 0


def run_sign_ins(args: argparse.Namespace) -> int:
    log = Store().sign_ins(args.username)
    if log.empty:
        print("no sign-ins recorded")
    for row in log.to_dict("records"):
        print(f"{row['at'][:19]}  {row['username']}  {row['action']}")
    return 0
