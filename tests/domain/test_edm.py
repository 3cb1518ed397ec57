"""The EDM model read from the packaged CSDL documents."""

from __future__ import annotations

from callscope.services.schemas import load_schemas

NS = "microsoft.graph.callRecords"


def test_every_namespace_type_is_known_with_inherited_properties() -> None:
    model = load_schemas().models["v1.0"]
    session = model.properties(f"{NS}.session")
    assert {"id", "caller", "callee", "failureInfo", "isTest", "modalities", "segments"} <= set(session)
    assert session["segments"].navigation
    assert not session["modalities"].nullable
    assert model.is_polymorphic(f"{NS}.endpoint")
    assert model.derived(f"{NS}.userAgent") == [f"{NS}.userAgent", f"{NS}.clientUserAgent", f"{NS}.serviceUserAgent"]


def test_only_members_after_the_sentinel_are_evolvable() -> None:
    models = load_schemas().models
    assert models["v1.0"].future_members(f"{NS}.productFamily") == {"azureCommunicationServices"}
    assert models["v1.0"].future_members(f"{NS}.modality") == frozenset()


def test_beta_adds_log_types_and_functions_on_top_of_v1() -> None:
    v1, beta = load_schemas().models["v1.0"], load_schemas().models["beta"]
    assert set(v1.functions) == {"getPstnCalls", "getDirectRoutingCalls"}
    assert set(beta.functions) > set(v1.functions)
    assert set(v1.properties(f"{NS}.pstnCallLogRow")) < set(beta.properties(f"{NS}.pstnCallLogRow"))
    assert ("microsoft.graph.callRecords.callRecord", "organizer_v2") in v1.auto_expand
