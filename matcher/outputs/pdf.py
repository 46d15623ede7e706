"""PDF agendas: one bilingual page per participant, with a Chinese font embedded.

The PDF embeds a TrueType CJK font (WenQuanYi Zen Hei when installed) or falls back to
reportlab's built-in ``STSong-Light``. Text is neutralised like every export
(:func:`matcher.outputs.cells.cell_text`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd

from matcher.meetings.slots import SlotClock
from matcher.meetings.timetable import Schedule
from matcher.outputs.atomic import replacing
from matcher.outputs.cells import cell_text
from matcher.outputs.reasons import with_reasons
from matcher.outputs.words import COLON

#: TrueType CJK fonts reportlab can embed, searched in order (env MATCHER_CJK_FONT first).
#: CFF-based OpenType fonts (Noto Sans CJK .otf/.ttc) cannot be embedded by reportlab.
CJK_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
)
FALLBACK_CID_FONT = "STSong-Light"


_FONT_CACHE: dict[str, str] = {}


def cjk_font() -> str:
    """Register and return a reportlab font name that renders Chinese.

    Tries ``$MATCHER_CJK_FONT`` and :data:`CJK_FONT_PATHS` (TrueType, TTC with subfont 0), then
    falls back to the built-in CID font ``STSong-Light`` (not embedded; readers substitute it).
    """
    if "name" in _FONT_CACHE:
        return _FONT_CACHE["name"]
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    candidates = [os.environ.get("MATCHER_CJK_FONT", "")] + list(CJK_FONT_PATHS)
    for path in candidates:
        if not path or not Path(path).is_file():
            continue
        try:
            kwargs = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
            pdfmetrics.registerFont(TTFont("MatcherCJK", path, **kwargs))
        except Exception:  # noqa: BLE001 - a broken or CFF font: try the next one
            continue
        _FONT_CACHE["name"] = "MatcherCJK"
        return "MatcherCJK"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    _FONT_CACHE["name"] = FALLBACK_CID_FONT
    return FALLBACK_CID_FONT


#: The most characters of one text an agenda prints (a name, the event, the venue); a longer one ends
#: in "…" so that it fits a page (the workbook for planners keeps the whole text).
PDF_TEXT_CHARS = 240
PDF_NAME_CHARS = 80
#: The most lines of its column a topic (why the pair meets) fills in each language: measured in
#: the font, not counted in characters, so an English reason (twice the characters of the Chinese
#: one) prints as whole as the Chinese, and the longest still leaves its row on one page.
PDF_TOPIC_LINES = 20
#: The agenda table's columns (slot, time, table, partner, topic) share the A4 width between the
#: margins; the first three are as wide as their header and values, the partner's is fixed.
PDF_TABLE_WIDTH_MM = 178
PDF_PARTNER_MM = 46
#: Footer items in words.
FOOTER_ITEMS = {"run_id": ("运行编号", "Run ID"), "data_version": ("数据版本", "Data version")}


def _text(value: Any, most: int = PDF_TEXT_CHARS) -> str:
    """Safe text for a PDF paragraph: neutralised, at most ``most`` characters, XML-escaped, empty
    for missing values."""
    text = cell_text(value)
    return escape(text if len(text) <= most else text[: most - 1] + "…")


def _fitted(value: Any, font: str, size: float, width: float) -> str:
    """Safe text (see :func:`_text`) of at most ``width`` points in ``font`` at ``size``; a longer one
    is cut to end in "…"."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = cell_text(value)
    if stringWidth(text, font, size) <= width:
        return escape(text)
    low, high = 0, len(text)  # the longest prefix that fits with its ellipsis
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if stringWidth(text[:mid] + "…", font, size) <= width else (low, mid - 1)
    return escape(text[:low] + "…")


def _column_widths(columns: list[list[str]], font: str, size: float) -> list[float]:
    """Points for the slot, time and table columns (each as wide as its widest line: the header's
    words or a value, plus the cell's padding), the partner's and the topic's (the rest)."""
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth

    padding = 12 + 2  # reportlab's 6-point padding either side, and a little air
    first = [max(stringWidth(line, font, size) for line in lines) + padding for lines in columns]
    return [*first, PDF_PARTNER_MM * mm, PDF_TABLE_WIDTH_MM * mm - sum(first) - PDF_PARTNER_MM * mm]


def write_pdf(
    plan: Schedule,
    path: str | Path,
    *,
    clock: SlotClock | None = None,
    metadata: Mapping[str, Any] | None = None,
    title_zh: str = "对接洽谈会议日程",
    title_en: str = "Docking meeting agenda",
    reasons: pd.DataFrame | None = None,
    lang: str | None = None,
) -> Path:
    """One PDF with an agenda page per participant (Chinese font embedded): the event's name and
    venue (``metadata["event_name"]``, ``metadata["venue"]``) and date, then per meeting the slot,
    time, table, partner and the topic in plain words (why the pair meets, from ``reasons``: the
    shortlist with ``reason_zh``/``reason_en``). Participants get no scores: scores stay in the
    planner's workbook. ``lang`` "zh" or "en" writes every label, name and topic in that language
    (a name missing in it falls back to the other); without it the agenda is bilingual."""

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    colon = COLON[0] if lang == "zh" else COLON[1]

    def say(zh: str, en: str, sep: str = "<br/>") -> str:  # a label in the agenda's language(s)
        return zh if lang == "zh" else en if lang == "en" else f"{zh}{sep}{en}"

    def pick(zh: Any, en: Any, most: int = PDF_NAME_CHARS) -> list[str]:  # a name in the agenda's language(s)
        both = [_text(x, most) for x in (zh, en) if x is not None and not pd.isna(x) and str(x)]
        if lang in ("zh", "en"):
            mine = zh if lang == "zh" else en
            return [_text(mine, most)] if mine is not None and not pd.isna(mine) and str(mine) else both[:1]
        return both

    if lang in ("zh", "en"):
        title_zh = title_en = title_zh if lang == "zh" else title_en
    font = cjk_font()
    path = Path(path)
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    head = ParagraphStyle("head", parent=base, fontSize=15, leading=20)
    sub = ParagraphStyle("sub", parent=base, fontSize=11, leading=15)
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=colors.grey)
    small_text = ParagraphStyle("small_text", parent=base, fontSize=8, leading=10.5)
    meta = dict(metadata or {})
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        invariant=1,
        title=title_zh if title_zh == title_en else f"{title_zh} / {title_en}",
        author="matcher",
        creator="matcher",
    )
    agendas = with_reasons(plan.agendas(), reasons, ("participant_id", "partner_id"))
    headers = [say("时段", "Slot"), say("时间", "Time"), say("桌号", "Table"), say("对接方", "Partner"),
               say("议题（对接理由）", "Topic (why you meet)")]
    widths = _column_widths([
        [*headers[0].split("<br/>"), *(str(s) for s in agendas["slot"])],
        [*headers[1].split("<br/>"), *((clock.label(int(s)) for s in agendas["slot"]) if clock else ())],
        [*headers[2].split("<br/>"), *(str(t) for t in agendas["table"])],
    ], font, base.fontSize)
    topic_room = PDF_TOPIC_LINES * (widths[-1] - 12)  # points of text in the topic's lines, per language

    def topic(zh: Any, en: Any) -> str:  # why the pair meets, whole as far as the room goes
        texts = [x for x in (zh, en) if x is not None and not pd.isna(x) and str(x)]
        if lang in ("zh", "en"):
            mine = zh if lang == "zh" else en
            texts = [mine] if mine is not None and not pd.isna(mine) and str(mine) else texts[:1]
        return "<br/>".join(_fitted(x, font, small_text.fontSize, topic_room) for x in texts)

    story: list[Any] = []
    people = plan.participants()
    for n, person in enumerate(people.itertuples(index=False)):
        mine = agendas[agendas["participant_id"] == person.participant_id]
        if n:
            story.append(PageBreak())
        story.append(Paragraph(_text(title_zh) if title_zh == title_en else f"{_text(title_zh)}<br/>{_text(title_en)}",
                               head))
        story.append(Spacer(1, 3 * mm))
        story.append(
            Paragraph(
                # the agenda's own participant, whole as far as a name goes (the importer's 120 characters): the
                # heading wraps; a partner's name in the table stops at PDF_NAME_CHARS
                "　".join(pick(person.name_zh, person.name_en, PDF_TEXT_CHARS)) + f"　({_text(person.participant_id)})",
                sub
            )
        )
        event = "<br/>".join(x for x in (  # each on its own line, with the colon of the agenda's language
            f"{say('活动', 'Event', ' ')}{colon}{_text(meta['event_name'])}" if meta.get("event_name") else "",
            f"{say('地点', 'Venue', ' ')}{colon}{_text(meta['venue'])}" if meta.get("venue") else "") if x)
        if event:
            story.append(Paragraph(event, base))
        when = f"{say('日期', 'Date', ' ')}{colon}{clock.date.isoformat()}" if clock else ""
        story.append(Paragraph(f"{when}　{say('会谈', 'Meetings', ' ')}{colon}{len(mine)}", base))
        story.append(Spacer(1, 4 * mm))
        rows = [[Paragraph(x, base) for x in headers]]
        for m in mine.itertuples(index=False):
            partner = "<br/>".join(pick(m.partner_name_zh, m.partner_name_en))
            partner = f"{partner}<br/>({_text(m.partner_id)})" if partner else _text(m.partner_id)
            rows.append(
                [
                    Paragraph(str(m.slot), base),
                    Paragraph(clock.label(int(m.slot)) if clock else "", base),
                    Paragraph(str(m.table), base),
                    Paragraph(partner, base),
                    Paragraph(topic(m.reason_zh, m.reason_en), small_text),
                ]
            )
        if len(rows) == 1:
            rows.append(
                [
                    Paragraph("", base),
                    Paragraph("", base),
                    Paragraph("", base),
                    Paragraph(say("没有安排会谈", "no meetings scheduled", " / "), base),
                    Paragraph("", base),
                ]
            )
        table = Table(rows, colWidths=widths, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
        story.append(Spacer(1, 6 * mm))
        footer = "　".join(f"{say(*FOOTER_ITEMS[k], ' ')}{colon}{_text(meta[k])}" for k in FOOTER_ITEMS if k in meta)
        if footer:
            story.append(Paragraph(footer, small))
    if not story:
        story.append(Paragraph(f"{_text(title_zh)}: {say('没有会谈', 'no meetings', ' / ')}" if title_zh == title_en
                               else f"{_text(title_zh)} / {_text(title_en)}: 没有会谈 / no meetings", head))
    with replacing(path) as tmp:  # written whole or not at all
        doc.filename = str(tmp)
        doc.build(story)
    return path
