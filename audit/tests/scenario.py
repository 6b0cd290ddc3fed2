"""A small but varied record: a reviewed dossier, its decision and award, a section with JSON."""

from __future__ import annotations

import datetime as dt

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from applications.models import DossierSection
from applications.tests.factories import CallFactory
from audit.chain import chained_tables
from awards.models import Decision
from awards.services import record_decision
from awards.tests.factories import submitted_with_request
from reviews.services import ScoreInput, save_review
from reviews.tests.factories import assignment, criteria_for


def build_record():
    call = CallFactory()
    dossier = submitted_with_request(call=call)
    DossierSection.objects.create(
        dossier=dossier, key="presentation", data={"résumé": "Pôle « coopératif »", "part": 0.25, "ans": [2014, 2015]}
    )
    criteria = criteria_for(call)
    given = assignment(dossier=dossier)
    review = save_review(
        given,
        scores=[ScoreInput(criterion_id=c.pk, value=4, comment="Solide") for c in criteria],
        recommendation="fund",
        overall_comment="Projet ancré dans son territoire.",
        by=given.reviewer,
        submit=True,
    )
    staff = UserFactory(role=Role.PROGRAM_STAFF)
    decision = record_decision(
        dossier, outcome=Decision.Outcome.LAUREATE, committee_date=dt.date(2014, 1, 15), by=staff
    )
    return dossier, review, decision


def count_chained_rows() -> int:
    return sum(table.model.objects.count() for table in chained_tables())
