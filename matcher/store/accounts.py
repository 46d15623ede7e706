"""Accounts and roles: who may read, change and manage the store.

While the store holds no account it serves one local planner, whose name is free text (the way a
planner uses the app on a laptop). Once it holds an account, every change must be made in the name
of an enabled account whose role allows it: a viewer reads; a planner also changes shortlists,
decisions, meetings and outcomes; an admin also manages accounts. This is checked in the store, in
the transaction of the change (``StoreCore._authorize``, for every audited change), not by hiding buttons.

Passwords are hashed with Argon2id (``argon2-cffi``) and follow current guidance (NIST SP 800-63B):
length over composition, at least 12 characters by default, and not a common password (the
frequency lists of ``zxcvbn``, with its estimate of how guessable the password is). Five failed
sign-ins in a row lock an account for 15 minutes; an admin can unlock it. Every sign-in, failed
sign-in, lock and account change is in the audit log. Time comes from the store's clock, so expiry
and lock-out are tested without waiting.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select, update

from matcher.exceptions import AccessError, MatcherError, ValidationError
from matcher.store import models as m
from matcher.store.core import StoreCore, account_text
from matcher.text import UNSEEN_CATEGORIES


@dataclass(frozen=True)
class AccountRules:
    """The rules accounts follow; each can be set by an environment variable of the same name in
    capitals with ``MATCHER_`` in front (``MATCHER_MIN_PASSWORD_LENGTH=14``)."""

    min_password_length: int = 12
    max_password_length: int = 128
    max_failed_sign_ins: int = 5
    lock_minutes: float = 15
    idle_minutes: float = 30
    session_minutes: float = 720  # a session ends this long after its sign-in, however busy

    @classmethod
    def from_env(cls) -> AccountRules:
        values: dict[str, float] = {}
        for name, field in cls.__dataclass_fields__.items():
            raw = os.environ.get(f"MATCHER_{name.upper()}")
            if raw is None:
                continue
            minutes = field.type == "float"  # minutes may be decimal (0.5); counts and lengths are whole
            try:
                value = float(raw) if minutes else int(raw)
            except ValueError:
                value = None
            if value is None or not math.isfinite(value) or value <= 0:
                kind = "a positive number of minutes" if minutes else "a positive whole number"
                raise MatcherError(f"MATCHER_{name.upper()}={raw!r} is not {kind}.")
            values[name] = value
        return cls(**values)

    def idle_expired(self, last_seen: datetime, now: datetime) -> bool:
        """True when a session last used at ``last_seen`` has been idle too long at ``now``."""
        return now - last_seen > timedelta(minutes=self.idle_minutes)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _verifies(hasher, hashed: str, password: str | None) -> bool:
    """True when ``password`` matches ``hashed``."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher.verify(hashed, password or "")
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, username: str = "", rules: AccountRules | None = None) -> str | None:
    """Why ``password`` may not be used (None when it may)."""
    rules = rules or AccountRules()
    if not isinstance(password, str) or len(password) < rules.min_password_length:
        return f"a password needs at least {rules.min_password_length} characters"
    if len(password) > rules.max_password_length:
        return f"a password may have at most {rules.max_password_length} characters"
    if username and username.strip().lower() in password.lower():
        return "a password may not contain the account's name"
    from zxcvbn import zxcvbn

    if password.lower() in _common_passwords():
        return "this is one of the most common passwords"
    if zxcvbn(password[:rules.max_password_length], user_inputs=[username] if username else [])["score"] < 3:
        return "this password is too easy to guess (a common word, name, date or pattern); use a longer phrase"
    return None


@functools.cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _role(role: Any) -> str:
    if role not in m.ROLES:
        raise ValidationError(f"Role {role!r} is not known; use one of: {', '.join(m.ROLES)}.")
    return role


def _new_hash(password: str, username: str, rules: AccountRules) -> str:
    """The hash of a new password, after checking that it may be used."""
    why = password_problem(password, username, rules)
    if why:
        raise ValidationError(f"The password cannot be used: {why}.")
    return _hasher().hash(password)


def _username(name: Any) -> str:
    """An account's name as the store keeps it: NFKC-normalised (a full-width ``ａｄｍｉｎ`` is ``admin``)
    and trimmed; refused when empty, too long, or holding a character that does not print (a control
    character, a zero-width space, a text-direction mark) or no character at all (a byte that was not
    UTF-8 on the command line)."""
    value = account_text(name)
    if not value:
        raise ValidationError("An account needs a name.")
    if len(value) > m.accounts.c.username.type.length:
        raise ValidationError(f"An account's name may have at most {m.accounts.c.username.type.length} characters.")
    if any(unicodedata.category(ch) in UNSEEN_CATEGORIES for ch in value):
        raise ValidationError("An account's name may hold only printing characters and spaces (no control "
                              "character, invisible character or text-direction mark).")
    return value


def _lookup_name(name: Any) -> str | None:
    """The name a sign-in looks up, or None when no account can have it."""
    try:
        return _username(name)
    except ValidationError:
        return None


def _same_name(a: str, b: str) -> bool:
    """Two names a person would read as one (``Admin`` and ``admin``)."""
    return a.casefold() == b.casefold()


class Accounts(StoreCore):
    """Part of :class:`~matcher.store.Store`: accounts, roles, sign-in and the check of every change."""

    @property
    def rules(self) -> AccountRules:
        return getattr(self, "_rules", None) or AccountRules.from_env()

    def has_accounts(self) -> bool:
        """True once the store holds an account: from then on every change needs one."""
        with self._read("count the accounts") as conn:
            return conn.execute(select(func.count()).select_from(m.accounts)).scalar_one() > 0

    def accounts(self, username: str | None = None) -> pd.DataFrame:
        """Every account (or the one named ``username``) without its password hash: ``id, username,
        role, disabled, locked_until, failed_sign_ins, created_at, updated_at``."""
        t = m.accounts
        columns = [t.c.id, t.c.username, t.c.role, t.c.disabled, t.c.locked_until, t.c.failed_sign_ins,
                   t.c.created_at, t.c.updated_at]
        query = select(*columns).order_by(t.c.username)
        if username is not None:
            query = query.where(t.c.username == (_lookup_name(username) or ""))
        with self._read("list the accounts") as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in columns])

    def account(self, username: str) -> dict[str, Any] | None:
        """One account without its password hash, or None."""
        found = self.accounts(username)
        return None if found.empty else found.iloc[0].to_dict()

    def require(self, who: str | None, role: str) -> str:
        """Check that ``who`` may act with ``role`` (or higher) and return the name to record; for work
        the store does not hold itself, such as adding a data set (an admin's). Raises :class:`AccessError`.
        With no account in the store, anyone may (the local planner)."""
        _role(role)
        with self._read(f"check that {who} may act as a {role}") as conn:
            return self._authorize(conn, who, role)

    # -- managing accounts (an admin; the first account needs no one) -------------------------
    def add_account(self, username: str, password: str, role: str, *, by: str | None = None) -> dict[str, Any]:
        """Add an account. The first account must be an admin and needs no ``by``; every later one
        is added by an admin (``by``)."""
        username = _username(username)
        _role(role)
        hashed = _new_hash(password, username, self.rules)
        with self._write(f"add the account {username}") as conn:
            first = conn.execute(select(func.count()).select_from(m.accounts)).scalar_one() == 0
            if first and role != "admin":
                raise ValidationError("The first account must be an admin (it manages the others).")
            actor = username if first else self._authorize(conn, by, "admin")
            taken = [n for n in conn.execute(select(m.accounts.c.username)).scalars() if _same_name(n, username)]
            if taken:
                also = "" if taken[0] == username else f" ({taken[0]}: names differing only in letter case are one name)"
                raise ValidationError(f"An account named {username} already exists{also}.")
            now = self._now()
            row = {"username": username, "password_hash": hashed, "role": role, "disabled": False,
                   "failed_sign_ins": 0, "locked_until": None, "created_at": now, "updated_at": now, "version": 1}
            row_id = conn.execute(m.accounts.insert().values(**row)).inserted_primary_key[0]
            self._audit(conn, planner=actor, table=m.accounts, action="insert", row_id=row_id, before=None,
                        after=_public(row), ref=username)
        return self.account(username)

    def set_role(self, username: str, role: str, *, by: str) -> dict[str, Any]:
        return self._change(username, {"role": _role(role)}, by, "set the role of")

    def disable(self, username: str, *, by: str) -> dict[str, Any]:
        return self._change(username, {"disabled": True}, by, "disable")

    def enable(self, username: str, *, by: str) -> dict[str, Any]:
        return self._change(username, {"disabled": False}, by, "enable")

    def unlock(self, username: str, *, by: str) -> dict[str, Any]:
        return self._change(username, {"locked_until": None, "failed_sign_ins": 0}, by, "unlock")

    def reset_password(self, username: str, password: str, *, by: str) -> dict[str, Any]:
        """An admin sets a new password for ``username`` (and unlocks it)."""
        hashed = _new_hash(password, _username(username), self.rules)
        return self._change(username, {"password_hash": hashed, "locked_until": None, "failed_sign_ins": 0}, by,
                            "reset the password of")

    def change_password(self, username: str, old: str, new: str) -> dict[str, Any]:
        """The account's own password change: the old password must be right."""
        self.sign_in(username, old)
        return self._change(username, {"password_hash": _new_hash(new, username, self.rules)}, username,
                            "change the password of", own=True)

    def _change(self, username: str, changes: dict[str, Any], by: str, what: str, *, own: bool = False
                ) -> dict[str, Any]:
        username = _username(username)
        with self._write(f"{what} {username}") as conn:
            actor = self._authorize(conn, by, "viewer" if own else "admin")
            before = conn.execute(select(m.accounts).where(m.accounts.c.username == username)).mappings().first()
            if before is None:
                raise ValidationError(f"There is no account named {username}.")
            before = dict(before)
            if not own and before["role"] == "admin" and (changes.get("role", "admin") != "admin"
                                                          or changes.get("disabled")):
                # the enabled admins' rows, locked: two admins removed in parallel cannot both pass
                admins = conn.execute(select(m.accounts.c.id).where(
                    m.accounts.c.role == "admin", m.accounts.c.disabled.is_(False)).with_for_update()).all()
                if len(admins) <= 1:
                    raise ValidationError(f"{username} is the last admin: make another admin first.")
            after = {**before, **changes, "updated_at": self._now(), "version": before["version"] + 1}
            conn.execute(update(m.accounts).where(m.accounts.c.id == before["id"]).values(
                **changes, updated_at=after["updated_at"], version=after["version"]))
            self._audit(conn, planner=actor, table=m.accounts, action="update", row_id=before["id"],
                        before=_public(before), after=_public(after), ref=username)
        return self.account(username)

    # -- signing in ---------------------------------------------------------------------------
    def sign_in(self, username: str, password: str) -> dict[str, Any]:
        """The account, when ``password`` is right and the account is enabled and not locked.

        An unknown name, a wrong password and a locked account give the same message after the same
        work (nobody learns which names exist); a wrong password counts towards the lock. The password
        is checked outside any write transaction (a flood of sign-ins does not hold up the planners'
        saves), and the result is recorded in a short one that reads the account again, locked
        against a parallel sign-in: parallel wrong passwords all count, and a right password that
        arrives after the lock is refused. Raises :class:`AccessError`.
        """
        rules = self.rules
        name = _lookup_name(username)
        row = None
        if name is not None:
            with self._read(f"sign in {name}") as conn:
                row = conn.execute(select(m.accounts).where(m.accounts.c.username == name)).mappings().first()
        now = self._clock()
        hasher = _hasher()
        locked = row is not None and _locked(row, now)
        # the same work whatever the case: the time does not tell an unknown name or a lock
        right = _verifies(hasher, _dummy_hash() if row is None or locked else row["password_hash"], password)
        refused = AccessError(wrong_message(rules))
        with self._write(f"sign in {name}") as conn:  # raised after it: a failure is recorded, not rolled back
            if row is None:
                tried = (name or str(username or ""))[:100].encode("utf-8", "replace").decode("utf-8")
                self._audit(conn, planner=tried, table=m.accounts, action="sign_in_unknown", row_id=None,
                            before=None, after=None, ref=tried)
                ok = False
            else:
                current = dict(conn.execute(select(m.accounts).where(m.accounts.c.id == row["id"])
                                            .with_for_update()).mappings().one())
                ok = self._record_sign_in(conn, current, name, right and current["password_hash"] ==
                                          row["password_hash"], now, rules, hasher, password)
        if ok is not True:
            raise (AccessError("The account is disabled; ask an admin.") if ok == "disabled" else refused)
        return self.account(name)

    def _record_sign_in(self, conn, row: dict[str, Any], name: str, right: bool, now: datetime,
                        rules: AccountRules, hasher, password: str) -> bool | str:
        """Record one sign-in on the account ``row`` (read under lock): True, False or "disabled"."""
        def audit(action: str, after: dict[str, Any] | None = None) -> None:
            self._audit(conn, planner=name, table=m.accounts, action=action, row_id=row["id"], before=None,
                        after=after, ref=name)

        if _locked(row, now):
            audit("sign_in_locked")
            return False
        if not right:
            failed = row["failed_sign_ins"] + 1
            lock = failed >= rules.max_failed_sign_ins
            until = (now + timedelta(minutes=rules.lock_minutes)).isoformat(timespec="microseconds") if lock else None
            conn.execute(update(m.accounts).where(m.accounts.c.id == row["id"]).values(
                failed_sign_ins=0 if lock else failed, locked_until=until))
            audit("lock" if lock else "sign_in_failed", {"failed_sign_ins": failed})
            return False
        if row["disabled"]:
            audit("sign_in_disabled")
            return "disabled"
        changes: dict[str, Any] = {"failed_sign_ins": 0, "locked_until": None}
        if hasher.check_needs_rehash(row["password_hash"]):
            changes["password_hash"] = hasher.hash(password)
        conn.execute(update(m.accounts).where(m.accounts.c.id == row["id"]).values(**changes))
        audit("sign_in")
        return True

    def session_stamp(self, username: str) -> str | None:
        """What a signed-in session must still match: it changes when the account's password or role
        changes (a reset by an admin, a change in another session), and is None when the account is
        disabled or gone. A digest, so the hash itself never leaves the store."""
        name = _lookup_name(username)
        t = m.accounts
        with self._read(f"check the session of {name}") as conn:
            row = conn.execute(select(t.c.role, t.c.disabled, t.c.password_hash).where(t.c.username == (name or ""))
                               ).first()
        if row is None or row.disabled:
            return None
        return hashlib.sha256(f"{row.role}\0{row.password_hash}".encode()).hexdigest()

    def sign_ins(self, username: str | None = None) -> pd.DataFrame:
        """The audit of sign-ins (succeeded, failed, refused while locked or disabled, locks, and tries
        with a name that is no account, under the name tried):
        ``at, username, action``."""
        t = m.audit_log
        query = select(t.c.at, t.c.ref.label("username"), t.c.action).where(
            t.c.table_name == m.accounts.name,
            t.c.action.in_(SIGN_IN_ACTIONS))
        if username:
            query = query.where(t.c.ref == username)
        with self._read("read the sign-ins") as conn:
            rows = conn.execute(query.order_by(t.c.id)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=["at", "username", "action"])


#: The audit's actions of signing in.
SIGN_IN_ACTIONS = ("sign_in", "sign_in_failed", "sign_in_locked", "sign_in_disabled", "lock", "sign_in_unknown")


def wrong_message(rules: AccountRules) -> str:
    """The one answer to an unknown name, a wrong password and a locked account."""
    return (f"The name or the password is wrong, or the account is locked after {rules.max_failed_sign_ins} "
            f"wrong passwords in a row (for {rules.lock_minutes:g} minutes, or until an admin unlocks it).")


def _locked(row: Any, now: datetime) -> bool:
    return bool(row["locked_until"]) and datetime.fromisoformat(row["locked_until"]) > now


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """An account row as the audit keeps it: never the password hash."""
    return {k: v for k, v in row.items() if k != "password_hash"}


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches, made on first use."""
    return _hasher().hash("not a real password, never matched")
