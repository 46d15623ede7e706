"""What the store keeps, on SQLite and PostgreSQL: runs, items, versions, decisions, outcomes, audit."""

from __future__ import annotations

import pandas as pd
import pytest

from matcher.exceptions import ConflictError, MatcherError, ValidationError
from matcher.store import Store


def test_run_is_kept_with_weights_and_data_version(store: Store) -> None:
    store.record_run(
        "run-7",
        data_version="sha256:abc",
        kind="east_west",
        weights={"chain": 0.5, "policy": 0.2},
        planner="li",
    )
    runs = store.runs()
    assert runs[["run_id", "data_version", "kind", "planner"]].iloc[0].tolist() == [
        "run-7",
        "sha256:abc",
        "east_west",
        "li",
    ]
    assert runs["weights"].iloc[0] == {"chain": 0.5, "policy": 0.2}
    with pytest.raises(ConflictError, match="run-7"):
        store.record_run("run-7", data_version="x", kind="east_west", weights={}, planner="li")


def test_items_keep_ids_as_text_and_start_at_version_1(shortlist, make_suggestions) -> None:
    store, listed, ids = shortlist
    more = store.add_items(listed["id"], make_suggestions([("00123", "M009")]), planner="wang")
    items = store.items(listed["id"])
    assert items["id"].tolist() == ids + more
    assert items["left_id"].tolist() == ["C001", "C002", "C003", "00123"]  # leading zeros kept
    assert (items["version"] == 1).all()
    assert items["status"].unique().tolist() == ["proposed"]
    assert items["locked"].tolist() == [False] * 4
    assert str(items["score"].dtype) == "Float64"


def test_adding_a_pair_twice_adds_nothing(shortlist, make_suggestions) -> None:
    store, listed, ids = shortlist
    frame = make_suggestions([("C009", "M009"), ("C001", "M001")])
    with pytest.raises(ConflictError, match="C001 <-> M001"):
        store.add_items(listed["id"], frame, planner="li")
    assert store.items(listed["id"])["id"].tolist() == ids  # C009 was not added either


def test_update_bumps_version_and_audits_before_and_after(shortlist) -> None:
    store, _, ids = shortlist
    after = store.update(
        ids[0], {"notes": "call Mr Zhang", "locked": True}, expected_version=1, planner="wang"
    )
    assert (after["version"], after["notes"], after["locked"], after["planner"]) == (
        2,
        "call Mr Zhang",
        True,
        "wang",
    )
    entry = store.history("C001").iloc[-1]
    assert (entry["action"], entry["planner"], entry["table_name"]) == ("update", "wang", "shortlist_items")
    assert entry["before"]["notes"] == "" and entry["after"]["notes"] == "call Mr Zhang"
    assert (entry["before"]["version"], entry["after"]["version"]) == (1, 2)


def test_stale_update_is_refused_showing_both_values(shortlist) -> None:
    store, _, ids = shortlist
    store.update(ids[1], {"status": "accepted", "notes": "good fit"}, expected_version=1, planner="wang")
    with pytest.raises(ConflictError) as caught:
        store.update(ids[1], {"status": "rejected"}, expected_version=1, planner="li")
    message = str(caught.value)
    assert "yours 'rejected', theirs 'accepted'" in message
    assert "version 1" in message and "version 2" in message and "wang" in message
    item = store.item(ids[1])
    assert (item["status"], item["notes"], item["version"]) == ("accepted", "good fit", 2)  # nothing lost


def test_update_rejects_unknown_fields_and_values(shortlist) -> None:
    store, _, ids = shortlist
    with pytest.raises(ValidationError, match="status, notes, locked, score"):
        store.update(ids[0], {"left_id": "C999"}, expected_version=1, planner="li")
    with pytest.raises(ValidationError, match="proposed, accepted, rejected, scheduled"):
        store.update(ids[0], {"status": "maybe"}, expected_version=1, planner="li")
    with pytest.raises(MatcherError, match="no shortlist item with id 999"):
        store.update(999, {"notes": "x"}, expected_version=1, planner="li")


def test_update_many_is_all_or_nothing(shortlist) -> None:
    store, _, ids = shortlist
    with pytest.raises(ConflictError):
        store.update_many([(ids[0], {"notes": "a"}, 1), (ids[1], {"notes": "b"}, 5)], planner="li")
    assert store.item(ids[0])["notes"] == "" and store.item(ids[0])["version"] == 1


def test_reject_needs_a_known_reason_and_marks_items(shortlist) -> None:
    store, _, ids = shortlist
    with pytest.raises(ValidationError, match="already_partners, competitor, wrong_fit, capacity, other"):
        store.decide("C002", "M002", "market_channel", "reject", planner="li")
    with pytest.raises(ValidationError, match="not known"):
        store.decide("C002", "M002", "market_channel", "reject", reason="dislike", planner="li")
    with pytest.raises(ValidationError, match="Only a rejection"):
        store.decide("C002", "M002", "market_channel", "accept", reason="competitor", planner="li")
    decision = store.decide("C002", "M002", "market_channel", "reject", reason="competitor", planner="li")
    assert (decision["decision"], decision["reason"], decision["version"]) == ("reject", "competitor", 1)
    item = store.item(ids[1])
    assert (item["status"], item["version"]) == ("rejected", 2)


def test_changing_a_decision_needs_its_version(shortlist) -> None:
    store, _, _ = shortlist
    store.decide("C001", "M001", "market_channel", "reject", reason="capacity", planner="li")
    # the same decision again is a no-op, not a conflict
    assert (
        store.decide("C001", "M001", "market_channel", "reject", reason="capacity", planner="li")["version"]
        == 1
    )
    with pytest.raises(ConflictError) as caught:
        store.decide("C001", "M001", "market_channel", "accept", planner="wang")
    assert "yours 'accept', theirs 'reject'" in str(caught.value)
    assert "expected version 1" in str(caught.value)
    changed = store.decide("C001", "M001", "market_channel", "accept", planner="wang", expected_version=1)
    assert (changed["decision"], changed["reason"], changed["version"], changed["planner"]) == (
        "accept",
        None,
        2,
        "wang",
    )


@pytest.mark.memory_capped
def test_outcomes_in_two_stages(store: Store) -> None:
    met = store.record_outcome(
        "C001", "M001", "cluster_market", stage="meeting", value="met", rating=4, planner="li"
    )
    later = store.record_outcome(
        "C001", "M001", "cluster_market", stage="followup", value="negotiation_started", planner="li"
    )
    assert (met["rating"], later["value"]) == (4, "negotiation_started")
    outcomes = store.outcomes()
    assert outcomes["stage"].tolist() == ["meeting", "followup"]
    assert outcomes["rating"].tolist()[0] == 4 and pd.isna(outcomes["rating"].tolist()[1])
    with pytest.raises(ValidationError, match="no_further_contact, valuable_contact"):
        store.record_outcome("C001", "M001", "cluster_market", stage="followup", value="met", planner="li")
    with pytest.raises(ValidationError, match="outside 1-5"):
        store.record_outcome(
            "C002", "M002", "cluster_market", stage="meeting", value="met", rating=6, planner="li"
        )
    with pytest.raises(ValidationError, match="meeting that took place"):
        store.record_outcome(
            "C002", "M002", "cluster_market", stage="meeting", value="no_show", rating=3, planner="li"
        )
    fixed = store.record_outcome(
        "C001",
        "M001",
        "cluster_market",
        stage="meeting",
        value="met",
        rating=5,
        planner="wang",
        expected_version=1,
    )
    assert (fixed["rating"], fixed["version"]) == (5, 2)
    # the same pair the other way round is the same pair: its outcome is replaced, not added
    again = store.record_outcome("M001", "C001", "cluster_market", stage="meeting", value="met", rating=3,
                                 planner="li", expected_version=2)
    assert (again["left_id"], again["right_id"], again["version"]) == ("C001", "M001", 3)
    assert len(store.outcomes()) == 2
    with pytest.raises(ValidationError, match="Docking kind 'market_channel' is not known"):
        store.record_outcome("C001", "M001", "market_channel", stage="meeting", value="met", planner="li")
    with pytest.raises(ValidationError, match="C001 cannot dock with itself"):
        store.record_outcome("C001", " C001", "cluster_market", stage="meeting", value="met", planner="li")
    with pytest.raises(ValidationError, match="left_id is 65 characters long, more than 64"):
        store.record_outcome("C" * 65, "M001", "cluster_market", stage="meeting", value="met", planner="li")
    with pytest.raises(ValidationError, match="right_id holds a control character"):
        store.record_outcome("C001", "M\x07", "cluster_market", stage="meeting", value="met", planner="li")
    assert len(store.outcomes()) == 2




def test_a_table_is_never_double_booked(store: Store) -> None:
    first = store.schedule_meeting(
        "C001", "M001", "market_channel", slot="2025-05-20T09:00", table="T1", planner="li"
    )
    with pytest.raises(ConflictError, match="T1 at slot 2025-05-20T09:00 is already taken by C001 <-> M001"):
        store.schedule_meeting(
            "C002", "M002", "market_channel", slot="2025-05-20T09:00", table="T1", planner="wang"
        )
    moved = store.update_meeting(first["id"], {"table_label": "T2"}, expected_version=1, planner="li")
    assert (moved["table_label"], moved["version"]) == ("T2", 2)
    with pytest.raises(ConflictError, match="yours 'T3', theirs 'T2'"):
        store.update_meeting(first["id"], {"table_label": "T3"}, expected_version=1, planner="wang")
    assert store.meetings()["table_label"].tolist() == ["T2"]


def test_decisions_survive_a_rerun_on_changed_data(shortlist, make_suggestions) -> None:
    store, _, ids = shortlist
    store.decide("C002", "M002", "market_channel", "reject", reason="already_partners", planner="li")
    store.decide("C003", "M003", "market_channel", "accept", planner="li")
    # The rerun on a new data version: C001 left the data, new pairs came, order changed.
    rerun = make_suggestions([("C004", "M001"), ("C003", "M003"), ("C002", "M002"), ("C002", "M004")])
    rerun.index = [10, 11, 12, 13]
    marked = store.annotate(rerun)
    assert marked.index.tolist() == [10, 11, 12, 13]
    assert marked["left_id"].tolist() == rerun["left_id"].tolist()
    assert marked["status"].tolist() == ["new", "accepted", "rejected", "new"]
    assert marked["decision"].tolist()[1:3] == ["accept", "reject"]
    assert marked["reject_reason"].tolist()[2] == "already_partners"
    assert pd.isna(marked["decision"].iloc[0]) and pd.isna(marked["reject_reason"].iloc[1])
    # The entity that vanished keeps its item, flagged; nothing is deleted.
    assert (
        store.flag_missing(["C002", "C003", "C004", "M001", "M002", "M003", "M004"], data_version="data-v2")
        == 1
    )
    items = store.items().set_index("id")
    assert len(items) == 3
    assert items.loc[ids[0], "missing_ids"] == "C001" and items.loc[ids[0], "missing_since"] == "data-v2"
    assert items["missing_ids"].isna().tolist() == [False, True, True]
    assert store.flag_missing(["C002", "C003", "C004", "M001", "M002", "M003"], data_version="data-v2") == 0
    # Back in a later version: the flag clears, and the history tells both steps.
    assert store.flag_missing(["C001", "C002", "C003", "M001", "M002", "M003"], data_version="data-v3") == 1
    assert pd.isna(store.item(ids[0])["missing_ids"])
    assert store.history("C001")["action"].tolist() == ["insert", "flag", "unflag"]


def test_annotate_needs_the_pair_columns(store: Store) -> None:
    with pytest.raises(ValidationError, match="right_id"):
        store.annotate(pd.DataFrame({"left_id": ["C001"], "kind": ["market_channel"]}))


def test_history_tells_who_changed_what(shortlist) -> None:
    store, listed, ids = shortlist
    store.update(ids[2], {"notes": "needs cotton yarn"}, expected_version=1, planner="wang")
    store.decide("C003", "M003", "market_channel", "reject", reason="wrong_fit", planner="zhao")
    log = store.history("M003")
    assert log["planner"].tolist() == ["li", "wang", "zhao", "zhao"]
    assert log["table_name"].tolist() == [
        "shortlist_items",
        "shortlist_items",
        "decisions",
        "shortlist_items",
    ]
    assert log["after"].iloc[-1]["status"] == "rejected"
    assert store.history("run-1")["table_name"].tolist() == ["runs"]
    assert store.history("Keqiao docking day")["table_name"].tolist() == ["shortlists"]
    assert store.history("nobody").empty


def test_a_meeting_plan_is_booked_whole_and_may_swap_tables(store: Store) -> None:
    a = store.schedule_meeting("C001", "M001", "market_channel", slot="1", table="1", planner="li")
    b = store.schedule_meeting("C002", "M002", "market_channel", slot="1", table="2", planner="li")
    outsider = store.schedule_meeting("C009", "M009", "market_channel", slot="2", table="1", planner="zhao")
    swap = [
        {
            **{k: a[k] for k in ("left_id", "right_id", "kind")},
            "slot": "1",
            "table": "2",
            "meeting_id": a["id"],
            "expected_version": 1,
        },
        {
            **{k: b[k] for k in ("left_id", "right_id", "kind")},
            "slot": "1",
            "table": "1",
            "meeting_id": b["id"],
            "expected_version": 1,
        },
    ]
    before = store.meetings()
    # A new meeting on the outsider's table: refused, and the swap in the same plan is not half-done.
    clash = {"left_id": "C003", "right_id": "M003", "kind": "market_channel", "slot": "2", "table": "1"}
    with pytest.raises(ConflictError, match="Table 1 at slot 2 is already taken by C009 <-> M009"):
        store.book_meetings([*swap, clash], planner="li")
    with pytest.raises(ConflictError, match="yours '1', theirs '2'"):
        store.book_meetings([swap[0], {**swap[1], "expected_version": 0}], planner="li")
    with pytest.raises(ValidationError, match="both at table 2 in slot 1"):
        store.book_meetings([swap[0], {**swap[1], "table": "2"}], planner="li")
    pd.testing.assert_frame_equal(store.meetings(), before)
    booked = store.book_meetings([*swap, {**clash, "table": "2"}], planner="li")
    assert [(r["id"], r["table_label"], r["version"]) for r in booked] == [
        (a["id"], "2", 2),
        (b["id"], "1", 2),
        (outsider["id"] + 1, "2", 1),
    ]
    with pytest.raises(ConflictError, match="already taken by C009 <-> M009"):
        store.update_meeting(a["id"], {"slot": "2", "table_label": "1"}, expected_version=2, planner="li")


def test_a_decision_holds_in_the_partners_list_too(store: Store, make_suggestions) -> None:
    # suggestions list each pair in both entities' lists (C002's and M002's): one decision covers both
    store.decide("C002", "M002", "cluster_market", "reject", reason="wrong_fit", planner="li")
    store.decide("C005", "C006", "peer_learning", "reject", reason="other", planner="li")
    rerun = pd.concat(
        [
            make_suggestions([("M002", "C002"), ("C002", "M002")]).assign(kind="cluster_market"),
            make_suggestions([("C006", "C005")]).assign(kind="peer_learning"),
        ],
        ignore_index=True,
    )
    marked = store.annotate(rerun)
    # peer_learning pairs are directed (learner, teacher): the reverse pair is a different suggestion
    assert marked["status"].tolist() == ["rejected", "rejected", "new"]


def test_two_shortlists_cannot_share_a_name(store: Store) -> None:
    """On SQLite and PostgreSQL alike; case and surrounding spaces do not make a new name."""
    store.create_shortlist("Zhejiang - Xinjiang fair", planner="li")
    with pytest.raises(ValidationError, match="already exists"):
        store.create_shortlist("  zhejiang - xinjiang FAIR ", planner="wang")
    assert len(store.shortlists()) == 1
