"""Who is a publisher: superusers, and staff users in the "Publishers" group."""

PUBLISHERS_GROUP = "Publishers"


def is_publisher(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.is_staff and user.groups.filter(name=PUBLISHERS_GROUP).exists()
