import factory

from accounts.roles import Role, add_role
from accounts.tests.factories import UserFactory
from applications.models import Dossier, Region
from applications.tests.factories import DossierFactory
from reviews.models import Assignment, Criterion, ReviewerProfile

PTCE_CRITERIA = [
    ("Innovation socio-économique sur le territoire", 3),
    ("Conversion écologique et sociale de l'économie locale", 2),
    ("Emplois non délocalisables", 2),
]


class ReviewerFactory(UserFactory):
    """A verified user with the reviewer role and a profile (`profile={...}` sets its fields)."""

    email = factory.Sequence(lambda n: f"evaluateur{n}@ministere.example")

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if create:
            add_role(self, Role.REVIEWER)
            ReviewerProfile.objects.create(
                user=self, **{"capacity": 20, "home_region": Region.BRETAGNE, **(extracted or {})}
            )


def criteria_for(call, *, not_applicable_on_last: bool = False) -> list[Criterion]:
    return [
        Criterion.objects.create(
            call=call,
            name=name,
            weight=weight,
            scale_max=5,
            position=index,
            allows_not_applicable=not_applicable_on_last and index == len(PTCE_CRITERIA) - 1,
        )
        for index, (name, weight) in enumerate(PTCE_CRITERIA)
    ]


def submitted_dossier(**kwargs):
    return DossierFactory(status=Dossier.Status.SUBMITTED, reference=kwargs.pop("reference", "PTCE-T-0001"), **kwargs)


def assignment(reviewer=None, dossier=None) -> Assignment:
    return Assignment.objects.create(reviewer=reviewer or ReviewerFactory(), dossier=dossier or submitted_dossier())
