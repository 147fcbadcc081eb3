"""Developer portal forms: sign-up, sign-in, profile, subscribing and renaming subscriptions."""

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import Group

from apis.selectors import PORTAL_DEVELOPERS_GROUP

User = get_user_model()


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_pk).exists()


class SignupForm(UserCreationForm):
    """A new developer account: inactive until its e-mail address is confirmed."""

    email = forms.EmailField(
        label="E-mail", help_text="We send a link to this address to activate the account."
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if _email_taken(email):
            raise forms.ValidationError("An account with this e-mail address already exists.")
        return email

    def save(self, commit: bool = True):
        user = super().save(commit=False)
        user.is_active = False
        if commit:
            user.save()
            developers, _ = Group.objects.get_or_create(name=PORTAL_DEVELOPERS_GROUP)
            user.groups.add(developers)
        return user


class PortalLoginForm(AuthenticationForm):
    """Django's sign-in form, telling an unconfirmed account (right password) what to do.

    The right password of an account not yet activated is not a failed sign-in: it is answered
    before `authenticate()`, whose failure signal is what django-axes counts towards a lockout.
    A locked-out account or address gets no such answer (it would tell a guesser the password
    is right); wrong passwords still go through `authenticate()` and still count.
    """

    INACTIVE_MESSAGE = (
        "This account is not active yet: activate your account first "
        "(open the link in the email we sent you), then sign in."
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username and password and self._is_inactive_with(username, password):
            raise forms.ValidationError(self.INACTIVE_MESSAGE, code="inactive")
        return super().clean()

    def _is_inactive_with(self, username: str, password: str) -> bool:
        user = User.objects.filter(username=username, is_active=False).first()
        if user is None or self.request is None:
            return False
        credentials = {"username": username}
        if AxesProxyHandler.is_locked(self.request, credentials):
            return False
        return user.check_password(password)


class ProfileForm(forms.ModelForm):
    """The signed-in user's name and e-mail address."""

    class Meta:
        model = User
        fields = ("first_name", "last_name", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if not email:
            raise forms.ValidationError("Enter an e-mail address.")
        if _email_taken(email, exclude_pk=self.instance.pk):
            raise forms.ValidationError("Another account uses this e-mail address.")
        return email


class SubscribeForm(forms.Form):
    """Subscribe to a product; the legal terms must be accepted when the product has any."""

    display_name = forms.CharField(
        label="Subscription name",
        max_length=100,
        required=False,
        help_text="Helps you tell your subscriptions apart; left empty, we name it for you.",
    )
    accept_terms = forms.BooleanField(label="I accept the legal terms", required=False)

    def __init__(self, *args, product, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        if not product.legal_terms.strip():
            del self.fields["accept_terms"]

    def clean_accept_terms(self) -> bool:
        accepted = self.cleaned_data.get("accept_terms")
        if not accepted:
            raise forms.ValidationError("Accept the legal terms to subscribe to this product.")
        return accepted


class RenameSubscriptionForm(forms.Form):
    display_name = forms.CharField(label="Subscription name", max_length=100)
