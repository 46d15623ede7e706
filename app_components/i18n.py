"""Every label and message of the app in Chinese and English, and number/date formatting.

Pages never write a literal label: they call :func:`t` with a key of :data:`TEXT`. The language
is the session's choice (``st.session_state["lang"]``: ``"zh"`` or ``"en"``, Chinese first).
Domain vocabularies (stages, regions, kinds, statuses, outcomes) come from the library's own
bilingual tables so that the app and the exports say the same thing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from matcher.docking.explain import FEATURE_LABEL
from matcher.docking.kinds import get_kind
from matcher.store.models import DECISIONS, ITEM_STATUSES, OUTCOMES
from matcher.vocab import ENTITY_TYPES, FLAGS, PROVINCES, REGIONS, STAGES

LANGS = ("zh", "en")
LANG_LABEL = {"zh": "中文", "en": "English"}
LANG_KEY = "lang"

PRESET_LABEL: dict[str, tuple[str, str]] = {
    "balanced": ("均衡", "balanced"),
    "supply": ("重供应链", "supply chain first"),
    "transfer": ("重产能转移", "capacity transfer first"),
    "nearby": ("就近", "nearby first"),
    "chain": ("重产业链", "chain first"),
    "custom": ("自定义", "custom"),
    "unknown": ("未知", "unknown"),  # runs and items recorded before the store kept presets
}
ENTITY_TYPE_LABEL = ENTITY_TYPES
TABLE_LABEL = {"clusters": ("集群", "clusters"), "markets": ("专业市场", "markets"), "enterprises": ("企业", "enterprises")}

#: Designation groups: (Chinese, English, words that name them in the data's designations text).
DESIGNATION_GROUPS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "transfer_park": ("产业转移试点园区/示范园", "transfer pilot or demonstration park",
                      ("transfer", "转移", "demonstration park", "示范园")),
    "base": ("纺织产业基地市/县", "textile industry base city or county", ("base city", "base county", "基地")),
    "city": ("特色名城", "China ... city title", (" city", "名城", "capital", "之都")),
    "town": ("特色名镇", "China ... town title", (" town", "名镇", "hometown")),
    "innovation": ("创新/公共服务平台、示范", "innovation, service platform or demonstration",
                   ("innovation", "platform", "demonstration", "创新", "平台", "示范")),
    "provincial": ("省级称号", "provincial title", ("provincial", "省级")),
}

#: key -> (Chinese, English). Placeholders use str.format names.
TEXT: dict[str, tuple[str, str]] = {
    # app frame
    "choose": ("全部", "All"),  # an empty filter means all; short, so a narrow picker shows it whole
    "app_title": ("纺织产业链对接平台", "Textile industry-chain docking"),
    "language": ("语言", "Language"),
    "planner": ("规划人员", "Planner"),
    "planner_help": ("记录在决定、备注和结果里的名字", "Name kept with decisions, notes and outcomes"),
    "dataset_active": ("当前数据：{name}（版本 {version}）", "Data: {name} (version {version})"),
    "store_at": ("存储位置：{where}", "Store: {where}"),
    "store_file": ("文件 {path}", "file {path}"),
    "store_memory": ("内存数据库（关闭即丢失）", "an in-memory database (lost on exit)"),
    "store_server": ("{kind} 数据库 {name}（{host}）", "{kind} database {name} on {host}"),
    "store_unreadable": ("MATCHER_DB_URL 指定的数据库（地址无法解析）",
                         "the database named in MATCHER_DB_URL (the address could not be read)"),
    "planner_placeholder": ("姓名", "your name"),
    "upload_button": ("上传文件", "Upload"),
    "skip_to_content": ("跳到主要内容", "Skip to main content"),
    "weights_title": ("权重（当前方案：{preset}）", "Weights (now: {preset})"),
    "loading_data": ("正在读取并校验数据…", "Reading and checking the data…"),
    "building_engine": ("正在计算候选对接及特征…", "Building candidate pairs and features…"),
    "store_error": ("无法使用存储：{error}", "The store cannot be used: {error}"),
    "data_error": ("数据无法读取：{error}", "The data cannot be read: {error}"),
    "bundled": ("内置数据", "bundled data"),
    # page titles
    "page_overview": ("概览", "Overview"),
    "page_explore": ("对接探索", "Explore docking"),
    "page_profile": ("集群画像", "Cluster profile"),
    "page_shortlist": ("候选清单", "Shortlist"),
    "page_meetings": ("洽谈会排期", "Meeting planner"),
    "page_outcomes": ("对接成效", "Outcomes"),
    "page_data": ("数据", "Data"),
    # overview
    "overview_intro": ("产业集群与专业市场的分布、产业链环节覆盖与数量。",
                       "Where the clusters and markets are, which chain stages each region covers, and how many."),
    "filter_region": ("区域", "Region"),
    "filter_province": ("省份", "Province"),
    "filter_stage": ("产业链环节", "Chain stage"),
    "filter_designation": ("称号", "Designation"),
    "filter_type": ("类型", "Type"),
    "count_clusters": ("集群", "Clusters"),
    "count_markets": ("专业市场", "Markets"),
    "count_enterprises": ("企业", "Enterprises"),
    "count_provinces": ("省份", "Provinces"),
    "count_shortlisted": ("已列入清单的对接", "Shortlisted pairs"),
    "map_title": ("分布图（颜色表示区域）", "Map (colour = region)"),
    "coverage_title": ("各区域产业链环节覆盖（集群与市场数）", "Chain-stage coverage by region (clusters and markets)"),
    "entities_title": ("名录", "Directory"),
    "none_match": ("没有符合筛选条件的记录。", "Nothing matches the filters."),
    "legend": ("图例", "Legend"),
    # explore
    "kind": ("对接类型", "Docking kind"),
    "preset": ("权重方案", "Weight preset"),
    "reset_weights": ("恢复方案权重", "Reset to preset"),
    "weights": ("特征权重", "Feature weights"),
    "weights_help": ("拖动滑块即时重新排序；权重越大，该特征对得分的影响越大。",
                     "Move a slider to re-rank at once; a larger weight makes that feature count more."),
    "focus_entity": ("只看某一方", "Only pairs of"),
    "focus_all": ("（全部）", "(all)"),
    "left_region": ("甲方区域", "Left region"),
    "right_region": ("乙方区域", "Right region"),
    "min_score": ("最低得分", "Minimum score"),
    "top_n": ("显示前 N 对", "Show top N pairs"),
    "ranked_title": ("对接排名（点选一行查看解释）", "Ranked pairs (select a row to see why)"),
    "arc_title": ("当前排名的对接连线", "Arcs of the current top list"),
    "pair_title": ("对接解释：{left} ↔ {right}", "Why this pair: {left} ↔ {right}"),
    "waterfall_title": ("各特征对得分的贡献", "What each feature adds to the score"),
    "directions_title": ("双向得分", "Both directions"),
    "direction_names": ("甲：{left}；乙：{right}", "A: {left}; B: {right}"),
    "direction_lr": ("甲 → 乙", "A → B"),
    "direction_rl": ("乙 → 甲", "B → A"),
    "holding_back_title": ("排名不更高的原因", "What keeps it from ranking higher"),
    "holding_back_none": ("各项特征均已满分。", "Every feature is already at its best."),
    "missed": ("损失的得分", "score missed"),
    "add_selected": ("加入候选清单", "Add to shortlist"),
    "already_listed": ("{n} 对已在清单中，未重复加入。", "{n} pair(s) were already on the shortlist and were skipped."),
    "select_rows_first": ("请先在表中选择一行或多行。", "Select one or more rows in the table first."),
    "added_pairs": ("已加入 {n} 对到清单「{name}」：{pairs}", "Added {n} pair(s) to shortlist '{name}': {pairs}"),
    "ticked": ("已勾选 {n} 对（换权重、筛选或焦点后仍保留）", "{n} pair(s) ticked (kept when weights, filters or focus change)"),
    "clear_ticks": ("清除勾选", "Clear ticks"),
    "find_entity": ("查找（中文名、英文名、拼音或编号）", "Find (Chinese or English name, pinyin or id)"),
    "find_placeholder": ("如：柯桥、keqiao、kq、C025", "e.g. Keqiao, kq, C025"),
    "found_n": ("找到 {n} 个", "{n} found"),
    "found_none": ("没有找到，列出全部", "Nothing found; all are listed"),
    "validation_failed": ("检查未通过：问题见下表", "Not accepted: the problems are listed below"),
    "validation_passed": ("检查通过，已启用新数据", "Accepted: the new data is in use"),
    "arc_legend": ("弧线越粗越不透明，得分越高；红色为已勾选的对接；右下角方框为南海诸岛。",
                   "Thicker, more opaque arcs score higher; red arcs are the ticked pairs; the framed box at the "
                   "lower right shows the South China Sea Islands."),
    "map_note": ("底图：省级行政区划（离线绘制），右下角方框为南海诸岛。",
                 "Basemap: provincial boundaries (drawn offline); the framed box at the lower right shows the "
                 "South China Sea Islands."),
    "adding_pairs": ("正在把 {n} 对加入清单……", "Adding {n} pair(s) to the shortlist…"),
    "event_name": ("活动名称（印在日程上）", "Event name (printed on agendas)"),
    "venue": ("地点", "Venue"),
    "no_pairs": ("没有符合条件的对接。", "No pairs match."),
    "kind_unavailable": ("此数据没有企业，企业对接不可用。", "This data set has no enterprises; enterprise docking is not available."),
    "rerank_time": ("重新排序用时 {ms} 毫秒", "re-ranked in {ms} ms"),
    "total": ("合计", "total"),
    # columns
    "col_rank": ("排名", "Rank"),
    "col_left": ("甲方", "Left"),
    "col_right": ("乙方", "Right"),
    "col_left_region": ("甲方区域", "Left region"),
    "col_right_region": ("乙方区域", "Right region"),
    "col_regions": ("区域", "Regions"),
    "col_main_reasons": ("主要理由", "Main reasons"),
    "col_main_reasons_help": ("最强的几项动因；勾选一对即在下方“对接解释”看到全部理由",
                              "The strongest motives; tick a pair to see every reason in its explanation below"),
    "more_motives": ("另有 {n} 项", "{n} more"),
    "col_score": ("得分", "Score"),
    "col_reason": ("理由", "Reason"),
    "col_feature": ("特征", "Feature"),
    "col_value": ("特征值", "Value"),
    "col_weight": ("权重", "Weight"),
    "col_contribution": ("贡献", "Contribution"),
    "col_id": ("编号", "ID"),
    "col_name": ("名称", "Name"),
    "col_type": ("类型", "Type"),
    "col_region": ("区域", "Region"),
    "col_province": ("省份", "Province"),
    "col_city": ("城市", "City"),
    "col_stages": ("产业链环节", "Chain stages"),
    "col_designations": ("称号", "Designations"),
    "col_products": ("产品", "Products"),
    "col_kind": ("对接类型", "Kind"),
    "col_status": ("状态", "Status"),
    "col_notes": ("备注", "Notes"),
    "col_locked": ("锁定", "Locked"),
    "col_select": ("选择", "Select"),
    "col_planner": ("规划人员", "Planner"),
    "col_updated": ("更新时间", "Updated"),
    "col_missing": ("数据缺失", "Missing data"),
    "all_of_kind": ("全部为{kind}", "All {kind}"),
    "col_slot": ("时段", "Slot"),
    "col_time": ("时间", "Time"),
    "col_table": ("桌号", "Table"),
    "col_stage": ("阶段", "Stage"),
    "col_outcome": ("结果", "Outcome"),
    "col_rating": ("评分", "Rating"),
    "col_note": ("说明", "Note"),
    "col_recorded": ("记录时间", "Recorded"),
    "col_when": ("时间", "When"),
    "col_action": ("操作", "Action"),
    "col_what": ("内容", "What"),
    "col_gap_stage": ("缺失环节", "Missing stage"),
    "col_feeds": ("供给本集群的", "Feeds its"),
    "col_need": ("需求强度", "Need"),
    "col_partner": ("可补链伙伴", "Partner who could fill it"),
    "col_top_partner": ("对接伙伴", "Partner"),
    "col_partner_region": ("伙伴区域", "Partner region"),
    "col_shortlisted": ("列入清单", "Shortlisted"),
    "col_met": ("已会谈", "Met"),
    "col_valuable": ("有价值以上", "Valuable or better"),
    "col_agreement": ("达成协议", "Agreement"),
    "col_rate_met": ("会谈率", "Met rate"),
    "col_rate_valuable": ("转化率（有价值以上）", "Valuable rate"),
    "col_preset": ("权重方案", "Preset"),
    "col_file": ("文件", "File"),
    "col_row": ("行", "Row"),
    "col_column": ("列", "Column"),
    "col_cell": ("单元格内容", "Value"),
    "col_problem": ("问题", "Problem"),
    "col_participant": ("参会方", "Participant"),
    "col_partner_name": ("对接方", "Partner"),
    "col_reason_unscheduled": ("未能安排的原因", "Why it does not fit"),
    "col_version": ("版本", "Version"),
    "col_rows": ("行数", "Rows"),
    # profile
    "pick_cluster": ("选择集群", "Cluster"),
    "position_title": ("产业链位置", "Position in the chain"),
    "position_caption": ("实心为本集群所在环节；箭头为投入产出供给关系，越粗越强。",
                         "Filled: stages the cluster works in; arrows: input-output supply, thicker = stronger."),
    "position_value": ("位置（0 = 纤维端，1 = 成品端）：{value}", "Position (0 = fibre end, 1 = garment end): {value}"),
    "chain_own": ("本集群所在环节", "Cluster's own stage"),
    "chain_gap": ("本集群产业链缺口", "Gap in the cluster's chain"),
    "chain_other": ("其他环节", "Other stage"),
    "chain_link": ("供给关系（越粗越强）", "Supply link (thicker = stronger)"),
    "chain_link_hover": ("{source} → {target}<br>供给强度 {value}", "{source} → {target}<br>supply strength {value}"),
    "gaps_title": ("产业链缺口及可补链伙伴", "Chain gaps and who could fill them"),
    "no_gaps": ("没有明显的产业链缺口。", "No marked chain gaps."),
    "partners_title": ("各类对接的首选伙伴", "Top partners of each kind"),
    "history_title": ("决定与成效记录", "Decisions and outcomes"),
    "no_history": ("还没有关于此集群的记录。", "Nothing recorded about this cluster yet."),
    "not_in_kind": ("此集群不参与该类对接。", "This cluster takes no part in this kind."),
    "facts_title": ("基本信息", "Facts"),
    "home_markets": ("本地专业市场（不作为对接建议）：{names}", "Home market(s), not suggested as dockings: {names}"),
    "province_facts_title": ("所在省份的转移动因数据", "Province facts behind the transfer motives"),
    "province_facts_caption": ("对接得分中的劳动力成本梯度、原料基地和区域合作框架读取这些数据；空白为未知。",
                               "The labour-cost gradient, raw-material base and regional cooperation motives read "
                               "these facts; blank means unknown."),
    "col_fact": ("指标", "Fact"),
    "col_year": ("年份", "Year"),
    "col_source": ("来源", "Source"),
    "unknown": ("未知", "unknown"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # shortlist
    "shortlist": ("候选清单", "Shortlist"),
    "new_shortlist": ("新建清单名称", "New shortlist name"),
    "create_shortlist": ("新建清单", "Create shortlist"),
    "default_shortlist": ("默认清单", "default shortlist"),
    "unnamed_planner": ("未署名", "unnamed"),
    "shortlist_created": ("已新建清单「{name}」。", "Created shortlist '{name}'."),
    "empty_shortlist": ("清单还是空的：在「对接探索」中选择对接并加入清单。",
                        "The shortlist is empty: pick pairs on 'Explore docking' and add them."),
    "filter_status": ("按状态筛选", "Filter by status"),
    "filter_kind": ("按对接类型筛选", "Filter by kind"),
    "search": ("搜索名称或编号", "Search name or id"),
    "save_changes": ("保存修改", "Save changes"),
    "saved": ("已保存 {n} 项修改。", "Saved {n} change(s)."),
    "nothing_changed": ("没有需要保存的修改。", "Nothing to save."),
    "conflict": ("保存冲突：{error}", "Not saved, someone changed it first: {error}"),
    "bulk_title": ("批量操作（作用于勾选的行）", "Bulk actions (on ticked rows)"),
    "bulk_status": ("设为状态", "Set status"),
    "bulk_apply": ("应用到勾选行", "Apply to ticked rows"),
    "bulk_lock": ("锁定勾选行", "Lock ticked rows"),
    "bulk_unlock": ("解锁勾选行", "Unlock ticked rows"),
    "none_ticked": ("请先勾选行。", "Tick some rows first."),
    "download_shortlist_xlsx": ("下载清单（Excel）", "Download shortlist (Excel)"),
    "download_shortlist_csv": ("下载清单（CSV）", "Download shortlist (CSV)"),
    "missing_flag": ("{n} 项涉及当前数据中已不存在的对象（已标记，未删除）。",
                     "{n} item(s) name an entity missing from the current data (flagged, not deleted)."),
    # meetings
    "meeting_setup": ("会议设置", "Meeting set-up"),
    "n_slots": ("时段数", "Time slots"),
    "n_tables": ("桌数", "Tables"),
    "meeting_date": ("日期", "Date"),
    "meeting_start": ("开始时间", "Start time"),
    "slot_minutes": ("每个时段（分钟）", "Minutes per slot"),
    "include_status": ("纳入状态", "Include items with status"),
    "keep_booked": ("已预订的会谈保持原位", "Keep booked meetings where they are"),
    "run_scheduler": ("生成排期", "Run the scheduler"),
    "scheduling": ("正在排期…", "Scheduling…"),
    "scheduled_summary": ("已安排 {n} 场会谈，用 {slots} 个时段（下限 {bound}），空档 {idle} 个。",
                          "{n} meeting(s) in {slots} slot(s) (lower bound {bound}), {idle} idle slot(s)."),
    "unscheduled_title": ("未能安排的会谈", "Meetings that do not fit"),
    "grid_title": ("时段 × 桌号（红色为冲突，蓝色为已预订）", "Slot × table (red = conflict, blue = already booked)"),
    "conflicts": ("{n} 处冲突，见红色格子。", "{n} conflict(s): see the red cells."),
    "no_conflicts": ("没有冲突：没有人或桌子被重复安排。", "No conflicts: nobody and no table is double-booked."),
    "no_requests": ("所选清单中没有可排期的对接。", "The chosen shortlist has no pairs to schedule."),
    "save_bookings": ("保存预订到存储", "Save bookings to the store"),
    "bookings_saved": ("已保存 {n} 场会谈预订。", "Saved {n} booking(s)."),
    "downloads": ("下载", "Downloads"),
    "download_xlsx": ("Excel 工作簿", "Excel workbook"),
    "download_pdf": ("PDF 日程（每方一页）", "PDF agendas (a page each)"),
    "download_ics": ("日历（ICS）", "Calendar (ICS)"),
    "download_csv": ("CSV（Excel 可打开）", "CSV (opens in Excel)"),
    "run_first": ("先生成排期。", "Run the scheduler first."),
    "preparing_files": ("正在生成下载文件…", "Preparing the files…"),
    # outcomes
    "record_title": ("记录成效", "Record an outcome"),
    "pick_pair": ("对接", "Pair"),
    "stage_meeting": ("洽谈会当场", "At the meeting"),
    "stage_followup": ("数月后跟进", "Months later"),
    "rating": ("评分（1–5，仅已会谈）", "Rating (1-5, met only)"),
    "note": ("说明", "Note"),
    "record": ("记录", "Record"),
    "recorded": ("已记录。", "Recorded."),
    "replace_existing": ("替换已有记录", "Replace the recorded outcome"),
    "outcomes_table": ("已记录的成效", "Recorded outcomes"),
    "conversion_kind": ("按对接类型的转化", "Conversion by kind"),
    "retrain_title": ("根据对接成效重新训练排序", "Retrain the ranking from outcomes"),
    "retrain_help": ("用已记录的成效（达成协议、进入谈判为好；无后续联系、拒绝为差）训练该对接类型的评分模型，并与当前权重方案在留出样本上比较。成效少于 30 条时沿用权重方案。",
                     "Train the kind's scorer on recorded outcomes (agreement and negotiation are good; no further contact and declined are poor) and compare it with the weight preset on held-out pairs. With fewer than 30 outcomes the preset stays in use."),
    "retrain": ("重新训练", "Retrain"),
    "retraining": ("正在训练……", "Training…"),
    "retrain_pairs": ("{kind}：{n} 对有结果的配对（{good} 对为好结果）", "{kind}: {n} pairs with outcomes ({good} good)"),
    "retrain_compared": ("在留出的配对上比较（越高越好）；保存的模型随后用全部配对重新训练",
                         "Compared on held-out pairs (higher is better); the saved model is then refitted on all pairs"),
    "scorer_learned": ("学习得到的模型", "learned model"),
    "scorer_preset": ("权重方案", "weight preset"),
    "col_scorer": ("排序方法", "Ranking"),
    "col_pairs_held_out": ("留出配对", "Held-out pairs"),
    "col_good": ("好结果", "Good"),
    "col_average_precision": ("平均精度", "Average precision"),
    "baseline": ("基线（截距）", "baseline (intercept)"),
    "retrained": ("已训练并保存模型，可在“对接探索”中启用", "Model trained and saved; switch it on in Explore docking"),
    "retrain_cold": ("成效太少（{n} / {need} 条），继续使用权重方案",
                     "Too few outcomes ({n} of {need}): the weight preset stays in use"),
    "retrain_failed": ("训练失败", "Training failed"),
    "use_learned": ("用学习到的模型排序", "Rank with the learned model"),
    "use_learned_help": ("按“对接成效”页训练的模型排序，权重滑块暂不生效。",
                         "Rank with the model trained on the Outcomes page; the weight sliders are ignored meanwhile."),
    "conversion_preset": ("按权重方案的转化", "Conversion by preset"),
    "no_outcomes": ("还没有记录成效。", "No outcomes recorded yet."),
    "no_pairs_to_record": ("清单中还没有对接。", "No pairs on any shortlist yet."),
    # data
    "data_intro": ("上传集群、市场或企业表（CSV 或 Excel）。文件通过校验后才会启用，否则什么都不会被替换。",
                   "Upload a clusters, markets or enterprises table (CSV or Excel). It is used only when it is "
                   "valid; otherwise nothing is replaced."),
    "which_table": ("上传的是哪张表", "Which table"),
    "upload": ("选择文件", "Choose a file"),
    "validate_upload": ("校验并启用", "Check and use"),
    "validating": ("正在校验…", "Checking…"),
    "upload_ok": ("文件有效：已启用数据「{name}」（版本 {version}）。",
                  "The file is valid: data set '{name}' (version {version}) is now in use."),
    "upload_bad": ("文件有问题，未做任何替换。共 {n} 处问题：", "The file has problems; nothing was replaced. {n} problem(s):"),
    "datasets": ("可用数据集", "Data sets"),
    "use_dataset": ("使用的数据集", "Data set in use"),
    "switched": ("已切换到「{name}」。", "Now using '{name}'."),
    "current_tables": ("当前数据的表", "Tables of the data in use"),
    "limits": ("每个文件最大 {mb} MB；接受 .csv 和 .xlsx。", "At most {mb} MB per file; .csv and .xlsx accepted."),
    "flagged_items": ("{n} 项清单条目引用的对象不在新数据中，已标记。",
                      "{n} shortlist item(s) name entities absent from the new data; they are flagged."),
}


_PINNED = threading.local()


def pin_lang() -> None:
    """Read the session's language once per script run (``app.py`` calls this first): :func:`lang`
    is called thousands of times a run, and each read of session state costs tens of µs."""
    ctx = get_script_run_ctx()
    value = st.session_state.get(LANG_KEY, "zh")
    _PINNED.value = (ctx.session_id if ctx else None, value if value in LANGS else "zh")


def lang() -> str:
    """The session's language, Chinese unless the planner chose English."""
    pinned = getattr(_PINNED, "value", None)
    if pinned is not None:
        ctx = get_script_run_ctx(suppress_warning=True)
        if ctx is not None and ctx.session_id == pinned[0]:
            return pinned[1]
    value = st.session_state.get(LANG_KEY, "zh")
    return value if value in LANGS else "zh"


def _pick(pair: tuple[str, str]) -> str:
    return pair[0] if lang() == "zh" else pair[1]


def t(key: str, **values: Any) -> str:
    """The label ``key`` in the session's language, with ``values`` filled in."""
    text = _pick(TEXT[key])
    return text.format(**values) if values else text


def kind_label(kind: str) -> str:
    return get_kind(kind).label(lang())


def preset_label(preset: str) -> str:
    return _pick(PRESET_LABEL.get(preset, (preset, preset)))


def stage_label(stage: str) -> str:
    return _pick(STAGES.get(stage, (stage, stage)))


def stages_label(cell: Any) -> str:
    """A ``;``-joined stage list in words ("纺纱、织造" / "spinning, weaving")."""
    if cell is None or (not isinstance(cell, str) and pd.isna(cell)) or cell == "":
        return ""
    sep = "、" if lang() == "zh" else ", "
    return sep.join(stage_label(s) for s in str(cell).split(";") if s)


def region_label(region: Any) -> str:
    if region is None or (not isinstance(region, str) and pd.isna(region)):
        return t("unknown")
    return _pick(REGIONS.get(region, (region, region)))


#: Chinese texts of the bundled products and designations (``data/texts_zh.csv``), keyed by the
#: English text they translate: a text the file does not know is shown as it is.
TEXTS_ZH = Path(__file__).resolve().parents[1] / "data" / "texts_zh.csv"


@lru_cache(maxsize=1)
def _texts_zh() -> dict[str, str]:
    if not TEXTS_ZH.is_file():
        return {}
    table = pd.read_csv(TEXTS_ZH, dtype=str, keep_default_na=False, encoding="utf-8")
    out = {}
    for column in ("products", "designations", "city"):
        if column not in table or f"{column}_zh" not in table:
            continue
        for english, chinese in zip(table[column], table[f"{column}_zh"], strict=True):
            if english.strip() and chinese.strip():
                out[english.strip()] = chinese.strip()
    return out


def fact_text(value: Any) -> str:
    """A products, designations or city text in the session's language: the Chinese translation of a bundled
    English text in the Chinese UI (``data/texts_zh.csv``), else the text as it is."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = str(value)
    if lang() == "zh":
        return _texts_zh().get(text.strip(), text)
    return _CJK_ASIDE.sub("", text).strip()  # the English facts quote their Chinese names in brackets


_CJK_ASIDE = re.compile(r"\s*[(（][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]")


def province_label(province: Any) -> str:
    if province is None or (not isinstance(province, str) and pd.isna(province)):
        return t("unknown")
    zh, _ = PROVINCES.get(province, (province, ""))
    return zh if lang() == "zh" else province


def feature_label(feature: str) -> str:
    return _pick(FEATURE_LABEL.get(feature, (feature, feature)))


def flag_label(flag: str) -> str:
    return _pick(FLAGS.get(flag, (flag, flag)))


def designation_label(group: str) -> str:
    zh, en, _ = DESIGNATION_GROUPS.get(group, (group, group, ()))
    return zh if lang() == "zh" else en


#: The name recorded for a planner who gave none (``context.planner``).
UNNAMED_PLANNER = "planner"


def planner_name(name: Any) -> str:
    """A recorded planner's name as shown: one who gave no name is "unnamed" in the session's language."""
    if name == UNNAMED_PLANNER:
        return t("unnamed_planner")
    return "" if name is None or (not isinstance(name, str) and pd.isna(name)) else str(name)


def shortlist_name(name: str) -> str:
    """A shortlist's name as shown: the one made for a new store is named in the session's language
    (it was stored in the language of the session that made it)."""
    return t("default_shortlist") if name in TEXT["default_shortlist"] else name


def status_label(status: str) -> str:
    extra = {"new": ("新", "new")}
    return _pick(ITEM_STATUSES.get(status) or extra.get(status, (status, status)))


def decision_label(decision: str) -> str:
    return _pick(DECISIONS.get(decision, (decision, decision)))


def outcome_label(stage: str, value: str) -> str:
    return _pick(OUTCOMES.get(stage, {}).get(value, (value, value)))


def outcome_stage_label(stage: str) -> str:
    return t("stage_meeting") if stage == "meeting" else t("stage_followup")


def entity_type_label(kind: str) -> str:
    return _pick(ENTITY_TYPE_LABEL.get(kind, (kind, kind)))


def table_label(table: str) -> str:
    return _pick(TABLE_LABEL.get(table, (table, table)))


def name_of(name_zh: Any, name_en: Any, fallback: Any = "") -> str:
    """An entity's name in the session's language, else the other language, else ``fallback``."""
    first, second = (name_zh, name_en) if lang() == "zh" else (name_en, name_zh)
    for value in (first, second, fallback):
        if value is not None and not (not isinstance(value, str) and pd.isna(value)) and str(value):
            return str(value)
    return ""


def reason_column() -> str:
    """Which reason column of a suggestions table to show."""
    return "reason_zh" if lang() == "zh" else "reason_en"


def fmt_number(value: Any, digits: int = 0) -> str:
    """A number with thousands separators ("1,234" / "1,234.5"); empty for unknown."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return t("unknown")
    number = float(value)
    if math.isinf(number):
        return "∞"
    return f"{number:,.{digits}f}"


def fmt_score(value: Any) -> str:
    return fmt_number(value, 3)


def fmt_date(value: dt.date | dt.datetime | str | None) -> str:
    """A date (and time, when given) the way the language writes it."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        local = value.astimezone() if value.tzinfo else value
        if lang() == "zh":
            return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
        return f"{local.day} {local:%b %Y %H:%M}"
    if lang() == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value:%b %Y}"


def streamlit_texts() -> str:
    """A style sheet that puts Streamlit's own English (the file uploader's button and its size note,
    the "Skip to main content" link a keyboard user meets first) in the session's language:
    Streamlit has no setting for these. The pages state the limits themselves (the ``limits`` text)."""
    label = t("upload_button").replace('"', "")
    skip = t("skip_to_content").replace('"', "")
    return ('<style>[data-testid="stFileUploaderDropzoneInstructions"]{display:none}'
            '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]{display:none}'
            f'[data-testid="stFileUploaderDropzone"] button > div::after{{content:"{label}"}}'
            '[data-testid="stSkipToContent"]{font-size:0}'
            f'[data-testid="stSkipToContent"]::after{{content:"{skip}";font-size:1rem}}</style>')


def plain(text: Any) -> str:
    """Text shown literally in Markdown (headers, captions): every Markdown/HTML character escaped.

    Streamlit never renders raw HTML here (the app never allows it); escaping also keeps a name
    such as ``*Keqiao*`` or ``<script>`` from being read as formatting.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    special = "\\`*_{}[]<>()#+-.!|~$:"
    return "".join("\\" + ch if ch in special else ch for ch in str(text))
