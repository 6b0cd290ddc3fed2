from django.urls import path

from . import privacy_views

app_name = "privacy"

urlpatterns = [
    path("", privacy_views.privacy_page, name="page"),
    path("export/", privacy_views.privacy_export, name="export"),
]
