"""A canonical company rewritten as 纷享销客 FxiaoKe, BambooHR and Workday would export it.

Each `to_<vendor>(company, out)` reads a directory written by `repradar generate` (one
canonical CSV per contract table) and writes into `out` the same data in the vendor's
export shape: its file names, column headers, labels, date and number formats and text
encoding, as the shipped mapping of that vendor (`pipelines/ingest/mappings/`) expects.
Tables the vendor does not export are copied as canonical files. Only the values the
contract keeps have to survive the trip; display-only columns (names of lookups, phone
numbers, divisions ...) are filled with plausible values.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd

from pipelines.contract import TABLES

STAMP = "20261031"  # the export day in file names, as the vendors name their downloads

# FxiaoKe: canonical stage -> label of the default 商机 sales process; 阶段状态 by stage.
FXIAOKE_STAGES = {
    "Lead": "验证客户",
    "Contacted": "初步接洽",
    "Needs Analysis": "需求确定",
    "Proposal": "方案/报价",
    "Negotiation": "谈判审核",
    "Closed Won": "赢单",
    "Closed Lost": "输单",
}
FXIAOKE_STATUS = {"Closed Won": "赢单", "Closed Lost": "输单"}  # else 进行中
FXIAOKE_PROBABILITY = {
    "Lead": "10",
    "Contacted": "20",
    "Needs Analysis": "40",
    "Proposal": "60",
    "Negotiation": "80",
    "Closed Won": "100",
    "Closed Lost": "0",
}
FXIAOKE_SOURCES = {
    "Event": "市场活动",
    "Inbound": "客户咨询",
    "Outbound": "主动开发",
    "Partner": "合作伙伴",
    "Referral": "客户介绍",
}
FXIAOKE_SEGMENTS = {"SMB": "小型客户", "Mid-Market": "中型客户", "Enterprise": "大型客户"}
FXIAOKE_CURRENCIES = {"CNY": "人民币", "USD": "美元", "EUR": "欧元", "HKD": "港币"}
FXIAOKE_VARIANTS = ("gbk", "utf-8-sig", "xlsx")

GENDERS = {"M": "Male", "F": "Female"}  # anything else (X) is written as non-binary
BAMBOO_CHANGES = {
    "hire": "Hire",
    "promotion": "Promotion",
    "transfer": "Transfer",
    "manager_change": "Manager Change",
    "termination": "Termination",
}
TITLES_BY_LEVEL = {
    "1": "Account Executive I",
    "2": "Account Executive II",
    "3": "Senior Account Executive",
    "4": "Principal Account Executive",
    "5": "Sales Manager",
}

FXIAOKE_TABLES = ("crm_opportunities", "crm_accounts", "crm_users")
BAMBOOHR_TABLES = ("hr_employees", "hr_job_history", "hr_compensation")
WORKDAY_TABLES = ("hr_employees",)


# --- shared helpers ---------------------------------------------------------------------


def read_canonical(company: Path, table: str) -> pd.DataFrame:
    """A canonical CSV with every value as text (empty for missing)."""
    return pd.read_csv(company / f"{table}.csv", dtype=str, keep_default_na=False)


def copy_canonical(company: Path, out: Path, converted: Iterable[str]) -> None:
    """Copy the canonical file of every contract table the vendor export does not hold."""
    skip = set(converted)
    for table in TABLES:
        if table not in skip:
            shutil.copyfile(company / f"{table}.csv", out / f"{table}.csv")


def _digest(*parts: str) -> int:
    """A stable number from text, for made-up but reproducible display values."""
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def _clock(*parts: str) -> dt.time:
    """A working-hours time of day (08:00-18:59) derived from the row's key."""
    n = _digest(*parts)
    return dt.time(8 + n % 11, (n // 11) % 60, (n // 660) % 60)


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _mdy(text: str) -> str:
    """An ISO date as BambooHR's US format, MM/DD/YYYY (empty stays empty)."""
    day = _date(text)
    return day.strftime("%m/%d/%Y") if day else ""


def _birth_date(employee_id: str, birth_year: str) -> dt.date | None:
    """A made-up date of birth in `birth_year` (the contract keeps only the year)."""
    if not birth_year:
        return None
    days = _digest(employee_id, "birthday") % 365  # Jan 1 .. Dec 31 (Dec 30 in leap years)
    return dt.date(int(birth_year), 1, 1) + dt.timedelta(days=days)


def _thousands(amount: str) -> str:
    """ "1234567.5" -> "1,234,567.50": amounts as the web consoles show them."""
    if not amount:
        return ""
    return f"{Decimal(amount):,.2f}"


def _names(frame: pd.DataFrame, key: str) -> dict[str, str]:
    return dict(zip(frame[key], frame["name"], strict=True))


def write_csv(
    path: Path, header: Sequence[str], records: Iterable[Sequence[object]], encoding: str
) -> Path:
    """A CSV file with every value quoted as needed, in `encoding` (strict)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for record in records:
        writer.writerow(["" if v is None else v for v in record])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(
    path: Path, header: Sequence[str], records: Iterable[Sequence[object]], sheet: str
) -> Path:
    """An .xlsx workbook of one sheet: typed cells as given, None for an empty cell."""
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(list(header))
    for record in records:
        worksheet.append([None if v == "" else v for v in record])
    workbook.save(path)
    return path


# --- 纷享销客 FxiaoKe ------------------------------------------------------------------


def _last_open_stage(company: Path) -> dict[str, str]:
    """The last open stage each opportunity entered (where a lost deal stopped)."""
    history = read_canonical(company, "crm_opportunity_stage_history")
    order = {stage: n for n, stage in enumerate(FXIAOKE_STAGES)}
    history = history[history["stage"].isin(list(FXIAOKE_STAGES)[:5])]
    history = history.assign(position=history["stage"].map(order))
    last = history.sort_values(["opportunity_id", "entered_at", "position"]).groupby(
        "opportunity_id"
    )["stage"]
    return last.last().to_dict()


def _fxiaoke_opportunities(company: Path, excel: bool) -> tuple[list[str], list[list]]:
    opportunities = read_canonical(company, "crm_opportunities")
    accounts = _names(read_canonical(company, "crm_accounts"), "account_id")
    users = read_canonical(company, "crm_users")
    user_names, teams = (
        _names(users, "user_id"),
        dict(zip(users["user_id"], users["team"], strict=True)),
    )
    stopped_at = _last_open_stage(company)
    header = [
        "商机名称",
        "商机编号",
        "客户名称",
        "客户编号",
        "商机金额",
        "币种",
        "预计成交日期",
        "销售流程",
        "商机阶段",
        "阶段状态",
        "赢率",
        "来源",
        "负责人",
        "负责人ID",
        "负责人所在部门",
        "创建时间",
    ]
    records = []
    for o in opportunities.itertuples(index=False):
        # 商机2.0 leaves a lost deal at the stage it stopped in; its status says 输单.
        if o.stage == "Closed Lost":
            stage = FXIAOKE_STAGES[stopped_at.get(o.opportunity_id, "Contacted")]
        else:
            stage = FXIAOKE_STAGES.get(o.stage, o.stage)
        created = dt.datetime.combine(_date(o.created_at), _clock(o.opportunity_id))
        created = created.replace(second=0)
        close = _date(o.close_date)
        account_name = accounts.get(o.account_id, "")
        records.append(
            [
                f"{account_name}-{created.year}-{o.opportunity_id[-4:]}",
                o.opportunity_id,
                account_name,
                o.account_id,
                float(o.amount) if excel and o.amount else _thousands(o.amount),
                FXIAOKE_CURRENCIES.get(o.currency, o.currency),
                close if excel else (close.strftime("%Y/%m/%d") if close else ""),
                "默认销售流程",
                stage,
                FXIAOKE_STATUS.get(o.stage, "进行中"),
                FXIAOKE_PROBABILITY.get(o.stage, ""),
                FXIAOKE_SOURCES.get(o.lead_source, o.lead_source),
                user_names.get(o.owner_user_id, ""),
                o.owner_user_id,
                teams.get(o.owner_user_id, ""),
                created if excel else created.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return header, records


def _fxiaoke_accounts(company: Path, excel: bool) -> tuple[list[str], list[list]]:
    accounts = read_canonical(company, "crm_accounts")
    user_names = _names(read_canonical(company, "crm_users"), "user_id")
    header = [
        "客户名称",
        "客户编号",
        "客户级别",
        "是否重点客户",
        "行业",
        "区域",
        "负责人",
        "负责人ID",
        "创建时间",
    ]
    records = []
    for a in accounts.itertuples(index=False):
        created = dt.datetime.combine(_date(a.created_at), _clock(a.account_id))
        records.append(
            [
                a.name,
                a.account_id,
                FXIAOKE_SEGMENTS.get(a.segment, a.segment),
                "是" if a.is_key_account == "true" else "否",
                a.industry,
                a.region,
                user_names.get(a.owner_user_id, ""),
                a.owner_user_id,
                created if excel else created.strftime("%Y/%m/%d %H:%M:%S"),
            ]
        )
    return header, records


def _fxiaoke_users(company: Path) -> tuple[list[str], list[list]]:
    users = read_canonical(company, "crm_users")
    user_names = _names(users, "user_id")
    header = ["姓名", "员工ID", "员工编号", "手机", "邮箱", "部门", "上级", "上级ID", "状态"]
    records = [
        [
            u.name,
            u.user_id,
            u.employee_id,
            f"1{_digest(u.user_id, 'mobile') % 10**10:010d}",
            u.email,
            u.team,
            user_names.get(u.manager_user_id, ""),
            u.manager_user_id,
            "正常" if u.is_active == "true" else "停用",
        ]
        for u in users.itertuples(index=False)
    ]
    return header, records


def to_fxiaoke(company: Path, out: Path, variant: str = "gbk") -> Path:
    """FxiaoKe list exports of 商机, 客户 and 人员 in `out`.

    `variant`: "gbk" (CSV in GBK, as the Chinese-locale console downloads it),
    "utf-8-sig" (CSV in UTF-8 with a BOM) or "xlsx" (Excel, typed date and number cells).
    """
    if variant not in FXIAOKE_VARIANTS:
        raise ValueError(f"variant {variant!r}: use one of {', '.join(FXIAOKE_VARIANTS)}")
    out.mkdir(parents=True, exist_ok=True)
    excel = variant == "xlsx"
    exports = {
        "商机": _fxiaoke_opportunities(company, excel),
        "客户": _fxiaoke_accounts(company, excel),
        "人员": _fxiaoke_users(company),
    }
    for name, (header, records) in exports.items():
        if excel:
            write_xlsx(out / f"{name}列表_{STAMP}.xlsx", header, records, sheet=name)
        else:
            write_csv(out / f"{name}列表_{STAMP}.csv", header, records, encoding=variant)
    copy_canonical(company, out, FXIAOKE_TABLES)
    return out


# --- BambooHR ----------------------------------------------------------------------------


def _first_last(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last


def _bamboo_employees(employees: pd.DataFrame) -> tuple[list[str], list[list]]:
    names = _names(employees, "employee_id")
    header = [
        "Employee #",
        "First Name",
        "Last Name",
        "Work Email",
        "Hire Date",
        "Termination Date",
        "Employment Status",
        "Termination Type",
        "Termination Reason",
        "Job Title",
        "Job Level",
        "Department",
        "Division",
        "Location",
        "Reporting to",
        "Supervisor EID",
        "Gender",
        "Date of Birth",
    ]
    records = []
    for e in employees.itertuples(index=False):
        first, last = _first_last(e.name)
        born = _birth_date(e.employee_id, e.birth_year)
        records.append(
            [
                e.employee_id,
                first,
                last,
                e.email,
                _mdy(e.hire_date),
                _mdy(e.termination_date),
                "Terminated" if e.termination_date else "Full-Time",
                e.termination_type.capitalize(),
                e.termination_reason,
                e.job_title,
                e.job_level,
                e.team,
                "Sales",
                e.location,
                names.get(e.manager_employee_id, ""),
                e.manager_employee_id,
                GENDERS.get(e.gender, "Non-binary" if e.gender else ""),
                born.strftime("%m/%d/%Y") if born else "",
            ]
        )
    return header, records


def _bamboo_employment_status(employees: pd.DataFrame) -> tuple[list[str], list[list]]:
    """The Employment Status table: a row at hire, and one at termination (not read by
    the mapping, which cannot join it to the employee report)."""
    header = [
        "Employee #",
        "Date",
        "Employment Status",
        "Termination Type",
        "Termination Reason",
        "Eligible for Re-hire",
        "Comment",
    ]
    records = []
    for e in employees.itertuples(index=False):
        records.append([e.employee_id, _mdy(e.hire_date), "Full-Time", "", "", "", ""])
        if e.termination_date:
            rehire = "No" if e.termination_type == "involuntary" else "Yes"
            records.append(
                [
                    e.employee_id,
                    _mdy(e.termination_date),
                    "Terminated",
                    e.termination_type.capitalize(),
                    e.termination_reason,
                    rehire,
                    "",
                ]
            )
    return header, records


def _bamboo_job_information(
    history: pd.DataFrame, employees: pd.DataFrame
) -> tuple[list[str], list[list]]:
    names = _names(employees, "employee_id")
    locations = dict(zip(employees["employee_id"], employees["location"], strict=True))
    header = [
        "Employee #",
        "Date",
        "Location",
        "Division",
        "Department",
        "Job Title",
        "Reports To",
        "Supervisor EID",
        "Job Level",
        "Change Reason",
    ]
    records = [
        [
            h.employee_id,
            _mdy(h.effective_date),
            locations.get(h.employee_id, ""),
            "Sales",
            h.team,
            TITLES_BY_LEVEL.get(h.job_level, f"Level {h.job_level}"),
            names.get(h.manager_employee_id, ""),
            h.manager_employee_id,
            h.job_level,
            BAMBOO_CHANGES.get(h.change_type, h.change_type),
        ]
        for h in history.itertuples(index=False)
    ]
    return header, records


def _bamboo_compensation(compensation: pd.DataFrame) -> tuple[list[str], list[list]]:
    header = [
        "Employee #",
        "Effective Date",
        "Pay Rate",
        "Pay Type",
        "Pay Schedule",
        "Change Reason",
        "Variable Target",
        "Band Midpoint",
    ]
    first_rows = set(compensation.groupby("employee_id").head(1).index)
    records = []
    for index, c in zip(compensation.index, compensation.itertuples(index=False), strict=True):
        records.append(
            [
                c.employee_id,
                _mdy(c.effective_date),
                f"{Decimal(c.base_salary):.2f} {c.currency}",
                "Salary",
                "Twice a month",
                "New Hire" if index in first_rows else "Merit",
                f"{Decimal(c.variable_target):.2f} {c.currency}",
                f"{Decimal(c.band_midpoint):.2f} {c.currency}",
            ]
        )
    return header, records


def to_bamboohr(company: Path, out: Path) -> Path:
    """BambooHR custom-report CSVs: the employee report, and the Employment Status, Job
    Information and Compensation tables with history (US dates, MM/DD/YYYY)."""
    out.mkdir(parents=True, exist_ok=True)
    employees = read_canonical(company, "hr_employees")
    exports = {
        "Employee Report": _bamboo_employees(employees),
        "Employment Status": _bamboo_employment_status(employees),
        "Job Information": _bamboo_job_information(
            read_canonical(company, "hr_job_history"), employees
        ),
        "Compensation": _bamboo_compensation(read_canonical(company, "hr_compensation")),
    }
    for name, (header, records) in exports.items():
        write_csv(out / f"BambooHR - {name}.csv", header, records, encoding="utf-8")
    copy_canonical(company, out, BAMBOOHR_TABLES)
    return out


# --- Workday -----------------------------------------------------------------------------


def _workday_workers(company: Path) -> tuple[list[str], list[list]]:
    employees = read_canonical(company, "hr_employees")
    names = _names(employees, "employee_id")
    compensation = read_canonical(company, "hr_compensation")
    latest = compensation.sort_values("effective_date").groupby("employee_id").last()
    header = [
        "Employee ID",
        "Worker",
        "Legal Name",
        "Email - Primary Work",
        "Hire Date",
        "Termination Date",
        "Primary Termination Category",
        "Primary Termination Reason",
        "Business Title",
        "Job Profile",
        "Management Level",
        "Compensation Grade",
        "Supervisory Organization",
        "Manager",
        "Manager ID",
        "Location",
        "Gender",
        "Date of Birth",
        "Total Base Pay",
        "Currency",
    ]
    records = []
    for e in employees.itertuples(index=False):
        kind = e.termination_type.capitalize()
        category = f"Terminate Employee > {kind}" if kind else ""
        reason = f"{category} > {e.termination_reason}" if category else ""
        head = names.get(e.manager_employee_id, e.name)
        pay = latest["base_salary"].get(e.employee_id, "")
        records.append(
            [
                e.employee_id,
                e.name,
                e.name,
                e.email,
                _date(e.hire_date),
                _date(e.termination_date),
                category,
                reason,
                e.job_title,
                e.job_title,
                "Manager" if e.job_level == "5" else "Individual Contributor",
                f"Sales Grade {e.job_level}",
                f"{e.team} ({head})",
                names.get(e.manager_employee_id, ""),
                e.manager_employee_id,
                e.location,
                GENDERS.get(e.gender, "Non-Binary" if e.gender else ""),
                _birth_date(e.employee_id, e.birth_year),
                float(pay) if pay else "",
                latest["currency"].get(e.employee_id, ""),
            ]
        )
    return header, records


def to_workday(company: Path, out: Path) -> Path:
    """A Workday worker report exported to Excel (typed date and number cells)."""
    out.mkdir(parents=True, exist_ok=True)
    header, records = _workday_workers(company)
    write_xlsx(out / "All Workers.xlsx", header, records, sheet="All Workers")
    copy_canonical(company, out, WORKDAY_TABLES)
    return out
