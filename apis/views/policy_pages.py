"""The "All APIs" policy page: the policy document (onHandshake, onMessage) every API inherits."""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from apis import selectors, services
from apis.views.access import breadcrumbs, publisher_required
from apis.views.policy_editor import policy_page


@publisher_required
def global_policy(request: HttpRequest) -> HttpResponse:
    return policy_page(
        request,
        template="apis/global_policy.html",
        context={"section": "apis", "crumbs": breadcrumbs("apis", ("All APIs policy", None))},
        current_xml=selectors.global_policy().policy_xml,
        save=lambda policy_xml: services.set_global_policy(policy_xml=policy_xml),
        done=reverse("publisher:global-policy"),
        scope="global",
    )
