from django.urls import path

from .views import attachments, consortia, dossiers

app_name = "applications"

urlpatterns = [
    path("appels/<slug:slug>/", dossiers.call_detail, name="call-detail"),
    path("tableau-de-bord/", dossiers.dashboard, name="dashboard"),
    # Consortium (the pole), its organisations and its team
    path("poles/nouveau/", consortia.consortium_create, name="consortium-create"),
    path("poles/<int:pk>/", consortia.consortium_detail, name="consortium-detail"),
    path("poles/<int:pk>/modifier/", consortia.consortium_update, name="consortium-update"),
    path("poles/<int:pk>/organisations/ajouter/", consortia.organisation_create, name="organisation-create"),
    path(
        "poles/<int:pk>/organisations/<int:org_pk>/modifier/",
        consortia.organisation_update,
        name="organisation-update",
    ),
    path(
        "poles/<int:pk>/organisations/<int:org_pk>/supprimer/",
        consortia.organisation_delete,
        name="organisation-delete",
    ),
    path("poles/<int:pk>/equipe/", consortia.team, name="team"),
    path(
        "poles/<int:pk>/invitations/<int:invitation_pk>/revoquer/",
        consortia.invitation_revoke,
        name="invitation-revoke",
    ),
    path("invitations/<str:token>/", consortia.invitation_accept, name="invitation-accept"),
    # Dossier
    path("poles/<int:pk>/candidater/<slug:call_slug>/", dossiers.dossier_start, name="dossier-start"),
    path("dossiers/<int:pk>/", dossiers.dossier_overview, name="dossier-overview"),
    path("dossiers/<int:pk>/rubriques/<slug:key>/", dossiers.dossier_section, name="dossier-section"),
    path("dossiers/<int:pk>/deposer/", dossiers.dossier_submit, name="dossier-submit"),
    path("dossiers/<int:pk>/retirer/", dossiers.dossier_withdraw, name="dossier-withdraw"),
    path("dossiers/<int:pk>/reprendre/", dossiers.dossier_reinstate, name="dossier-reinstate"),
    path("dossiers/<int:pk>/versions/<int:version>/", dossiers.submission_detail, name="submission-detail"),
    path("dossiers/<int:pk>/versions/<int:version>/pdf/", dossiers.submission_pdf, name="submission-pdf"),
    # Attachments
    path("dossiers/<int:pk>/pieces/", attachments.attachment_list, name="attachment-list"),
    path("dossiers/<int:pk>/pieces/<uuid:uuid>/", attachments.attachment_download, name="attachment-download"),
    path("dossiers/<int:pk>/pieces/<uuid:uuid>/retirer/", attachments.attachment_remove, name="attachment-remove"),
]
