"""Playwright driving Debian's chromium (never a downloaded browser), headless, loopback only."""

import shutil
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "browser-pass-1"  # every user make_user creates; sign_in signs in with it
WIDTHS = [390, 1280]  # a phone and a desktop: the widths the layout tests run at


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/ (git-ignored) for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def make_user(username: str, *, groups: tuple[str, ...] = (), **fields):
    """A user with PASSWORD, hashed with the server's own hasher (the tests' MD5 is test-only),
    in the named `groups` (made if missing)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.contrib.auth.models import Group, User

    hasher = PBKDF2PasswordHasher()
    user = User.objects.create(
        username=username, password=hasher.encode(PASSWORD, hasher.salt()), **fields
    )
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def open_page(browser, width: int, *, height: int = 900, clipboard: bool = False):
    """A page in a fresh context (its own cookies) at `width`, with the tests' 15 s timeout."""
    context = browser.new_context(viewport={"width": width, "height": height})
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def sign_in(page, base: str, username: str, *, then: str = "") -> None:
    """Sign in through the sign-in form with PASSWORD (then `?next=then`) and wait to leave it."""
    page.goto(f"{base}/accounts/login/" + (f"?next={then}" if then else ""))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def fits(page, width: int) -> None:
    """The page does not scroll sideways at this width (measured once a navigation a click may
    have started has loaded: mid-navigation there is no documentElement to measure)."""
    page.wait_for_load_state("load")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide at {width} px"


def overlaps(a: dict, b: dict, slack: float = 0.0) -> bool:
    """Whether two element boxes (bounding_box()) overlap by more than `slack` px each way."""
    return (
        a["x"] < b["x"] + b["width"] - slack
        and b["x"] < a["x"] + a["width"] - slack
        and a["y"] < b["y"] + b["height"] - slack
        and b["y"] < a["y"] + a["height"] - slack
    )
