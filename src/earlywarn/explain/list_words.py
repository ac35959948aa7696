"""The words of the working lists (village and county pages, their CSV and XLSX exports), in
each report language. Kept beside the lists rather than in the reason glossary, which holds
the words of reasons and household sheets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WORDS: dict[str, dict[str, str]] = {
    # columns (pages and exports)
    "col_county": {"zh-CN": "县", "en": "County"},
    "col_village": {"zh-CN": "村", "en": "Village"},
    "col_rank": {"zh-CN": "村内|排序", "en": "Rank in|village"},
    "col_household": {"zh-CN": "户编号", "en": "Household"},
    "col_head": {"zh-CN": "户主", "en": "Head of|household"},
    "col_masked": {"zh-CN": "身份证号|（部分隐藏）", "en": "ID number|(masked)"},
    "col_risk": {"zh-CN": "返贫|风险", "en": "Risk"},
    "col_previous": {"zh-CN": "上期|风险", "en": "Previous|risk"},
    "col_change": {"zh-CN": "变化|（百分点）", "en": "Change|(points)"},
    "col_newly": {"zh-CN": "新增|预警", "en": "Newly|flagged"},
    "col_doubled": {"zh-CN": "风险|翻倍", "en": "Risk|doubled"},
    "col_who": {"zh-CN": "预警|来源", "en": "Flagged|by"},
    "col_main_reason": {"zh-CN": "首要原因", "en": "Main reason"},
    "col_expected": {"zh-CN": "预计返贫户数", "en": "Expected to fall"},
    "col_sheet": {"zh-CN": "核实单", "en": "Sheet"},
    "open": {"zh-CN": "查看", "en": "Open"},
    "yes_new": {"zh-CN": "新增", "en": "new"},
    "yes_doubled": {"zh-CN": "翻倍", "en": "doubled"},
    "yes": {"zh-CN": "是", "en": "yes"},
    "who_both": {"zh-CN": "模型和现行规则", "en": "Model and rule"},
    "who_model_only": {"zh-CN": "仅模型", "en": "Model only"},
    "who_rule_only": {"zh-CN": "仅现行规则", "en": "Rule only"},
    "col_monitoring": {"zh-CN": "监测|状态", "en": "Monitoring"},
    "mon_visit": {"zh-CN": "未纳入监测：入户核实", "en": "Not monitored: visit"},
    "mon_verified": {"zh-CN": "近期已核实无风险", "en": "Recently verified not at risk"},
    "mon_check_measures": {
        "zh-CN": "监测对象，风险仍高：核查帮扶措施",
        "en": "Monitored, risk still high: check the measures",
    },
    "mon_exited": {
        "zh-CN": "已风险消除，风险再次升高",
        "en": "Exited monitoring, risk high again",
    },
    "trigger_income": {
        "zh-CN": "上轮人均纯收入{income}元＜规则界限{limit}元",
        "en": "last income {income} < rule limit {limit} yuan",
    },
    "trigger_shock": {"zh-CN": "重大变故：{types}", "en": "serious shock: {types}"},
    # sections
    "model_list_title": {"zh-CN": "模型预警户", "en": "Flagged by the model"},
    "rule_only_title": {
        "zh-CN": "现行规则预警、模型未预警的户",
        "en": "Flagged by the current rule, not by the model",
    },
    "rule_only_note": {
        "zh-CN": "这些户按现行规则应当关注，但模型风险未进入预警名单。"
        "列出以免遗漏：请结合核实情况决定是否纳入监测。",
        "en": "The current rule flags these households but their model risk did not put them "
        "on the list. They are listed so that none is lost: decide on a visit whether to "
        "monitor them.",
    },
    "rule_unknown": {
        "zh-CN": "本报告未计算现行规则对未预警户的判定。",
        "en": "The current rule was not evaluated for households the model does not flag.",
    },
    "none_rule_only": {"zh-CN": "无", "en": "None"},
    "none_flagged": {"zh-CN": "模型未预警任何户", "en": "The model flags no household here"},
    # header
    "h_flagged": {
        "zh-CN": "参评{n_scored}户，模型预警{n_flagged}户",
        "en": "{n_scored} households scored, {n_flagged} flagged by the model",
    },
    "h_capacity": {
        "zh-CN": "（按预警政策可核实{capacity}户）",
        "en": " (capacity under the policy: {capacity})",
    },
    "h_expected": {
        "zh-CN": "预计返贫户数：预警户中约{flagged}户（预警户风险之和），"
        "全部参评户中约{all}户；名单覆盖预计返贫户的{share}",
        "en": "Expected to fall below the line: about {flagged} of the flagged (the sum of their "
        "risks), of about {all} among all households scored; the list holds {share} of them",
    },
    "h_rule": {
        "zh-CN": "现行规则预警{n_rule}户：其中{both}户模型也预警，{rule_only}户仅规则预警"
        "（见下表，模型预计其中约{expected}户返贫）",
        "en": "The current rule flags {n_rule}: {both} also flagged by the model, {rule_only} by "
        "the rule alone (listed below; the model expects about {expected} of them to fall)",
    },
    "h_changes": {
        "zh-CN": "与上期（{previous}）相比：新增预警{n_newly}户，风险翻倍{n_doubled}户",
        "en": "Since the previous run ({previous}): {n_newly} newly flagged, {n_doubled} with "
        "risk at least doubled",
    },
    "h_first_run": {
        "zh-CN": "无上期结果可比：本期为首次评分，预警户均为新增",
        "en": "No earlier run to compare with: this is the first, so every flagged household "
        "is new",
    },
    "h_policy": {"zh-CN": "预警政策：{text}", "en": "Flagging policy: {text}"},
    "h_policy_differs": {
        "zh-CN": "（报告所用配置与评分时不同，政策可能不一致）",
        "en": " (from the report's config, which differs from the one the scores were made with)",
    },
    "policy_threshold": {
        "zh-CN": "风险不低于{level}的户全部预警",
        "en": "every household at a risk of {level} or more",
    },
    "policy_top_share": {
        "zh-CN": "全部{n}参评户中风险最高的{share}（{places}户）",
        "en": "the top {share} by risk of all {n} households scored ({places} places)",
    },
    "policy_top_n": {"zh-CN": "{group}风险最高的{n}户", "en": "the {n} highest risks {group}"},
    "per_village": {"zh-CN": "每村", "en": "in each village"},
    "per_county": {"zh-CN": "每县", "en": "in each county"},
    "h_dates": {
        "zh-CN": "数据截至{as_of}",
        "en": "Data as of {as_of}",
    },
    "h_last_round": {"zh-CN": "（最近一轮调查：{year}年）", "en": " (latest survey round {year})"},
    "h_scored_at": {"zh-CN": "评分于{scored_at}", "en": "scored {scored_at}"},
    "h_generated": {"zh-CN": "本页生成于{generated}", "en": "page generated {generated}"},
    "drift_title": {
        "zh-CN": "数据漂移警示（评分时记录）",
        "en": "Drift alerts recorded at scoring",
    },
    "drift_note": {
        "zh-CN": "以下特征的分布与训练时明显不同，相关原因与风险需谨慎解读：",
        "en": "These inputs are distributed unlike the training data; read the reasons and "
        "risks that rest on them with care:",
    },
    # the browser controls
    "search": {"zh-CN": "搜索户编号、户主、原因", "en": "Search household, head, reason"},
    "who_all": {"zh-CN": "全部来源", "en": "Flagged by: all"},
    "village_all": {"zh-CN": "全部村", "en": "All villages"},
    "only_new": {"zh-CN": "仅新增", "en": "Newly flagged only"},
    "only_doubled": {"zh-CN": "仅风险翻倍", "en": "Risk doubled only"},
    "shown": {"zh-CN": "显示{shown}户，共{total}户", "en": "{shown} of {total} shown"},
    "export_view": {"zh-CN": "导出当前显示（CSV）", "en": "Export rows shown (CSV)"},
    "export_xlsx": {"zh-CN": "完整名单（Excel）", "en": "Whole list (Excel)"},
    "export_csv": {"zh-CN": "完整名单（CSV）", "en": "Whole list (CSV)"},
    "sort_hint": {"zh-CN": "点击列标题排序", "en": "Click a column heading to sort"},
    "title_county_list": {"zh-CN": "全县预警名单", "en": "The county's working list"},
    "sheet_name": {"zh-CN": "预警名单", "en": "Working list"},
}
"""Each key's text in each language; ``{name}`` fields are filled in by :class:`ListWords`.
A ``|`` in a column's word is where its heading may break (Chinese headings break nowhere
else, so that a printed heading never splits a word)."""


@dataclass(frozen=True)
class ListWords:
    """The list's words in one language: ``words("h_flagged", n_scored=30, n_flagged=5)``."""

    lang: str

    def __call__(self, key: str, **values: Any) -> str:
        entry = WORDS[key]
        text = entry.get(self.lang) or entry["en"]
        return text.format(**values) if values else text

    def lines(self, key: str) -> list[str]:
        """A column's heading as the lines it may break into."""
        return WORDS[key].get(self.lang, WORDS[key]["en"]).split("|")

    def plain(self, key: str) -> str:
        """A column's heading on one line (exports, filters)."""
        return ("" if self.lang.startswith("zh") else " ").join(self.lines(key))

    def join(self, parts: list[str], *, strong: bool = False) -> str:
        """Parts of a list in this language's way (``、`` in Chinese; ``strong``: parts that
        are clauses, ``；`` and ``; ``)."""
        zh = self.lang.startswith("zh")
        if strong:
            return ("；" if zh else "; ").join(parts)
        return ("、" if zh else ", ").join(parts)

    def number(self, value: float) -> str:
        """An expected number of households, to one decimal."""
        return f"{value:,.1f}"


def list_words(lang: str) -> ListWords:
    """The list's words in ``lang`` (English where a text is missing)."""
    return ListWords(lang)
