"""Outputs: spreadsheet-safe cells and the files planners open (XLSX, CSV, PDF, ICS, Parquet)."""
