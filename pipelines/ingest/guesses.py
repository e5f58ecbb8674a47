"""The contract value an export's own label most likely means: a renamed deal stage, a
localized activity type, a termination type such as "Death".

A guess comes from words of the label (English, German, Spanish, French, Portuguese,
Japanese, Simplified and Traditional Chinese) and, for a deal stage, from the export's
own closed and won flags, which outrank the words. Guesses are used by the ingest only
when the mapping allows it (`unknown_values: guess`) and are always reported with the
`values:` block that confirms or corrects them.
"""

from __future__ import annotations

import difflib

from pipelines.contract import OPEN_STAGES, STAGES

# Canonical value -> words of labels that mean it, in the order they are tried: the
# closed stages before the open ones, "involuntary" before "voluntary" (which it holds).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "Closed Won": (
        "won",
        "win",
        "signed",
        "gewonnen",
        "ganad",
        "gagn",
        "ganho",
        "受注",
        "赢",
        "贏",
        "成交",
        "签约",
        "簽約",
    ),
    "Closed Lost": (
        "lost",
        "lose",
        "dead",
        "disqualif",
        "verloren",
        "perdid",
        "perdu",
        "失注",
        "输",
        "輸",
        "丢",
        "丟",
        "失败",
        "失敗",
        "无效",
        "無效",
    ),
    "Negotiation": (
        "negotia",
        "contract",
        "review",
        "verhandl",
        "negocia",
        "négocia",
        "交渉",
        "契約",
        "谈判",
        "談判",
        "合同",
        "审核",
        "審核",
        "商务",
        "商務",
    ),
    "Proposal": (
        "proposal",
        "quote",
        "price",
        "angebot",
        "propuesta",
        "proposition",
        "proposta",
        "cotiza",
        "devis",
        "提案",
        "見積",
        "报价",
        "報價",
        "方案",
    ),
    "Needs Analysis": (
        "need",
        "analys",
        "analyz",
        "demo",
        "presentation",
        "discovery",
        "decision",
        "bedarf",
        "análisis",
        "necesidad",
        "besoin",
        "análise",
        "necessidade",
        "ヒアリング",
        "需求",
        "分析",
        "演示",
        "确认",
        "確認",
    ),
    "Contacted": (
        "contact",
        "qualif",
        "kontakt",
        "calific",
        "contato",
        "接触",
        "接洽",
        "联系",
        "聯繫",
        "初步",
        "验证",
        "驗證",
    ),
    "Lead": (
        "lead",
        "prospect",
        "appointment",
        "new",
        "neu",
        "nuevo",
        "nouveau",
        "novo",
        "見込",
        "线索",
        "線索",
        "潜在",
        "潛在",
        "新建",
    ),
    "involuntary": (
        "involunt",
        "dismiss",
        "fired",
        "layoff",
        "laid off",
        "redundan",
        "death",
        "deceased",
        "died",
        "termination for",
        "unfreiwillig",
        "kündigung durch",
        "despid",
        "licenci",
        "décès",
        "falec",
        "involontaire",
        "解雇",
        "死亡",
        "辞退",
        "辭退",
        "被动",
        "被動",
        "裁员",
        "裁員",
    ),
    "voluntary": (
        "voluntar",
        "resign",
        "quit",
        "freiwillig",
        "eigenkündigung",
        "renuncia",
        "démission",
        "volontaire",
        "demissão",
        "自己都合",
        "主动",
        "主動",
        "辞职",
        "辭職",
        "离职申请",
    ),
    "call": ("call", "phone", "anruf", "telefon", "llamada", "appel", "ligação", "電話", "电话"),
    "email": ("mail", "correo", "邮件", "郵件"),
    "visit": ("visit", "besuch", "visita", "visite", "訪問", "拜访", "拜訪", "上门", "上門"),
    "meeting": (
        "meeting",
        "event",
        "besprechung",
        "termin",
        "reunión",
        "réunion",
        "reunião",
        "会議",
        "会议",
        "會議",
        "面谈",
        "面談",
    ),
}


def from_words(label: str, canonical: list[str]) -> str | None:
    """The canonical value whose words the label holds, else the closest spelling."""
    folded = label.casefold()
    for value, words in KEYWORDS.items():
        if value in canonical and any(word in folded for word in words):
            return value
    by_fold = {c.casefold(): c for c in canonical}
    close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.6)
    return by_fold[close[0]] if close else None


def stage(label: str, closed_share: float | None, won_share: float | None) -> str | None:
    """A deal stage from its label and the share of its deals the export flags closed and
    won (None when the export has no such flag)."""
    if closed_share is not None and closed_share >= 0.5:
        if won_share is not None:
            return "Closed Won" if won_share >= 0.5 else "Closed Lost"
        return from_words(label, ["Closed Won", "Closed Lost"])
    if closed_share is not None:
        return from_words(label, list(OPEN_STAGES))
    return from_words(label, list(STAGES))
