from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("", views.call_list, name="call-list"),
    path("appels/<slug:slug>/attribution/", views.assignment_page, name="assignment"),
    path("appels/<slug:slug>/classement/", views.ranking_page, name="ranking"),
    path("appels/<slug:slug>/evaluateurs/", views.progress_page, name="progress"),
    path("appels/<slug:slug>/evaluateurs/relancer/", views.remind_reviewers, name="remind"),
]
