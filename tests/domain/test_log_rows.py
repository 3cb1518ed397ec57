"""The meeting dial-out report is aggregated from PSTN rows."""

from __future__ import annotations

from callscope.domain.log_rows import dialout_report


def row(user: str, call_type: str, seconds: int, charge: float, context: str = "Domestic") -> dict[str, object]:
    return {
        "userId": user,
        "callType": call_type,
        "duration": seconds,
        "charge": charge,
        "connectionCharge": 0.25,
        "currency": "USD",
        "destinationContext": context,
        "usageCountryCode": "US",
    }


def test_conference_dial_out_calls_are_summed_per_user_context_and_currency() -> None:
    report = dialout_report(
        [
            row("u1", "conf_out", 60, 1.0),
            row("u1", "conf_out_to_user", 30, 0.5),
            row("u1", "user_out", 99, 9.0),
            row("u1", "conf_out", 10, 2.0, context="International"),
            row("u2", "conf_in", 50, 0.0),
        ]
    )
    by_context = {r["destinationContext"]: r for r in report}
    assert len(report) == 2
    assert by_context["Domestic"]["totalCalls"] == 2
    assert by_context["Domestic"]["totalCallSeconds"] == 90
    assert by_context["Domestic"]["totalCallCharge"] == 2.0
    assert by_context["International"]["totalCallCharge"] == 2.25
    assert by_context["Domestic"]["usageLocation"] == "US"
