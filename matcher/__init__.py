"""Industry-chain docking matchmaker: the library behind the app and the CLI.

The pipeline: load + validate -> chain graph -> candidates -> features -> score + explain ->
select / assign -> schedule -> export, with a store for decisions and outcomes.
This package never imports streamlit.
"""

__version__ = "0.1.0"
