"""The scheduler's engine: slots as colours of the meeting graph, and the moves that place meetings.

:class:`SlotColouring` holds the mutable state (slot of each meeting, meetings per participant and
per slot). The moves, used in this order by :func:`matcher.meetings.schedule.schedule`:
:func:`place_direct` (a slot free for both), :func:`place_kempe` (free one by swapping an
alternating path), :func:`even_out` (bring slots down to the number of tables),
:func:`reduce_gaps` (local search on idle slots) and :func:`assign_tables`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

#: Kempe attempts per meeting before it is left for the later phases (keeps the run bounded).
_KEMPE_TRIES = 40
#: Passes of the idle-gap local search (a fixed number, so results never depend on timing).
_GAP_PASSES = 2


class SlotColouring:
    """Mutable state of the edge colouring: slot of each meeting, meetings per slot."""

    def __init__(
        self,
        ends: list[tuple[str, str]],
        allowed: list[frozenset[int] | None],
        locked: list[bool],
        n_slots: int,
        n_tables: int,
    ) -> None:
        self.ends = ends
        self.allowed = allowed
        self.locked = locked
        self.n_slots = n_slots
        self.n_tables = n_tables
        self.slot = [-1] * len(ends)
        self.at: dict[str, dict[int, int]] = defaultdict(dict)  # participant -> slot -> meeting
        self.count = [0] * n_slots
        self.members: list[set[int]] = [set() for _ in range(n_slots)]

    def other(self, e: int, node: str) -> str:
        u, v = self.ends[e]
        return v if node == u else u

    def ok_slot(self, e: int, s: int) -> bool:
        allowed = self.allowed[e]
        return allowed is None or s in allowed

    def put(self, e: int, s: int) -> None:
        u, v = self.ends[e]
        self.slot[e] = s
        self.at[u][s] = e
        self.at[v][s] = e
        self.count[s] += 1
        self.members[s].add(e)

    def take(self, e: int) -> int:
        s = self.slot[e]
        u, v = self.ends[e]
        del self.at[u][s]
        del self.at[v][s]
        self.count[s] -= 1
        self.members[s].discard(e)
        self.slot[e] = -1
        return s

    def chain(self, start: str, a: int, b: int, avoid: str | None) -> list[int] | None:
        """Edges of the a/b alternating path leaving ``start`` by colour ``a``.

        ``None`` if the path reaches ``avoid`` (possible only in a graph with odd cycles), loops,
        or holds a meeting that may not switch slot (locked or outside a window).
        """
        path, node, colour, seen = [], start, a, set()
        while True:
            e = self.at[node].get(colour)
            if e is None:
                return path
            if e in seen or self.locked[e]:
                return None
            new = b if colour == a else a
            if not self.ok_slot(e, new):
                return None
            seen.add(e)
            path.append(e)
            node = self.other(e, node)
            if node == avoid:
                return None
            colour = new

    def swap(self, path: list[int], a: int, b: int) -> None:
        old = [self.take(e) for e in path]
        for e, s in zip(path, old, strict=False):
            self.put(e, b if s == a else a)


def _span(slots: Iterable[int]) -> tuple[int, int, int]:
    items = list(slots)
    return (min(items), max(items), len(items)) if items else (0, -1, 0)


def _idle_with(span: tuple[int, int, int], s: int | None) -> int:
    """Idle slots of a participant whose other meetings span ``span`` once slot s is added
    (``s=None``: as it is)."""
    lo, hi, n = span
    if s is None:
        return hi - lo + 1 - n if n else 0
    if n == 0:
        return 0
    return max(hi, s) - min(lo, s) + 1 - (n + 1)


def place_direct(t: SlotColouring, e: int, slots: Iterable[int], respect_tables: bool) -> bool:
    """Put meeting e in a slot free for both participants, preferring one that is not full and
    adds the fewest idle slots (then the earliest). False if there is none."""
    u, v = t.ends[e]
    at_u, at_v = t.at[u], t.at[v]
    su, sv = _span(at_u), _span(at_v)
    base = _idle_with(su, None) + _idle_with(sv, None)
    best = None
    for s in slots:
        if s in at_u or s in at_v:
            continue
        full = t.count[s] >= t.n_tables
        if full and respect_tables:
            continue
        key = (full, _idle_with(su, s) + _idle_with(sv, s) - base, s)
        if best is None or key < best:
            best = key
    if best is None:
        return False
    t.put(e, best[2])
    return True


def place_kempe(t: SlotColouring, e: int, slots: list[int], respect_tables: bool) -> bool:
    """Free a common slot for meeting e by swapping an alternating path; True if placed."""
    tries = 0
    for u, v in (t.ends[e], t.ends[e][::-1]):
        # Slots closest to each participant's other meetings first: fewer idle gaps.
        su, sv = _span(t.at[u]), _span(t.at[v])
        free_u = sorted((s for s in slots if s not in t.at[u]), key=lambda s: (_idle_with(su, s), s))
        free_v = sorted((s for s in slots if s not in t.at[v]), key=lambda s: (_idle_with(sv, s), s))
        for a in free_u:
            for b in free_v:
                if a == b:
                    continue
                tries += 1
                if tries > _KEMPE_TRIES:
                    return False
                path = t.chain(v, a, b, avoid=u)
                if path is None:
                    continue
                if respect_tables:
                    n_a = sum(1 for p in path if t.slot[p] == a)
                    n_b = len(path) - n_a
                    if t.count[a] - n_a + n_b + 1 > t.n_tables or t.count[b] + n_a - n_b > t.n_tables:
                        continue
                t.swap(path, a, b)
                t.put(e, a)
                return True
    return False


def even_out(t: SlotColouring, slots: list[int], score: list[float]) -> list[int]:
    """Bring every slot down to n_tables meetings by swapping alternating paths; return the
    meetings that had to be taken out (lowest score first) when no swap was possible."""
    evicted: list[int] = []
    for a in slots:
        while t.count[a] > t.n_tables:
            moved = False
            for b in sorted((s for s in slots if t.count[s] < t.n_tables), key=lambda s: (t.count[s], s)):
                seen: set[int] = set()
                for e in sorted(t.members[a]):
                    if e in seen or t.locked[e]:
                        continue
                    u, v = t.ends[e]
                    # the component through e: extend from both ends with colour b
                    left = t.chain(u, b, a, avoid=None)
                    right = t.chain(v, b, a, avoid=None)
                    seen.add(e)
                    if left is None or right is None or (set(left) & set(right)) or not t.ok_slot(e, b):
                        continue
                    seen.update(left)
                    seen.update(right)
                    path = left + [e] + right
                    n_a = sum(1 for p in path if t.slot[p] == a)
                    if n_a - (len(path) - n_a) != 1:
                        continue
                    t.swap(path, a, b)
                    moved = True
                    break
                if moved:
                    break
            if not moved:
                victim = min(
                    (e for e in t.members[a] if not t.locked[e]), key=lambda e: (score[e], -e), default=None
                )
                if victim is None:
                    break
                t.take(victim)
                evicted.append(victim)
    return evicted


def reduce_gaps(t: SlotColouring, last: int) -> None:
    """Local search: move single meetings, then swap whole slots, while idle slots shrink."""
    for _ in range(_GAP_PASSES):
        improved = False
        for e in range(len(t.ends)):
            s = t.slot[e]
            if s < 0 or t.locked[e]:
                continue
            u, v = t.ends[e]
            su = _span(x for x in t.at[u] if x != s)
            sv = _span(x for x in t.at[v] if x != s)
            now = _idle_with(su, s) + _idle_with(sv, s)
            if now == 0:
                continue
            best = None
            at_u, at_v = t.at[u], t.at[v]
            for s2 in range(last + 1):
                if s2 == s or s2 in at_u or s2 in at_v or t.count[s2] >= t.n_tables or not t.ok_slot(e, s2):
                    continue
                after = _idle_with(su, s2) + _idle_with(sv, s2)
                if after < now and (best is None or (after, s2) < best):
                    best = (after, s2)
            if best is not None:
                t.take(e)
                t.put(e, best[1])
                improved = True
        # Whole-slot swaps of neighbours only: all pairs would cost O(slots^2 x people).
        for i in range(last):
            if _swap_slots_if_better(t, i, i + 1):
                improved = True
        if not improved:
            break


def _swap_slots_if_better(t: SlotColouring, i: int, j: int) -> bool:
    mi, mj = t.members[i], t.members[j]
    if not mi and not mj:
        return False
    if any(t.locked[e] or not t.ok_slot(e, j) for e in mi) or any(
        t.locked[e] or not t.ok_slot(e, i) for e in mj
    ):
        return False
    people = {p for e in mi | mj for p in t.ends[e]}
    before = after = 0
    for p in people:
        slots = set(t.at[p])
        before += max(slots) - min(slots) + 1 - len(slots)
        has_i, has_j = i in slots, j in slots
        if has_i != has_j:
            slots.discard(i if has_i else j)
            slots.add(j if has_i else i)
        after += max(slots) - min(slots) + 1 - len(slots)
    if after >= before:
        return False
    old_i, old_j = sorted(mi), sorted(mj)
    for e in old_i + old_j:
        t.take(e)
    for e in old_i:
        t.put(e, j)
    for e in old_j:
        t.put(e, i)
    return True


def is_bipartite(ends: Iterable[tuple[str, str]]) -> bool:
    adj: dict[str, list[str]] = defaultdict(list)
    for u, v in ends:
        adj[u].append(v)
        adj[v].append(u)
    side: dict[str, int] = {}
    for root in sorted(adj):
        if root in side:
            continue
        side[root] = 0
        stack = [root]
        while stack:
            x = stack.pop()
            for y in adj[x]:
                if y not in side:
                    side[y] = 1 - side[x]
                    stack.append(y)
                elif side[y] == side[x]:
                    return False
    return True


def assign_tables(t: SlotColouring, table_lock: Mapping[int, int]) -> dict[int, int]:
    """Tables per slot: locked tables first, then each meeting keeps its host's (left participant's)
    previous table when free, else the other participant's, else the lowest free table."""
    tables: dict[int, int] = {}
    last_table: dict[str, int] = {}
    for s in range(t.n_slots):
        group = sorted(t.members[s], key=lambda e: t.ends[e])
        used = set()
        for e in group:
            if e in table_lock:
                tables[e] = table_lock[e]
                used.add(table_lock[e])
        rest = [e for e in group if e not in tables]
        later = []
        for e in rest:
            u, v = t.ends[e]
            want = next(
                (last_table[p] for p in (u, v) if p in last_table and last_table[p] not in used), None
            )
            if want is None:
                later.append(e)
            else:
                tables[e] = want
                used.add(want)
        free = iter(x for x in range(1, t.n_tables + 1) if x not in used)
        for e in later:
            tables[e] = next(free)
        for e in group:
            u, v = t.ends[e]
            last_table[u] = last_table[v] = tables[e]
    return tables
