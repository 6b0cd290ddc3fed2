from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for every app. It sits on top of the dependency chain and nothing imports it."""

    name = "demo"
    verbose_name = "Données de démonstration"
