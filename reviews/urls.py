from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("programme/", views.call_list, name="call-list"),
    path("programme/appels/<slug:slug>/attribution/", views.assignment_page, name="assignment"),
    path("programme/appels/<slug:slug>/classement/", views.ranking_page, name="ranking"),
    path("programme/appels/<slug:slug>/evaluateurs/", views.progress_page, name="progress"),
    path("programme/appels/<slug:slug>/evaluateurs/relancer/", views.remind_reviewers, name="remind"),
    path("programme/dossiers/<int:pk>/questions/", views.staff_thread, name="staff-thread"),
    path("dossiers/<int:pk>/questions/", views.team_thread, name="team-thread"),
    path("dossiers/<int:pk>/questions/<int:message_pk>/piece/", views.message_attachment, name="message-attachment"),
]
