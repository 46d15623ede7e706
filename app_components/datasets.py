"""Data sets a planner can switch between: the bundled one and valid uploads in the workspace.

An upload is staged in a fresh folder next to the accepted ones: the data set in use is copied
there with the uploaded table in place of its own, and the whole folder is validated with
``load_dataset``. Only a folder that loads becomes a data set; a bad file leaves nothing behind,
so nothing that was in use is ever replaced by an invalid upload.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from matcher.exceptions import MatcherError, ValidationError
from matcher.ingest.dataset import BUNDLED_DATA, ENTITY_TABLES, REFERENCE_TABLES, Dataset, load_dataset
from matcher.outputs.calendar import home_now
from matcher.store import Store, workspace_dir
from matcher.text import file_part

#: What a planner may upload: CSV, Excel's "Unicode text" (.txt: UTF-16, tab-separated; kept as the
#: table's CSV, which is read by its content) and workbooks.
UPLOAD_TYPES = ("csv", "txt", "xlsx")


def datasets_dir() -> Path:
    """``$MATCHER_WORKSPACE/datasets``: one folder per accepted upload."""
    return workspace_dir() / "datasets"


def available() -> list[str]:
    """Paths of the data sets a planner can use: "" (bundled) first, then uploads, newest first."""
    folder = datasets_dir()
    uploads = sorted((p for p in folder.glob("*") if p.is_dir() and not p.name.startswith(".")), reverse=True) \
        if folder.is_dir() else []
    return [""] + [str(p) for p in uploads]


def folder_of(path: str) -> Path:
    return BUNDLED_DATA if path == "" else Path(path)


def stage_upload(file_name: str, content: bytes, table: str, base: str = "", *, store: Store | None = None,
                 by: str | None = None) -> Dataset:
    """Validate an uploaded table together with the rest of the data set ``base``.

    Parameters
    ----------
    file_name : str
        The uploaded file's name (its suffix says CSV, Unicode text or XLSX).
    content : bytes
        The file's bytes.
    table : str
        ``clusters``, ``markets`` or ``enterprises``.
    base : str
        The data set whose other tables complete the new one ("" = bundled).
    store, by : Store, str
        Adding a data set is an admin's work once ``store`` holds accounts: ``by`` must be one
        (checked before anything is written; :class:`~matcher.exceptions.AccessError` otherwise).

    Returns
    -------
    Dataset
        The new data set, loaded from its own folder under :func:`datasets_dir`.

    Raises
    ------
    ValidationError
        The file (or the data set it makes) breaks the schema; ``problems`` lists every problem
        and no folder is left behind.
    """
    if store is not None:
        store.require(by, "admin")
    if table not in ENTITY_TABLES:
        raise MatcherError(f"unknown table {table!r}; choose one of {', '.join(ENTITY_TABLES)}")
    suffix = Path(file_name).suffix.lower().lstrip(".")
    if suffix not in UPLOAD_TYPES:
        raise MatcherError(f"{file_name}: only .csv, .txt and .xlsx files can be uploaded")
    suffix = "csv" if suffix == "txt" else suffix
    root = datasets_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(root)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    except OSError as err:
        raise MatcherError(f"the workspace folder {root} cannot be written ({err.strerror}); "
                           "nothing was changed") from None
    try:
        source = folder_of(base)
        for name in ENTITY_TABLES:
            if name == table:
                continue
            for ext in ("csv", "xlsx"):
                if (source / f"{name}.{ext}").is_file():
                    shutil.copy2(source / f"{name}.{ext}", staging / f"{name}.{ext}")
                    break
        for name in REFERENCE_TABLES:
            if (source / f"{name}.csv").is_file():
                shutil.copy2(source / f"{name}.csv", staging / f"{name}.csv")
        (staging / f"{table}.{suffix}").write_bytes(content)
        try:
            load_dataset(staging)
        except ValidationError as err:  # name the planner's file, not the staging path
            if err.problems is not None and len(err.problems):
                err.problems["file"] = [
                    file_name if Path(str(f)).name == f"{table}.{suffix}" else Path(str(f)).name
                    for f in err.problems["file"]
                ]
            raise
        stamp = home_now().strftime("%Y%m%d-%H%M%S-%f")  # in the zone the page shows times in
        final = root / f"{stamp}-{table}" if not (slug := _slug(file_name)) else root / f"{stamp}-{table}-{slug}"
        staging.rename(final)
        return load_dataset(final)
    except OSError as err:  # a full or read-only workspace: say so, keep the data set in use
        shutil.rmtree(staging, ignore_errors=True)
        raise MatcherError(f"the upload could not be stored in {root} ({err.strerror}); "
                           "nothing was changed") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _slug(file_name: str) -> str:
    """The uploaded file's name without its suffix as a folder-name part (:func:`matcher.text.file_part`,
    at most 40 characters); "" when nothing is left."""
    return file_part(Path(str(file_name)).stem, 40)


_NAME = re.compile(r"(\d{8})-(\d{6})-\d+-([a-z_]+?)(?:-(.+))?$")


def label(name: str, table_label: Callable[[str], str]) -> str:
    """An upload folder's name as a planner reads it: when, which table (``table_label`` puts it in the
    session's language) and from which file ("2026-11-30 18:44 · 集群 · 我的集群"); other names as they are."""
    found = _NAME.match(str(name))
    if not found or found.group(3) not in ENTITY_TABLES:
        return str(name)
    day, time, table, file = found.groups()
    when = f"{day[:4]}-{day[4:6]}-{day[6:]} {time[:2]}:{time[2:4]}:{time[4:]}"
    return " · ".join(part for part in (when, table_label(table), file or "") if part)


def _remove_stale_staging(root: Path, older_than_s: float = 3600.0) -> None:
    """Remove the staging folders of uploads a stopped server left behind (an upload in progress is younger)."""
    import time

    for folder in root.glob(".staging-*"):
        try:
            if folder.is_dir() and time.time() - folder.stat().st_mtime > older_than_s:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
