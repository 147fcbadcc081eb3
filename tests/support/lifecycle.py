"""The subscription lifecycle as the tests expect it: (action, from state) -> new state.

Written out by hand, independently of `apis.services.TRANSITIONS`, so the tests check it.
"""

from apis.models import Subscription

State = Subscription.State

ALLOWED_TRANSITIONS = {
    ("approve", State.SUBMITTED): State.ACTIVE,
    ("reject", State.SUBMITTED): State.REJECTED,
    ("suspend", State.ACTIVE): State.SUSPENDED,
    ("reactivate", State.SUSPENDED): State.ACTIVE,
    ("cancel", State.SUBMITTED): State.CANCELLED,
    ("cancel", State.ACTIVE): State.CANCELLED,
    ("cancel", State.SUSPENDED): State.CANCELLED,
    ("expire", State.ACTIVE): State.EXPIRED,
    ("expire", State.SUSPENDED): State.EXPIRED,
}
