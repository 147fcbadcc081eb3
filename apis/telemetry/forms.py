"""The connection-log filter form (GET): time range, state, subscription, close code, search."""

from django import forms

from apis.telemetry.models import ConnectionLog

RANGE_CHOICES = [("1h", "Last hour"), ("24h", "Last day"), ("7d", "Last 7 days")]
RANGE_CHOICES += [("30d", "Last 30 days")]


class LogFilterForm(forms.Form):
    since = forms.ChoiceField(label="Time range", choices=RANGE_CHOICES, required=False)
    state = forms.ChoiceField(
        choices=[("", "Any state"), *ConnectionLog.State.choices], required=False
    )
    subscription = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    close_code = forms.IntegerField(min_value=0, max_value=4999, required=False)
    q = forms.CharField(label="Search", max_length=100, required=False)

    def __init__(self, *args, subscriptions: list[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subscription"].choices = [("", "Any subscription")] + [
            (sid, f"{name} (#{sid})") for sid, name in subscriptions
        ]

    def filters(self) -> dict:
        """Keyword arguments for `selectors.connection_logs` (defaults if invalid)."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "since": data.get("since") or "24h",
            "state": data.get("state") or "",
            "subscription_id": data.get("subscription"),
            "close_code": data.get("close_code"),
            "search": (data.get("q") or "").strip(),
        }
