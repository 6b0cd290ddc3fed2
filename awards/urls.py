from django.urls import path, re_path

from . import views

app_name = "awards"

urlpatterns = [
    # Program staff
    path("programme/appels/<slug:slug>/selection/", views.selection_page, name="selection"),
    path("programme/appels/<slug:slug>/decisions/", views.decisions_page, name="decisions"),
    re_path(
        r"^programme/appels/(?P<slug>[-a-zA-Z0-9_]+)/export/(?P<liste>laureats|dossiers)\.(?P<fmt>csv|xlsx|pdf)$",
        views.export_view,
        name="export",
    ),
    # Public, once the results are published
    path("resultats/<slug:slug>/", views.public_results, name="public-results"),
    path("resultats/<slug:slug>/donnees/", views.public_data, name="public-data"),
    path("resultats/<slug:slug>/laureats.csv", views.public_csv, name="public-csv"),
    path("resultats/<slug:slug>/laureats.json", views.public_json, name="public-json"),
    # Laureates
    path("dossiers/<int:pk>/decision/lettre.pdf", views.letter_pdf, name="letter-pdf"),
    path("dossiers/<int:pk>/rapports/", views.reports_page, name="reports"),
    path("dossiers/<int:pk>/rapports/<int:report_pk>/", views.report_download, name="report-download"),
]
