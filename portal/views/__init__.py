"""Developer portal pages, one module per area; this package re-exports the views."""

from portal.views.accounts import SignInView, activate, profile, signup
from portal.views.api_page import api_asyncapi, api_console_ticket, api_detail
from portal.views.catalog import api_list, home, product_detail, product_list, subscribe
from portal.views.health import healthz
from portal.views.subscriptions import (
    subscription_cancel,
    subscription_keys,
    subscription_list,
    subscription_regenerate,
    subscription_rename,
)

__all__ = [
    "SignInView",
    "activate",
    "api_asyncapi",
    "api_console_ticket",
    "api_detail",
    "api_list",
    "healthz",
    "home",
    "product_detail",
    "product_list",
    "profile",
    "signup",
    "subscribe",
    "subscription_cancel",
    "subscription_keys",
    "subscription_list",
    "subscription_regenerate",
    "subscription_rename",
]
