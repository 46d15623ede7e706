"""Meetings: select pairs from suggestions (top K, one-to-one, stable, capacity-limited) and schedule
them into slots and tables with no double booking."""
