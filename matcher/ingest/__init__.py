"""Ingest: read files (CSV/XLSX, Chinese encodings), validate them, load a dataset, map third-party
formats onto ours, and make seeded synthetic enterprise registries."""
