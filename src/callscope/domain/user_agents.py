"""A client's `clientUserAgent` from the UserAgent string its UCWA application was created with.

ua-parser (the Browserscope/uap-core rules) names the operating system and the browser or app;
callscope maps them to Graph's `clientPlatform` and `productFamily`. A browser is the `web`
platform whatever it runs on; Teams, Lync and Skype for Business clients name themselves.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ua_parser import parse

PLATFORMS = {"Windows": "windows", "Mac OS X": "macOS", "iOS": "iOS", "Android": "android"}
BROWSERS = ("Chrome", "Chromium", "Firefox", "Safari", "Edge", "Opera", "Mobile Safari", "Chrome Mobile")
FAMILIES = (
    (re.compile(r"teams", re.IGNORECASE), "teams"),
    (re.compile(r"\blync|androidlync|iphonelync", re.IGNORECASE), "lync"),
    (re.compile(r"skype|\bucwa/|\bsfb", re.IGNORECASE), "skypeForBusiness"),
)
PHONES = re.compile(r"polycom|yealink|audiocodes|\bcisco", re.IGNORECASE)
PRODUCT = re.compile(r"([A-Za-z][\w.-]*)/(\d[\w.]*)")  # `Product/1.2.3` tokens


def client_user_agent(header: str) -> dict[str, Any]:
    """`headerValue`, `platform`, `productFamily` and `applicationVersion` of a client."""
    return dict(_client_user_agent(header))


@lru_cache(maxsize=1024)  # a deployment has few distinct clients; each call record names two
def _client_user_agent(header: str) -> dict[str, Any]:
    parsed = parse(header)
    match = next(((pattern, name) for pattern, name in FAMILIES if pattern.search(header)), None)
    platform = _platform(header, parsed)
    return {
        "headerValue": header or None,
        "platform": platform,
        "productFamily": match[1] if match else "unknown",
        "applicationVersion": _version(header, parsed, match[0] if match else None, platform),
    }


def _platform(header: str, parsed: Any) -> str:
    if PHONES.search(header):
        return "ipPhone"
    agent = parsed.user_agent
    if agent is not None and agent.family in BROWSERS and not any(p.search(header) for p, _ in FAMILIES):
        return "web"
    os = parsed.os
    return PLATFORMS.get(os.family, "unknown") if os is not None else "unknown"


def _version(header: str, parsed: Any, family: re.Pattern[str] | None, platform: str) -> str | None:
    """The version of the product token naming the family, the browser's, or the first product's."""
    tokens = PRODUCT.findall(header)
    named = [version for name, version in tokens if family is not None and family.search(name)]
    if named:
        return str(named[-1])
    if platform == "web" and parsed.user_agent is not None:
        agent = parsed.user_agent
        return ".".join(p for p in (agent.major, agent.minor, agent.patch) if p) or None
    return next((str(version) for name, version in tokens if name != "Mozilla"), None)
