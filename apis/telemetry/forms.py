"""The connection-log filter form (GET): time range, state, subscription, close code, search."""

from django import forms

from apis.telemetry.models import ConnectionLog

RANGE_CHOICES = [("1h", "Last hour"), ("24h", "Last day"), ("7d", "Last 7 days")]
RANGE_CHOICES += [("30d", "Last 30 days")]
DEFAULT_SINCE = "24h"


class LogFilterForm(forms.Form):
    since = forms.ChoiceField(
        label="Time range", choices=RANGE_CHOICES, initial=DEFAULT_SINCE, required=False
    )
    state = forms.ChoiceField(
        choices=[("", "Any state"), *ConnectionLog.State.choices], required=False
    )
    subscription = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    close_code = forms.IntegerField(
        min_value=0,
        max_value=4999,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": "e.g. 1008"}),
    )
    q = forms.CharField(
        label="Search",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Correlation id or reason"}),
    )

    def __init__(self, data=None, *, subscriptions: list[tuple[int, str]] = (), **kwargs) -> None:
        # The select shows the range the page lists (the last day), never its first choice: a
        # query without a range (e.g. ?state=refused) is read as the default range.
        if data is not None and not data.get("since"):
            data = data.copy()
            data["since"] = DEFAULT_SINCE
        super().__init__(data, **kwargs)
        self.fields["subscription"].choices = [("", "Any subscription")] + [
            (sid, f"{name} (#{sid})") for sid, name in subscriptions
        ]

    def filters(self) -> dict:
        """Keyword arguments for `selectors.connection_logs`: the valid filters apply, an invalid
        one is left out (the page shows its message), the rest take their defaults."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})  # an unbound form has none
        return {
            "since": data.get("since") or DEFAULT_SINCE,
            "state": data.get("state") or "",
            "subscription_id": data.get("subscription"),
            "close_code": data.get("close_code"),
            "search": (data.get("q") or "").strip(),
        }
