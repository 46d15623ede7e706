"""Streamed writers: suggestion blocks appended to one CSV or Parquet file as they are ranked.

A registry's lists (20M rows for a million firms) never sit in memory at once. The file is written
on a background thread (pyarrow formats without holding the GIL), to ``FILE.partial``, renamed to
``FILE`` only when complete, so a failed run leaves an earlier file untouched.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

from matcher.exceptions import MatcherError
from matcher.outputs.atomic import discard, target
from matcher.outputs.cells import neutralise_arrow_table, round_arrow_scores

if TYPE_CHECKING:
    import pyarrow as pa

class BlockWriter:
    """Append suggestion blocks to one file, on a background thread, never leaving a half file.

    pyarrow formats and compresses without holding the GIL, so blocks are written while the next
    are ranked. At most ``QUEUE`` blocks wait to be written (memory stays bounded; with one, the
    ranking threads stalled whenever one block took the writer longer than usual); blocks are written
    in the order given, and an error in writing is raised by a later ``write`` or by ``close``.
    Rows go to ``FILE.partial``, renamed to ``FILE`` by a successful ``close``; ``abort`` (or a
    failed close) removes it. Text that would start a spreadsheet formula is neutralised in every
    format (``export.neutralise_cell``). Subclasses say how a block is written.
    """

    def __init__(self, path: str | Path, extra: dict | None = None, columns: list[str] | None = None):
        from concurrent.futures import ThreadPoolExecutor

        self.asked = Path(path)
        self.path = target(self.asked)  # refuses a missing folder, a folder, a device or a pipe
        self.extra = dict(extra or {})
        self.columns = list(columns or [])
        self.rows = 0
        self._partial = self.path.with_name(self.path.name + ".partial")
        try:
            self._handle = self._partial.open("wb")
        except OSError as err:  # named as asked for, not as the hidden FILE.partial
            raise MatcherError(f"cannot write {self.asked}: {err.strerror or err}") from err
        self._writer = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="block-writer")
        self._pending: list = []
        self.write_seconds = 0.0  # formatting and writing, on the writer's thread
        self.wait_seconds = 0.0  # the caller waiting for the writer (writing not overlapped with ranking)

    #: Blocks that may wait for the writer at once.
    QUEUE = 2

    def write(self, table: pa.Table) -> None:
        try:
            self._wait(self.QUEUE - 1)
        except OSError as err:  # the writer's thread failed (a full disk): the file asked for is named
            self.abort()
            raise MatcherError(f"cannot write {self.asked}: {err.strerror or err}") from err
        self._pending.append(self._pool.submit(self._write, table))
        self.rows += table.num_rows

    def _wait(self, keep: int = 0) -> None:
        """Until at most ``keep`` blocks wait (the oldest first: the writer takes them in order)."""
        while len(self._pending) > keep:
            pending = self._pending.pop(0)
            started = time.perf_counter()
            try:
                pending.result()
            finally:
                self.wait_seconds += time.perf_counter() - started

    def _write(self, table) -> None:
        started = time.perf_counter()
        try:
            self._write_block(table)
        finally:
            self.write_seconds += time.perf_counter() - started

    def _write_block(self, table) -> None:
        import pyarrow as pa

        for k, v in self.extra.items():  # a repeated scalar, not a Python list of 400k copies (15 ms a column)
            table = table.append_column(k, pa.repeat(pa.scalar(v), table.num_rows))
        table = self._prepare(neutralise_arrow_table(table))  # every text column: names, ids, reasons
        if self._writer is None:
            self._schema = table.schema
            self._writer = self._open(table.schema)
        self._writer.write_table(table.cast(self._schema))

    def _prepare(self, table):
        """A block as this format writes it (CSV rounds scores for people; Parquet keeps them)."""
        return table

    def _open(self, schema):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _empty(self) -> None:
        """Write a file with no rows (no block came)."""
        import pyarrow as pa

        columns = [*self.columns, *self.extra]
        self._writer = self._open(pa.schema([(c, pa.string()) for c in columns]))
        self._writer.close()

    def close(self) -> None:
        try:
            self._wait()
            if self._writer is None:
                self._empty()
            else:
                self._writer.close()
            self._handle.close()
        except OSError as err:  # a full disk: the file asked for is named (pyarrow names none)
            self.abort()
            raise MatcherError(f"cannot write {self.asked}: {err.strerror or err}") from err
        except BaseException:
            self.abort()
            raise
        finally:
            self._pool.shutdown(wait=True)
        try:
            self._partial.replace(self.path)
        except OSError as err:
            discard(self._partial)
            raise MatcherError(f"cannot write {self.asked}: {err.strerror or err}") from err

    def abort(self) -> None:
        """Stop and remove the partial file (the target file, if any, is left as it was)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._writer is not None:  # closed before its file (else its finaliser writes to a closed one)
            writer, self._writer = self._writer, None
            with contextlib.suppress(Exception):
                writer.close()
        with contextlib.suppress(OSError):
            self._handle.close()
        discard(self._partial)


class CsvBlockWriter(BlockWriter):
    """CSV for Excel: UTF-8 with BOM, CRLF (pyarrow's CSV writer: formatting 20M rows with pandas
    would take longer than ranking them)."""

    def __init__(self, path: str | Path, extra: dict | None = None, columns: list[str] | None = None):
        super().__init__(path, extra, columns)
        self._handle.write("\ufeff".encode())

    def _prepare(self, table):
        return round_arrow_scores(table)

    def _open(self, schema):
        import pyarrow.csv as pacsv

        return pacsv.CSVWriter(self._handle, schema, write_options=pacsv.WriteOptions(
            include_header=True, quoting_style="needed", eol="\r\n"))


class ParquetBlockWriter(BlockWriter):
    """Parquet (zstd): a registry's 20M rows in a fraction of the CSV's size, typed, for databases
    and analysis tools (Excel opens at most 1,048,576 rows)."""

    def _open(self, schema):
        import pyarrow as pa
        import pyarrow.parquet as pq

        # dictionaries where values repeat (text, the weights); scores and features are nearly all
        # distinct, and trying a dictionary on them costs a quarter of the writing for nothing
        repeated = [f.name for f in schema if not pa.types.is_floating(f.type) or f.name.startswith("w_")]
        # min/max statistics where a reader's filter can skip row groups ("rank <= 5", "score >= 0.6",
        # a kind); row groups are spatial tiles, so the min and max of ids and names span nearly
        # everything, and statistics on text and feature parts cost a fifth of the writing for nothing
        filtered = [f.name for f in schema if f.name in ("kind", "rank", "score")]
        return pq.ParquetWriter(self._handle, schema, compression="zstd", use_dictionary=repeated,
                                write_statistics=filtered)


def block_writer(path: str | Path, extra: dict | None = None, columns: list[str] | None = None) -> BlockWriter:
    """The writer for ``path``'s type: ``.parquet``, else CSV; ``columns`` head a file with no rows."""
    kind = ParquetBlockWriter if Path(path).suffix.lower() == ".parquet" else CsvBlockWriter
    return kind(path, extra, columns)
