"""Who may do what in the management API: publishers manage the catalog, admins the rest."""

from rest_framework import permissions

from apis.permissions import is_publisher


class IsPublisher(permissions.BasePermission):
    """Superusers and staff users in the "Publishers" group."""

    message = "Only publishers (staff in the Publishers group) and admins may do this."

    def has_permission(self, request, view) -> bool:
        return is_publisher(request.user)


class IsAdmin(permissions.BasePermission):
    """Superusers only: users and gateways' node tokens."""

    message = "Only admins (superusers) may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


class SubscriptionAccess(permissions.BasePermission):
    """Publishers do anything; other signed-in users read, rename, cancel and rekey their own
    subscriptions (the queryset only holds their own, so another user's answers 404)."""

    message = "Only publishers and admins may do this to a subscription."
    OWNER_ACTIONS = frozenset(
        {
            "list",
            "retrieve",
            "partial_update",
            "update",
            "cancel",
            "regenerate_key",
            "list_secrets",
            "connect_tickets",
        }
    )

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) == "connect_tickets" and presented_key(request):
            return True  # the view proves the key against that subscription itself
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return is_publisher(user) or getattr(view, "action", None) in self.OWNER_ACTIONS


KEY_HEADER = "Ocp-Apim-Subscription-Key"  # how an application server proves a subscription


def presented_key(request) -> str:
    return request.headers.get(KEY_HEADER, "")
