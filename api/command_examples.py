"""An example body for each command endpoint (``path:decision`` for decision endpoints)."""

from __future__ import annotations

from typing import Any

__all__ = ["EXAMPLES"]

_EVIDENCE = {
    "content_hash": "9f2c4e0b5d7a1c3e8b6f0a2d4c6e8f1a3b5d7f9e1c3a5b7d9f1e3c5a7b9d1f3e",
    "name": "整改前后对比照片.pdf",
    "media_type": "application/pdf",
    "size": 482113,
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "plan": {"plan": "一、停产检修曝气设备；二、更换在线监测仪；三、三十日内复测达标。"},
    "progress": {
        "text": "曝气设备已检修完成，出水氨氮降至 6 mg/L。",
        "evidence": [_EVIDENCE],
        "percent_complete": 60,
    },
    "milestone-report": {"milestone_id": "m1", "text": "一期管网改造完成", "evidence": []},
    "extension-request": {"reason": "设备采购周期延长", "proposed_deadline": "2027-05-31"},
    "extension-decision:grant": {
        "decision": "grant",
        "new_deadline": "2027-05-31",
        "comment": "同意",
    },
    "extension-decision:deny": {"decision": "deny", "reason": "理由不充分"},
    "closure-request": {"summary": "连续三十日监测达标，申请销号。", "evidence": [_EVIDENCE]},
    "verification:pass": {"decision": "pass", "comment": "现场核查达标，同意销号"},
    "verification:reject": {"decision": "reject", "reason": "缺少第三方检测报告"},
    "reopen": {"reason": "回头看发现问题反弹", "deadline": "2027-09-30"},
    "withdraw": {"reason": "经核实系误报"},
    "merge-into": {
        "into_case_id": "F-2027-0012",
        "reason": "与该案件系同一问题，经巡察、审计重复立项",
    },
    "reassign": {"unit_id": "county-water", "cadre_id": "cadre-0077", "reason": "职责划转"},
    "assign": {"cadre_id": "cadre-0051", "reason": "原责任人调任"},
    "deadline": {"deadline": "2027-04-30", "reason": "更正录入错误"},
    "target": {"target": "出水稳定达到一级A标准"},
    "milestones": {
        "milestones": [
            {"milestone_id": "m1", "title": "完成管网排查", "due": "2027-06-30"},
            {"milestone_id": "m2", "title": "一期管网改造完成", "due": "2027-12-31"},
            {"milestone_id": "m3", "title": "全部管网改造完成并通过验收", "due": "2028-06-30"},
        ],
        "reason": "一期工程招标延后，第二、三阶段顺延",
    },
    "accountability": {
        "action": "admonishment_talk",
        "reason": "逾期未整改且无正当理由",
        "by_decision": False,
    },
    "tolerance": {"reason": "受上级政策调整影响，已尽责", "by_decision": True},
    "satisfaction": {"score_percent": 92, "respondents": 50, "note": "回访群众 50 人"},
}
