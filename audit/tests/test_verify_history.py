import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from applications.models import Dossier, Submission
from audit.chain import entry_hash, row_hash
from audit.models import ChainLink
from audit.services import link_rows, record_digest, seal_unchained_history
from awards.models import Award
from reviews.models import Review

from .scenario import build_record, count_chained_rows

pytestmark = pytest.mark.django_db(transaction=True)


def verify() -> str:
    out = io.StringIO()
    call_command("verify_history", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def verify_error() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify_history", stdout=io.StringIO(), stderr=io.StringIO())
    return str(caught.value)


def at(moment) -> str:
    local = timezone.localtime(moment)
    return f"du {local:%d/%m/%Y} à {local:%H:%M:%S} (heure de Paris)"


def execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_clean_chain_passes_and_covers_every_historical_row():
    build_record()
    rows = count_chained_rows()

    output = verify()

    head = ChainLink.objects.order_by("-sequence").first()
    assert list(ChainLink.objects.order_by("sequence").values_list("sequence", flat=True)) == list(range(1, rows + 1))
    assert output == (
        f"Historique intègre : {rows} maillon(s) vérifié(s), dernier n° {rows}, empreinte {head.entry_hash} ; "
        "0 empreinte(s) quotidienne(s) vérifiée(s).\n"
    )


def test_a_review_edited_behind_the_portals_back_is_named():
    _, review, _ = build_record()
    entry = Review.history.filter(id=review.pk).order_by("-history_id").first()
    link = ChainLink.objects.get(model="reviews.HistoricalReview", history_id=entry.history_id)

    execute("UPDATE reviews_historicalreview SET weighted_total = 100 WHERE history_id = %s", [entry.history_id])

    assert verify_error() == (
        "Historique altéré (1 anomalie(s)). Première anomalie : "
        f"maillon n° {link.sequence}, table reviews_historicalreview, entrée d'historique n° {entry.history_id} "
        f"{at(entry.history_date)} : entrée d'historique modifiée depuis son enregistrement"
    )


def test_a_deleted_historical_row_is_named():
    _, _, decision = build_record()
    entry = Award.history.get(id=decision.award.pk)
    link = ChainLink.objects.get(model="awards.HistoricalAward", history_id=entry.history_id)

    execute("DELETE FROM awards_historicalaward WHERE history_id = %s", [entry.history_id])

    assert verify_error() == (
        "Historique altéré (1 anomalie(s)). Première anomalie : "
        f"maillon n° {link.sequence}, table awards_historicalaward, entrée d'historique n° {entry.history_id} "
        f"{at(link.created_at)} : entrée d'historique supprimée (le maillon existe, la ligne a disparu)"
    )


def test_a_deleted_chain_link_is_named():
    build_record()
    previous, deleted = ChainLink.objects.order_by("sequence")[2:4]

    execute("DELETE FROM audit_chainlink WHERE sequence = %s", [deleted.sequence])

    local = timezone.localtime(previous.created_at)
    assert verify_error() == (
        "Historique altéré (2 anomalie(s)). Première anomalie : "
        f"maillon n° {deleted.sequence} : maillon(s) n° {deleted.sequence} supprimé(s) de la chaîne, "
        f"après le maillon enregistré le {local:%d/%m/%Y à %H:%M:%S}"
    )


def test_a_chain_recomputed_after_an_edit_no_longer_matches_the_days_digest():
    dossier, _, _ = build_record()
    digest = record_digest()
    entry = Dossier.history.filter(id=dossier.pk).order_by("history_id").first()
    execute(
        "UPDATE applications_historicaldossier SET withdrawn_reason = 'x' WHERE history_id = %s", [entry.history_id]
    )

    # The intruder also rewrites the link's row hash and every entry hash after it.
    link = ChainLink.objects.get(model="applications.HistoricalDossier", history_id=entry.history_id)
    row = type(entry).objects.filter(history_id=entry.history_id).values(*link.columns.split()).get()
    ChainLink.objects.filter(pk=link.pk).update(row_hash=row_hash(type(entry), row, link.columns.split()))
    previous = ChainLink.objects.filter(sequence=link.sequence - 1).values_list("entry_hash", flat=True).first()
    for later in ChainLink.objects.filter(sequence__gte=link.sequence).order_by("sequence"):
        previous = entry_hash(previous or "0" * 64, later.row_hash)
        ChainLink.objects.filter(pk=later.pk).update(entry_hash=previous)

    assert verify_error() == (
        "Historique altéré (1 anomalie(s)). Première anomalie : "
        f"maillon n° {digest.last_sequence} : l'empreinte quotidienne du {digest.date:%d/%m/%Y} ne correspond plus "
        "à la chaîne (maillon absent ou chaîne recalculée depuis)"
    )


def test_a_historical_row_written_without_the_portal_is_unchained_until_sealed():
    dossier, _, _ = build_record()
    Dossier.history.bulk_history_create([dossier])  # sends no signal, like the dataset generator
    entry = Dossier.history.order_by("-history_id").first()

    assert verify_error() == (
        "Historique altéré (1 anomalie(s)). Première anomalie : "
        f"table applications_historicaldossier, entrée d'historique n° {entry.history_id} {at(entry.history_date)} : "
        "entrée d'historique sans maillon (écrite hors du portail, ou import à sceller)"
    )

    assert seal_unchained_history() == 1
    assert verify().startswith("Historique intègre")


def test_history_written_in_bulk_is_chained_when_passed_to_link_rows():
    dossier, _, _ = build_record()

    link_rows(Dossier.history.bulk_history_create([dossier, dossier]))

    assert verify().startswith("Historique intègre")


def test_a_submission_whose_frozen_content_is_edited_is_named_but_its_pdf_may_come_later():
    dossier, _, _ = build_record()
    submission = dossier.current_submission
    link = ChainLink.objects.get(model="applications.Submission", history_id=submission.pk)
    Submission.objects.filter(pk=submission.pk).update(pdf="submissions/x.pdf", pdf_rendered_at=timezone.now())
    assert verify().startswith("Historique intègre")

    execute("UPDATE applications_submission SET content = '{}' WHERE id = %s", [submission.pk])

    assert verify_error() == (
        "Historique altéré (1 anomalie(s)). Première anomalie : "
        f"maillon n° {link.sequence}, table applications_submission, ligne n° {submission.pk} "
        f"{at(submission.submitted_at)} : ligne modifiée depuis son enregistrement"
    )
