from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import TemplateView

from applications.views.dossiers import home

from . import health


def _signed_in_staff_continue(request, extra_context=None):
    # Reached only by signed-in staff (secure_admin_login sends everyone else to allauth's log-in):
    # Django's own log-in form is never shown, so no password is ever checked outside allauth.
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:index")
    return redirect(target)


# The admin has no log-in of its own: allauth's (throttled, with the second factor) is the only one.
admin.site.login = secure_admin_login(_signed_in_staff_continue)

urlpatterns = [
    path("", home, name="home"),
    path("accessibilite/", TemplateView.as_view(template_name="pages/accessibility.html"), name="accessibility"),
    path("mentions-legales/", TemplateView.as_view(template_name="pages/legal.html"), name="legal"),
    path("health/", health.health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("compte/donnees-personnelles/", include("accounts.privacy_urls")),
    path("", include("reviews.urls")),
    path("", include("awards.urls")),
    path("", include("applications.urls")),
]
