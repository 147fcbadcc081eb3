"""Accounts: sign-in, sign-up with e-mail confirmation (no model: a signed token), the profile."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.auth.views import LoginView
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from apis import selectors
from apis.permissions import is_publisher
from portal.forms import PortalLoginForm, ProfileForm, SignupForm
from portal.models import AccountActivation, PortalSettings
from portal.views.subscriptions import LIVE_STATES

User = get_user_model()


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """Signed, expiring activation tokens that work once, for an account never activated.

    `is_active` alone is not enough: an admin who deactivates an account would make its old
    link valid again. The hash also covers whether the link was ever used (AccountActivation).
    """

    key_salt = "portal.views.accounts.ActivationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        used = AccountActivation.objects.filter(user_id=user.pk).exists()
        return f"{user.pk}{user.password}{user.is_active}{used}{timestamp}"


activation_tokens = ActivationTokenGenerator()


class SignInView(LoginView):
    """Django's sign-in page. Without a safe ?next=, a publisher (or administrator) lands on
    the publisher home, where their work is; everyone else on the developer home."""

    authentication_form = PortalLoginForm

    def post(self, request, *args, **kwargs):
        """With local accounts turned off (PORTICO_LOCAL_ACCOUNTS=0) the page shows only
        "Sign in with …", and a password is refused."""
        if not settings.PORTICO_LOCAL_ACCOUNTS:
            messages.error(request, "Sign-in with a password is turned off here.")
            return render(request, "registration/login.html", {"next": ""}, status=403)
        return super().post(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        if is_publisher(self.request.user):  # signed in by now: form_valid() logs in first
            return reverse("publisher:index")
        return super().get_default_redirect_url()


def activation_path(user) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("activate", args=[uidb64, activation_tokens.make_token(user)])


def _send_activation_email(request: HttpRequest, user) -> None:
    context = {"user": user, "link": request.build_absolute_uri(activation_path(user))}
    send_mail(
        subject="Activate your Portico developer account",
        message=render_to_string("registration/activation_email.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.PORTICO_LOCAL_ACCOUNTS or not PortalSettings.current().signup_enabled:
        status = 403 if request.method == "POST" else 200
        return render(request, "registration/signup_closed.html", status=status)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            _send_activation_email(request, user)
        return render(request, "registration/signup_done.html", {"email": user.email})
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        user = User.objects.get(pk=urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not activation_tokens.check_token(user, token):
        return render(request, "registration/activation_invalid.html", status=400)
    with transaction.atomic():
        # The marker's unique user makes a link opened twice at once activate only once.
        _, first_use = AccountActivation.objects.get_or_create(user=user)
        if not first_use:
            return render(request, "registration/activation_invalid.html", status=400)
        user.is_active = True
        user.save(update_fields=["is_active"])
    messages.success(request, "Your account is active: sign in to subscribe to products.")
    return redirect("login")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile was saved.")
        return redirect("portal:profile")
    context = {
        "form": form,
        "subscriptions": selectors.subscriptions_for_owner_page(request.user),
        "live_states": LIVE_STATES,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/profile.html", context, status=status)
