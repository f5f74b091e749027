"""GET /cases/{id}: the page a person reaches from a notice's link (HTML, no token).

The JSON API answers 401 to a browser, so a link in an email or a DingTalk
message comes here instead. The page shows only what the link already said (the
case number), never the case itself, and points to the console where one logs
in; it says nothing about whether the case exists. The console is not built yet.
"""

from __future__ import annotations

import html
import re

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from application.models import ID_PATTERN

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_ID = re.compile(ID_PATTERN)
_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 36rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.7; color: #222; }}
h1 {{ font-size: 1.3rem; }}
code {{ background: #f3f3f3; padding: .1rem .3rem; }}
.note {{ color: #666; font-size: .9rem; }}
</style>
</head>
<body>
<h1>{title}</h1>
{body}
<p class="note">本页面由整改跟踪系统（zhenggai）提供，不显示案件内容。</p>
</body>
</html>
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, body=body), status_code=status, headers=_HEADERS)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: str) -> HTMLResponse:
    if not _ID.fullmatch(case_id):
        return _page("找不到该页面", "<p>链接中的案件编号格式不正确，请核对通知中的链接。</p>", 404)
    number = html.escape(case_id)
    body = (
        f"<p>案件编号：<code>{number}</code></p>"
        "<p>请登录整改系统控制台，在案件列表中按此编号查看案件详情、办理整改事项。"
        "出于安全考虑，本页面不显示案件内容。</p>"
        '<p class="note">控制台尚在建设中；在此之前，请联系本单位的系统管理员，'
        "或由有权限的人员通过接口查询该案件。</p>"
    )
    return _page(f"整改案件 {number}", body)
