"""Template context every page needs: the navigation a user may see."""

from apis.permissions import is_publisher


def navigation(request) -> dict:
    return {"is_publisher": is_publisher(request.user)}
