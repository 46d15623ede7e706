"""Serve the planners' app with its caches warm: ``python -m app_components.serve [streamlit options]``.

``streamlit run app.py`` imports the app's libraries (pandas, scikit-learn, SciPy, pandera, ...),
reads and validates the data set and builds the engine's candidate features when the first planner
opens the page: about 4 s on a 2-core machine. This command does that work first, in the server's
own process, and then starts the same server (``streamlit run app.py`` with the options given), so
the first planner's page is as quick as any other. ``make run`` and the browser tests use it.

Any option after the command goes to ``streamlit run`` (``--server.port 8501``,
``--server.address 0.0.0.0``...).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"


def warm() -> float:
    """Import what the pages use and fill the shared caches for the bundled data set (the data, its
    entities, the engine's features of every docking kind, the chain graph); returns the seconds
    it took. The caches are Streamlit's own (``app_components.cache``): the served app finds them filled."""
    import logging

    started = time.perf_counter()
    import app_components.charts  # noqa: F401 - imported for its libraries (plotly)
    import app_components.maps  # noqa: F401 - (pydeck)
    import app_components.pairs  # noqa: F401
    from app_components import cache
    from matcher.docking.kinds import available

    # outside a script run Streamlit warns that there is no session or runtime yet: expected here
    quiet = ("streamlit.runtime.scriptrunner_utils.script_run_context", "streamlit.runtime.caching.cache_data_api",
             "streamlit.runtime.state.session_state_proxy")
    levels = {name: logging.getLogger(name).level for name in quiet}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.ERROR)

    data = cache.dataset("")
    cache.entities(data)
    cache.chain_graph(data)
    engine = cache.engine(data)
    for kind in available(data):  # Explore opens on the first; a cluster's profile needs them all
        engine.features(kind)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app_components.serve",
        description="Start the planners' app (streamlit run app.py) with its caches warm. Options not "
                    "listed here go to streamlit run, e.g. --server.port 8501 --server.address 127.0.0.1.",
    )
    parser.add_argument("--no-warm", action="store_true", help="start at once; the first page does the work")
    known, rest = parser.parse_known_args(argv)
    if not known.no_warm:
        print("Preparing the app (libraries, bundled data, engine)... ", end="", flush=True)
        print(f"ready in {warm():.1f} s", flush=True)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *rest]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
