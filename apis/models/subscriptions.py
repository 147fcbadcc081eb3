"""Subscriptions: access to all APIs, one product or one API, proved by either of two keys."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apis.models.catalog import Api, Product
from apis.models.keys import generate_secret


class Subscription(models.Model):
    """Access to all APIs, one product or one API, proved by either of two keys."""

    class Scope(models.TextChoices):
        ALL_APIS = "all_apis", "All APIs"
        PRODUCT = "product", "Product"
        API = "api", "API"

    class State(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    display_name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        help_text="Empty for a standalone subscription.",
    )
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.PRODUCT)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    api = models.ForeignKey(
        Api, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.SUBMITTED)
    primary_key = models.CharField(max_length=64, unique=True, default=generate_secret)
    secondary_key = models.CharField(max_length=64, unique=True, default=generate_secret)
    is_builtin_all_access = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    start_date = models.DateTimeField(null=True, blank=True)
    expiration_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    state_comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="subscription_scope_target",
                condition=(
                    Q(scope="all_apis", product__isnull=True, api__isnull=True)
                    | Q(scope="product", product__isnull=False, api__isnull=True)
                    | Q(scope="api", product__isnull=True, api__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="subscription_keys_differ", condition=~Q(primary_key=models.F("secondary_key"))
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        errors = {}
        if self.scope == self.Scope.PRODUCT and not self.product_id:
            errors["product"] = "A product-scoped subscription needs a product."
        if self.scope == self.Scope.API and not self.api_id:
            errors["api"] = "An API-scoped subscription needs an API."
        if self.scope != self.Scope.PRODUCT and self.product_id:
            errors["product"] = "Only a product-scoped subscription names a product."
        if self.scope != self.Scope.API and self.api_id:
            errors["api"] = "Only an API-scoped subscription names an API."
        if self.primary_key == self.secondary_key:
            errors["secondary_key"] = "The secondary key must differ from the primary key."
        others = Subscription.objects.exclude(pk=self.pk)
        if others.filter(
            Q(secondary_key=self.primary_key) | Q(primary_key=self.primary_key)
        ).exists():
            errors["primary_key"] = "This key is already in use."
        if others.filter(
            Q(primary_key=self.secondary_key) | Q(secondary_key=self.secondary_key)
        ).exists():
            errors["secondary_key"] = "This key is already in use."
        if errors:
            raise ValidationError(errors)
