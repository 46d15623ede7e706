"""Docking: the one pipeline that proposes and explains pairs of every kind.

kinds (the registry) -> entities -> candidates (blocking rules) -> features -> scoring -> explain ->
ranking (top K), run by ``engine.DockingEngine`` on a backend (``backends``); ``chain`` holds the
chain graph and gaps. See ``docs/architecture.md``.
"""
