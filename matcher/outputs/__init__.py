"""Outputs: spreadsheet-safe cells (``cells``) and the files planners open: XLSX, CSV, JSON and
Parquet (``export``), PDF agendas (``pdf``), ICS calendars (``calendar``), with the run sheet
(``metadata``)."""
