"""Accounts, roles and sign-in, on SQLite and PostgreSQL, with the store's clock moved by hand."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from matcher.cli import main
from matcher.exceptions import AccessError, MatcherError, ValidationError
from matcher.store import AccountRules, Store, password_problem

GOOD = "harbour kettle violet 42"
OTHER = "lantern quarry meadow 17"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked(new_db_url) -> tuple[Store, Clock]:
    clock = Clock()
    return Store(new_db_url(migrated=True), clock=clock), clock


def test_passwords_follow_length_over_composition():
    assert password_problem("Tr0ub4dor&3") == "a password needs at least 12 characters"
    assert "most common" in password_problem("password1234")
    assert "too easy to guess" in password_problem("aaaaaaaaaaaaaaaa")
    assert "account's name" in password_problem("li.ming harbour kettle", "li.ming")
    assert password_problem(GOOD) is None  # four plain words: long, not common, no symbols needed
    assert "at most 128" in password_problem("x" * 129)
    assert "at least 14" in password_problem(GOOD[:13], rules=AccountRules(min_password_length=14))


def test_no_account_means_one_local_planner_and_the_first_account_is_an_admin(clocked):
    store, _ = clocked
    assert not store.has_accounts()
    listed = store.create_shortlist("本地清单", planner="anyone")  # local mode: any name
    assert listed["planner"] == "anyone"
    with pytest.raises(ValidationError, match="first account must be an admin"):
        store.add_account("li", GOOD, "planner")
    admin = store.add_account("admin", GOOD, "admin")
    assert admin["role"] == "admin" and store.has_accounts()
    assert "password_hash" not in store.accounts().columns
    # from now on a change needs an account allowed to make it
    with pytest.raises(AccessError, match="anyone is not an account of this store"):
        store.create_shortlist("another", planner="anyone")
    with pytest.raises(AccessError, match="Nobody is not an account"):
        store.add_account("li", OTHER, "planner")
    store.add_account("li", OTHER, "planner", by="admin")
    store.add_account("wang", "amber pylon orchard 93", "viewer", by="admin")
    with pytest.raises(ValidationError, match="already exists"):
        store.add_account("li", OTHER, "planner", by="admin")


def test_roles_are_enforced_in_the_store(clocked):
    store, _ = clocked
    store.add_account("admin", GOOD, "admin")
    store.add_account("li", OTHER, "planner", by="admin")
    store.add_account("wang", "amber pylon orchard 93", "viewer", by="admin")
    made = store.create_shortlist("西部对接会", planner="li")
    assert made["planner"] == "li"
    items = store.add_items(made["id"], pd.DataFrame({"left_id": ["C001"], "right_id": ["C099"],
                                                      "kind": ["east_west"], "score": [0.5]}), planner="li")
    for write in (lambda: store.create_shortlist("x", planner="wang"),
                  lambda: store.update(items[0], {"notes": "n"}, expected_version=1, planner="wang"),
                  lambda: store.record_outcome("C001", "C099", "east_west", stage="meeting", value="met",
                                               planner="wang")):
        with pytest.raises(AccessError, match="wang is a viewer; this needs a planner"):
            write()
    with pytest.raises(AccessError, match="li is a planner; this needs an admin\\."):
        store.add_account("zhao", "copper willow ridge 58", "planner", by="li")
    store.disable("li", by="admin")
    with pytest.raises(AccessError, match="The account li is disabled"):
        store.create_shortlist("y", planner="li")
    with pytest.raises(ValidationError, match="last admin"):
        store.set_role("admin", "planner", by="admin")
    # every refused change left nothing behind
    assert store.shortlists()["name"].tolist() == ["西部对接会"]


def test_five_wrong_passwords_lock_for_fifteen_minutes(clocked):
    store, clock = clocked
    store.add_account("admin", GOOD, "admin")
    store.add_account("li", OTHER, "planner", by="admin")
    assert store.sign_in("li", OTHER)["username"] == "li"
    for _ in range(4):
        with pytest.raises(AccessError, match="name or the password is wrong"):
            store.sign_in("li", "wrong password here")
    with pytest.raises(AccessError, match="name or the password is wrong"):
        store.sign_in("li", "wrong password here")  # the fifth: now locked
    with pytest.raises(AccessError) as locked:
        store.sign_in("li", OTHER)  # even the right password
    with pytest.raises(AccessError) as unknown:
        store.sign_in("nobody", OTHER)
    # a locked account answers as an unknown name does: the message tells nobody which names exist
    assert str(locked.value) == str(unknown.value) == (
        "The name or the password is wrong, or the account is locked after 5 wrong passwords in a row "
        "(for 15 minutes, or until an admin unlocks it).")
    clock.now += timedelta(minutes=14)
    with pytest.raises(AccessError, match="locked"):
        store.sign_in("li", OTHER)
    clock.now += timedelta(minutes=2)
    assert store.sign_in("li", OTHER)["username"] == "li"
    # an unknown name reads like a wrong password
    with pytest.raises(AccessError, match="name or the password is wrong"):
        store.sign_in("nobody", OTHER)
    # an admin unlocks at once
    for _ in range(5):
        with pytest.raises(AccessError):
            store.sign_in("li", "wrong password here")
    store.unlock("li", by="admin")
    assert store.sign_in("li", OTHER)["failed_sign_ins"] == 0
    actions = store.sign_ins("li")["action"].tolist()
    assert actions.count("sign_in") == 3 and actions.count("lock") == 2 and "sign_in_locked" in actions
    # tries with a name that is no account are audited too, under the name tried
    assert store.sign_ins("nobody")["action"].tolist() == ["sign_in_unknown"] * 2


def test_parallel_wrong_passwords_all_count_and_lock_the_account(clocked):
    """Sign-ins sent at once (one browser tab each) cannot get past the lock: every wrong password is
    counted, on PostgreSQL as on SQLite, and a right one that arrives after the lock is refused."""
    from concurrent.futures import ThreadPoolExecutor

    store, _ = clocked
    store.add_account("admin", GOOD, "admin")
    store.add_account("li", OTHER, "planner", by="admin")

    def attempt(i: int) -> str:
        try:
            store.sign_in("li", OTHER if i == 39 else f"wrong password {i}")
        except AccessError:
            return "refused"
        return "signed in"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(40)))
    actions = store.sign_ins("li")["action"].tolist()
    assert actions.count("lock") >= 1 and actions.count("sign_in_failed") + actions.count("lock") >= 5
    account = store.account("li")
    assert account["locked_until"] is not None, actions
    # at most the first four wrong passwords can precede a right one that still gets in
    assert results.count("signed in") <= 1
    with pytest.raises(AccessError):
        store.sign_in("li", OTHER)


def test_account_names_are_normalised_printing_and_unique_whatever_the_letter_case(clocked):
    store, _ = clocked
    store.add_account("admin", GOOD, "admin")
    for look_alike in ("Admin", "ADMIN", "ａｄｍｉｎ"):
        with pytest.raises(ValidationError, match="already exists"):
            store.add_account(look_alike, OTHER, "planner", by="admin")
    for hidden in ("li\u200b", "evil\u202eroot", "x\x85y", "bad\udcff"):
        with pytest.raises(ValidationError, match="printing characters"):
            store.add_account(hidden, OTHER, "planner", by="admin")
    assert store.add_account("Ｌｉ Ming", OTHER, "planner", by="admin")["username"] == "Li Ming"
    assert store.sign_in("Ｌｉ Ming", OTHER)["username"] == "Li Ming"  # typed full-width, signs in
    with pytest.raises(AccessError, match="name or the password is wrong"):
        store.sign_in("bad\udcff", OTHER)  # no crash on a name that was not UTF-8
    with pytest.raises(ValidationError, match="not UTF-8"):
        store.create_shortlist("x", planner="bad\udcff")


def test_own_password_change_and_admin_reset(clocked):
    store, _ = clocked
    store.add_account("admin", GOOD, "admin")
    store.add_account("li", OTHER, "planner", by="admin")
    with pytest.raises(AccessError):
        store.change_password("li", "not the old one at all", "granite sparrow harbor 61")
    with pytest.raises(ValidationError, match="at least 12"):
        store.change_password("li", OTHER, "short")
    store.change_password("li", OTHER, "granite sparrow harbor 61")
    store.sign_in("li", "granite sparrow harbor 61")
    store.reset_password("li", "velvet canyon lodge 27", by="admin")
    store.sign_in("li", "velvet canyon lodge 27")
    assert AccountRules(idle_minutes=30).idle_expired(datetime(2026, 1, 1, 9, 0), datetime(2026, 1, 1, 9, 31))
    assert not AccountRules().idle_expired(datetime(2026, 1, 1, 9, 0), datetime(2026, 1, 1, 9, 29))


def test_backups_carry_accounts_only_when_asked(clocked, new_db_url, tmp_path):
    store, _ = clocked
    store.add_account("admin", GOOD, "admin")
    store.create_shortlist("清单", planner="admin")
    plain = store.export_data()
    assert "accounts" not in plain["tables"]
    assert "$argon2id$" not in str(plain)
    full = store.export_data(accounts=True)
    assert full["tables"]["accounts"][0]["password_hash"].startswith("$argon2id$")
    target = Store(new_db_url(migrated=True))
    target.import_data(full)
    assert target.sign_in("admin", GOOD)["role"] == "admin"
    again = Store(new_db_url(migrated=True))
    again.add_account("root", OTHER, "admin")
    with pytest.raises(AccessError, match="Nobody is not an account"):  # a store with accounts: an admin restores
        again.import_data(full)
    with pytest.raises(MatcherError, match="has accounts of its own"):
        again.import_data(full, by="root")


def test_files_holding_password_hashes_are_the_owners_alone(clocked, tmp_path):
    """Other users of a shared machine cannot read the hashes: a new SQLite store and its WAL files,
    and a backup with the accounts, are 0600; a backup without them keeps the usual permissions."""
    import os
    import stat

    store, _ = clocked
    store.add_account("admin", GOOD, "admin")
    if store.backend == "sqlite":
        live = store._live_file()
        for f in [live, *live.parent.glob(live.name + "-*")]:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    store.backup(tmp_path / "full.json", accounts=True)
    assert stat.S_IMODE((tmp_path / "full.json").stat().st_mode) == 0o600
    store.backup(tmp_path / "plain.json")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "plain.json").stat().st_mode) == 0o666 & ~umask


def test_users_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path))
    monkeypatch.delenv("MATCHER_DB_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD + "\n"))
    assert main(["users", "add", "admin", "--role", "admin", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(OTHER + "\n"))
    assert main(["users", "add", "li", "--role", "planner", "--password-stdin", "--as", "admin"]) == 0
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "admin (admin, active)" in out and "li (planner, active)" in out and GOOD not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("password1234\n"))
    assert main(["users", "add", "wang", "--role", "viewer", "--password-stdin", "--as", "admin"]) == 2
    assert "most common passwords" in capsys.readouterr().err
    # a CLI write names an account that may make it
    outcome = ["store", "outcome", "--left", "C001", "--right", "C099", "--kind", "east_west", "--stage", "meeting",
               "--value", "met"]
    assert main([*outcome, "--as", "nobody"]) == 2
    assert "nobody is not an account" in capsys.readouterr().err
    assert main([*outcome, "--as", "li"]) == 0
    assert main(["users", "disable", "li", "--as", "admin"]) == 0
    assert main([*outcome[:2], "--left", "C002", *outcome[4:], "--as", "li"]) == 2
    assert "The account li is disabled" in capsys.readouterr().err
    assert main(["users", "sign-ins"]) == 0


def test_rules_come_from_the_environment_and_bad_values_are_named(monkeypatch):
    monkeypatch.setenv("MATCHER_IDLE_MINUTES", "0.5")
    monkeypatch.setenv("MATCHER_MAX_FAILED_SIGN_INS", "3")
    rules = AccountRules.from_env()
    assert (rules.idle_minutes, rules.max_failed_sign_ins, rules.lock_minutes) == (0.5, 3, 15)
    assert rules.idle_expired(datetime(2026, 1, 1, 9, 0), datetime(2026, 1, 1, 9, 0, 31))
    for name, raw, said in (("MATCHER_IDLE_MINUTES", "0", "a positive number of minutes"),
                            ("MATCHER_LOCK_MINUTES", "nan", "a positive number of minutes"),
                            ("MATCHER_LOCK_MINUTES", "soon", "a positive number of minutes"),
                            ("MATCHER_MAX_FAILED_SIGN_INS", "2.5", "a positive whole number"),
                            ("MATCHER_MIN_PASSWORD_LENGTH", "-4", "a positive whole number")):
        monkeypatch.setenv(name, raw)
        with pytest.raises(MatcherError, match=f"{name}='{raw}' is not {said}"):
            AccountRules.from_env()
        monkeypatch.delenv(name)


def test_two_admins_disabled_at_once_leave_one(clocked):
    """The last-admin guard holds against parallel changes: disabling both admins at the same moment
    (twenty times) always leaves one enabled, on PostgreSQL (row locks) as on SQLite (writer lock)."""
    from concurrent.futures import ThreadPoolExecutor

    store, _ = clocked
    store.add_account("boss1", GOOD, "admin")
    store.add_account("boss2", OTHER, "admin", by="boss1")

    def disable(name: str) -> None:
        try:
            store.disable(name, by="boss1")
        except (ValidationError, AccessError):
            pass

    for _ in range(20):
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(disable, ["boss1", "boss2"]))
        admins = store.accounts()
        assert (~admins["disabled"].astype(bool)).sum() >= 1, admins
        for name in ("boss1", "boss2"):
            if store.account(name)["disabled"]:
                store.enable(name, by="boss2" if name == "boss1" else "boss1")
