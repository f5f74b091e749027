"""/docs and /redoc work on an intranet: every asset they reference is served by the app."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration

# src=, href= and the url: of Swagger UI's init script.
_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_reference_no_outside_host_and_every_asset_loads(
    stack: Stack, page: str
) -> None:
    response = await stack.client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    references = [a or b for a, b in _REFERENCE.findall(response.text)]
    assert references, "the page references nothing: the pattern no longer matches"
    outside = [r for r in references if r.startswith(("http:", "https:", "//"))]
    assert outside == []
    assert "fonts.googleapis" not in response.text
    assert "cdn.jsdelivr" not in response.text
    for reference in references:
        asset = await stack.client.get(reference)
        assert asset.status_code == 200, reference
        assert len(asset.content) > 500, reference
