"""Library messages (store conflicts, upload and import problems) and where the store is, in the session's language.

The library speaks English; these tables put the messages a planner sees into Chinese, line by
line, by pattern. A line that matches nothing is shown as it is.
"""

from __future__ import annotations

import re

from app_components.i18n import lang, plain, t
from matcher.store.models import ITEM_STATUSES

#: Problems the importer reports (English, from ``matcher.ingest.validate``/``matcher.ingest.read``) in Chinese:
#: (pattern, Chinese template using the pattern's groups). Unmatched text is shown as it is.
PROBLEM_ZH: list[tuple[str, str]] = [
    (r"^latitude must be between -90 and 90$", "纬度须在 -90 到 90 之间"),
    (r"^longitude must be between -180 and 180$", "经度须在 -180 到 180 之间"),
    (r"^must be 0 or more \(leave the cell empty when unknown\)$", "须为 0 或正数（未知请留空）"),
    (r"^not a number \(leave the cell empty when unknown\)$", "不是数字（未知请留空）"),
    (r"^not a whole number.*$", "不是整数"),
    (r"^not a yes/no flag.*$", "不是“是/否”值；请用 是、否、yes、no、1、0（未知请留空）"),
    (r"^unknown (stage|role) '(.*)'; valid \w+: (.*)$", "未知的{0}“{1}”；可用：{2}"),
    (r"^unknown province.*$", "未知省份；请用大陆省份的中文或英文名，如 浙江 或 Zhejiang"),
    (r"^unknown region.*$", "未知区域；可用 east、central、west（留空则按省份推断）"),
    (r"^required column '(.*)' is missing.*$", "缺少必填列“{0}”"),
    (r"^unknown column '(.*)'; valid columns: (.*)$", "未知列“{0}”；可用列：{1}"),
    (r"^(\w+) '(.*)' is used more than once \(rows (.*)\); ids must be unique$", "{0}“{1}”重复出现（第 {2} 行）；编号必须唯一"),
    (r"^(\w+) '(.*)' looks like '(.*)' \(row (\d+)\) but is a different id.*$",
     "编号“{1}”与第 {3} 行的“{2}”只差字母大小写或全角字符，却是不同的编号；请重新输入"),
    (r"^(?:the id|a look-alike of the id '(.*)') of row (\d+) of (.*); ids must be unique across.*$",
     "与 {2} 第 {1} 行的编号相同或只差大小写、全角字符；集群、市场和企业的编号必须互不相同"),
    (r"^lat, lon lies outside China.*$", "经纬度在中国境外（纬度 3–54，经度 73–136）；请检查坐标（是否把经度和纬度填反了？）"),
    (r"^required cell is empty.*$", "必填单元格为空"),
    (r"^region does not match province.*$", "区域与省份不符"),
    (r"^give name_zh or name_en.*$", "中文名或英文名至少填一个"),
    (r"^unknown cluster_id.*$", "未知的集群编号：集群表中没有该编号"),
    (r"^longer than ([\d,]+) characters.*$", "超过 {0} 个字符（电子表格单元格的上限），请缩短"),
    (r"^a name of more than (\d+) characters.*$", "名称超过 {0} 个字符，请缩短（说明性文字请写在主导产品或称号中）"),
    (r"^the file starts as UTF-16 but row (\d+) cannot be read.*$",
     "文件开头是 UTF-16 编码，但第 {0} 行无法按 UTF-16 读取；请另存为 UTF-8（Excel 的“CSV UTF-8”）"),
    (r"^the file is empty.*$", "文件为空；至少需要一行表头"),
    (r"^the file contains NUL bytes.*$", "文件含有空字节（像是二进制文件）；请另存为 UTF-8 或 GBK 的 CSV"),
    (r"^the file is neither UTF-8 nor GB18030 \(GBK\) nor Big5: row (\d+) cannot be read.*$",
     "文件既不是 UTF-8，也不是 GB18030（GBK）或 Big5：第 {0} 行无法读取；请另存为 UTF-8（Excel 的“CSV UTF-8”）"),
    (r"^the file looks binary.*$", "文件像是二进制文件，不是 CSV 文本表格"),
    (r"^the first row is empty.*$", "第一行为空；第一行必须是表头"),
    (r"^row (\d+) has (\d+) cells but the header has (\d+).*$", "第 {0} 行有 {1} 个单元格，但表头只有 {2} 列"),
    (r"^the file cannot be read as CSV.*$", "无法按 CSV 读取该文件"),
    (r"^the file is named \.xlsx but is .*$", "文件扩展名为 .xlsx，但不是 Excel 工作簿；请另存为 .xlsx 或 .csv"),
    (r"^the workbook cannot be opened.*$", "无法打开该工作簿；请重新另存为 .xlsx"),
    (r"^the sheet has more than ([\d,]+) cells.*$", "工作表超过 {0} 个单元格；请拆分或另存为 CSV"),
    (r"^the sheet is empty.*\(only sheet '(.*)' is read; the workbook also has (.*)\)$",
     "工作表为空；至少需要一行表头（只读取工作表“{0}”；工作簿中还有：{1}）"),
    (r"^the sheet is empty.*$", "工作表为空；至少需要一行表头"),
    (r"^row 1 holds one cell \('(.*)'\), like a title.*$",
     "第 1 行只有一个单元格（“{0}”），像是表格上方的标题；第一行必须是列名：请删除列名上方的行"),
    (r"^the cell holds a formula \((=.*)\) but no calculated value.*$",
     "单元格是公式（{0}）但没有计算结果：该工作簿由程序写出；请在 Excel 中打开并保存，或直接填写数值"),
    (r"^old \.xls workbooks are not supported.*$", "不支持旧版 .xls 工作簿；请另存为 .xlsx 或 CSV"),
    (r"^duplicate column '(.*)'.*$", "列“{0}”重复"),
    (r"^unterminated quote \(a quote opened in row (\d+).*$", "第 {0} 行的引号没有闭合；每个左引号都需要右引号"),
    (r"^unterminated quote.*$", "引号没有闭合；每个左引号都需要右引号"),
    (r"^no (stage|role) given$", "未填写{0}"),
]
_PROBLEM_ZH = [(re.compile(p, re.DOTALL), zh) for p, zh in PROBLEM_ZH]
_WHAT_ZH = {"stage": "产业链环节", "role": "市场角色"}


_CLIPPED = re.compile(r"…\s*\(([\d,]+) characters\)$")


def problem_value(text: str) -> str:
    """A problem's cell as shown: a long one is cut by the importer with its length said in English
    (``validate.clip``), said here in the session's language."""
    if lang() != "zh":
        return text
    return _CLIPPED.sub(lambda m: f"……（共 {m.group(1)} 个字符）", str(text))


def problem_reason(text: str) -> str:
    """An importer problem in the session's language (Chinese templates for known problems)."""
    if lang() != "zh":
        return text
    for pattern, zh in _PROBLEM_ZH:
        match = pattern.match(str(text))
        if match:
            return zh.format(*(_WHAT_ZH.get(g, g) for g in match.groups()))
    return text


#: Messages of the library's errors (store conflicts and faults, uploads) in Chinese, line by line:
#: (pattern, Chinese template using the pattern's groups). Lines that match nothing stay as they are.
MESSAGE_ZH: list[tuple[str, str]] = [
    (r"^(.*) was changed by (.*) at (.*) since you loaded it: yours is based on version (\d+), theirs is now "
     r"version (\d+)\.$", "{0} 在你载入后已被 {1} 于 {2} 修改：你的基于第 {3} 版，对方的已是第 {4} 版。"),
    (r"^(.*) is already recorded by (.*) at (.*) \(version (\d+)\), and you did not name the version you "
     r"replace\.$", "{0} 已由 {1} 于 {2} 记录（第 {3} 版），而你没有指明要替换的版本。"),
    (r"^  (\w+): yours (.*), theirs (.*)$", "  {0}：你的 {1}，对方的 {2}"),
    (r"^Nothing was saved\. Reload it, then apply your change again if it still holds\.$",
     "未保存任何内容。请重新载入，如仍需要，再修改一次。"),
    (r"^To replace it deliberately, pass expected version (\d+)\.$", "如确需替换，请注明当前版本 {0}。"),
    (r"^Table (.*) at slot (.*) is already taken by (.*?) \(.*\)\. Pick another table or slot\.$",
     "时段 {1} 的 {0} 号桌已被 {2} 占用。请换一张桌或换一个时段。"),
    (r"^Pair (.*) is already on shortlist (.*); nothing was added\.$", "{0} 已在候选清单 {1} 中；未重复加入。"),
    (r"^A shortlist named (.*) already exists; pick another name\.$", "已有名为 {0} 的清单；请换一个名称。"),
    (r"^Could not (.*): another planner saved the same thing at the same moment .*$",
     "未能保存：另一位规划人员同时保存了同一内容。未保存任何内容；请刷新后重试。"),
    (r"^Could not (.*): the store \((.*)\) (.*)\. Nothing was written\.$", "未能完成操作：存储（{1}）不可用（{2}）。未写入任何内容。"),
    (r"^the upload could not be stored in (.*) \((.*)\); nothing was changed$", "上传的文件无法保存到 {0}（{1}）；未做任何更改"),
    (r"^the workspace folder (.*) cannot be written \((.*)\); nothing was changed$", "工作目录 {0} 无法写入（{1}）；未做任何更改"),
    (r"^The name or the password is wrong, or the account is locked after (\d+) wrong passwords in a row "
     r"\(for ([\d.]+) minutes, or until an admin unlocks it\)\.$",
     "用户名或密码错误，或账户因连续 {0} 次密码错误已被锁定（{1} 分钟，或直到管理员解锁）。"),
    (r"^The account is disabled; ask an admin\.$", "账户已停用；请联系管理员。"),
    (r"^The account (.*) is a (\w+); this needs (?:a \w+ or )?an admin\.$", "账户 {0} 的角色无权进行此操作。"),
    (r"^The account (.*) is disabled\.$", "账户 {0} 已停用。"),
    (r"^The password cannot be used: a password needs at least (\d+) characters\.$", "该密码不可用：密码至少需要 {0} 个字符。"),
    (r"^The password cannot be used: this is one of the most common passwords\.$", "该密码不可用：这是最常见的密码之一。"),
    (r"^The password cannot be used: a password may not contain the account's name\.$",
     "该密码不可用：密码中不能包含账户名。"),
    (r"^The password cannot be used: this password is too easy to guess .*$",
     "该密码不可用：太容易被猜到（常见词、人名、日期或规律）；请用更长的短语。"),
    (r"^The password cannot be used: a password may have at most (\d+) characters\.$", "该密码不可用：密码最多 {0} 个字符。"),
]
_MESSAGE_ZH = [(re.compile(p), zh) for p, zh in MESSAGE_ZH]


#: Per line of MESSAGE_ZH, which of its groups are the store's words (what changed, a field, a value).
_WORDED = {0: (0,), 1: (0,), 2: (0, 1, 2)}
_FIELDS_ZH = {"status": "状态", "notes": "备注", "locked": "锁定", "slot": "时段", "table": "桌号",
              "value": "结果", "rating": "评分", "note": "备注", "decision": "决定"}
_SUBJECT = re.compile(r"^(Shortlist item|Meeting|Outcome) (\d+)(?: \((.*)\))?$")


def _words_zh(part: str | None) -> str | None:
    """A group of a matched message line in Chinese where it is a known word: what changed
    ("Shortlist item 3 (C001–C093)"), a field's name, or a value ('accepted', True, (empty))."""
    if part is None:
        return part
    found = _SUBJECT.match(part)
    if found:
        noun = {"Shortlist item": "清单条目", "Meeting": "会谈", "Outcome": "对接结果"}[found.group(1)]
        return f"{noun} {found.group(2)}" + (f"（{found.group(3)}）" if found.group(3) else "")
    if part in _FIELDS_ZH:
        return _FIELDS_ZH[part]
    bare = part.strip("'\"")
    if bare in ITEM_STATUSES:
        return ITEM_STATUSES[bare][0]
    return {"True": "是", "False": "否", "(empty)": "（空）"}.get(bare, part)


def shown(err: BaseException | str) -> str:
    """A library message (an error's text) in the session's language, as Markdown-safe text for
    ``st.error`` and the like: it may carry names from the data, which are shown as typed."""
    return plain(message(str(err)))


def message(text: str) -> str:
    """A library message in the session's language (known lines translated, the rest as given)."""
    if lang() != "zh":
        return str(text)
    out = []
    for line in str(text).split("\n"):
        for n, (pattern, zh) in enumerate(_MESSAGE_ZH):
            match = pattern.match(line)
            if match:
                worded = _WORDED.get(n, ())  # the groups that are words of the store, not names
                line = zh.format(*(_words_zh(g) if j in worded else g for j, g in enumerate(match.groups())))
                break
        out.append(line)
    return "\n".join(out)


def store_where(url: str) -> str:
    """Where the store lives, in the session's language and without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return t("store_unreadable")
    if parsed.get_backend_name() == "sqlite":
        return t("store_file", path=parsed.database) if parsed.database else t("store_memory")
    kind = "PostgreSQL" if parsed.get_backend_name() == "postgresql" else parsed.get_backend_name()
    host = (parsed.host or "localhost") + (f":{parsed.port}" if parsed.port else "")
    return t("store_server", kind=kind, name=parsed.database or "", host=host)
