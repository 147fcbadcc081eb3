"""Accounts: sign-in (portal.views.SignInView, and through an OpenID Connect provider),
sign-out, password reset and change, sign-up."""

from django.contrib.auth import views as auth_views
from django.urls import path

from portal import views
from portal.oidc_views import OidcCallbackView, OidcSignInView, sign_out

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", sign_out, name="logout"),
    path("oidc/login/", OidcSignInView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", OidcCallbackView.as_view(), name="oidc_authentication_callback"),
    path("signup/", views.signup, name="signup"),
    path("activate/<str:uidb64>/<str:token>/", views.activate, name="activate"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
