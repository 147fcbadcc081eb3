"""Typed readers for settings that come from the environment, reporting every problem at once."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

# Problems found while the settings module is read. A reader that finds one records it and returns
# its default, so the settings go on and `raise_problems()` at their end names every missing or
# invalid setting in one message, instead of one traceback per fix-and-retry.
_problems: list[str] = []
_reported = False


def problem(message: str) -> None:
    """Record a missing or invalid setting (the message says what to set; never a secret)."""
    if _reported:  # read after the settings' roll call: fail at once rather than be missed
        raise ImproperlyConfigured(message)
    _problems.append(message)


def raise_problems() -> None:
    """Raise one ImproperlyConfigured naming every recorded problem, if there is any."""
    global _reported
    _reported = True
    if not _problems:
        return
    found, _problems[:] = list(_problems), []
    if len(found) == 1:
        raise ImproperlyConfigured(found[0])
    lines = "\n".join(f"  - {message}" for message in found)
    raise ImproperlyConfigured(f"{len(found)} settings need attention:\n{lines}")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    problem(f"{name} must be a boolean (1/0, true/false), got {raw!r}")
    return default


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        problem(f"{name} must be an integer, got {raw!r}")
        return default
    if value < minimum:
        problem(f"{name} must be >= {minimum}, got {value}")
        return default
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        problem(f"{name} must be a number, got {raw!r}")
        return default
    if value < minimum:
        problem(f"{name} must be >= {minimum}, got {value}")
        return default
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_required(name: str, reason: str) -> str:
    value = env_str(name)
    if not value:
        problem(f"{name} must be set {reason}.")
    return value
