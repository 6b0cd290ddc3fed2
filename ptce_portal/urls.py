from django.contrib import admin
from django.urls import include, path

from . import health

admin.site.site_header = "Portail PTCE — administration"
admin.site.site_title = "Portail PTCE"
admin.site.index_title = "Tableau de bord"

urlpatterns = [
    path("health/", health.health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("applications.urls")),
]
