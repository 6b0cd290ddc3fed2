from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from applications.views.dossiers import home

from . import health

admin.site.site_header = "Portail PTCE — administration"
admin.site.site_title = "Portail PTCE"
admin.site.index_title = "Tableau de bord"
# The admin has no log-in of its own: allauth's (throttled, with the second factor) is the only one.
admin.site.login = secure_admin_login(admin.site.login)

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
