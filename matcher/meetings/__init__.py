"""Meetings: select pairs from suggestions (top K, one-to-one, stable, capacity-limited) and schedule
them into slots and tables with no double booking.

Selection: ``tables`` (input tables) -> ``problem`` -> ``solvers`` -> ``selection`` (the result),
behind ``select.select``. Scheduling: ``slots`` (clock, windows, locks) -> ``colouring`` (the
moves) -> ``timetable`` (the result), behind ``schedule.schedule``. The ids of every input table
are checked by ``ids``."""
