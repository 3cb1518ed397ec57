"""Microsoft's Graph SDKs (v1.0 and beta) pointed at a callscope server."""

from __future__ import annotations

from typing import Any

from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)


class StaticToken(AccessTokenProvider):  # type: ignore[misc]
    """Hands the SDK a token from `callscope token`."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def get_authorization_token(self, uri: str, additional_authentication_context: Any = None) -> str:
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator(["127.0.0.1"])


def v1_client(base_url: str, token: str) -> Any:
    """A msgraph-sdk GraphServiceClient for `{base_url}/v1.0`."""
    from msgraph import GraphServiceClient
    from msgraph.graph_request_adapter import GraphRequestAdapter

    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token)))
    adapter.base_url = f"{base_url}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


def beta_client(base_url: str, token: str) -> Any:
    """A msgraph-beta-sdk GraphServiceClient for `{base_url}/beta`."""
    from msgraph_beta import GraphServiceClient
    from msgraph_beta.graph_request_adapter import GraphRequestAdapter

    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token)))
    adapter.base_url = f"{base_url}/beta"
    return GraphServiceClient(request_adapter=adapter)
