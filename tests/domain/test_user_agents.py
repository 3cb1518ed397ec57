"""clientUserAgent from UserAgent strings."""

from __future__ import annotations

import pytest

from callscope.domain.user_agents import client_user_agent


@pytest.mark.parametrize(
    ("header", "platform", "family", "version"),
    [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0.1.2 Safari/537.36", "web", "unknown", "126.0.1"),
        ("RTCC/7.0.0.0 UCWA/7.0.0.0 AndroidLync/6.25.0.27 (SM-G930U Android 8.0.0)", "android", "lync", "6.25.0.27"),
        ("Teams/6.14.1 (iPhone15,2; iOS 17.5)", "iOS", "teams", "6.14.1"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Teams/24295.605.3225.8804",
            "macOS",
            "teams",
            "24295.605.3225.8804",
        ),
        ("Polycom/5.9.5 PolycomVVX-VVX_450-UA/5.9.5.0614", "ipPhone", "unknown", "5.9.5"),
        ("callscope-tests/1.0", "unknown", "unknown", "1.0"),
        ("", "unknown", "unknown", None),
    ],
)
def test_platform_product_family_and_version(header: str, platform: str, family: str, version: str | None) -> None:
    agent = client_user_agent(header)
    assert (agent["platform"], agent["productFamily"], agent["applicationVersion"]) == (platform, family, version)
    assert agent["headerValue"] == (header or None)
