"""The antivirus hook against a real clamd (Debian's clamav-daemon), started privately for this module.

No signature can be downloaded here: the fixture writes a local database of two MD5 signatures
(.hdb), one for the EICAR test file and one for a PDF of ours that stands for a malware upload.
"""

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import override_settings
from django.urls import reverse

from applications import antivirus
from applications.attachments import add_attachment, scan_attachment
from applications.downloads import private_download
from applications.models import Attachment, Dossier
from applications.services import SubmissionRefused, missing_items, submit_dossier
from applications.tasks import scan_attachment_task
from applications.tests.factories import ConsortiumFactory, DossierFactory, complete_dossier
from applications.tests.test_uploads import pdf_bytes
from conftest import sign_in
from jobs.models import Job
from jobs.services import OUTBOX_RETRY
from jobs.tests.conftest import free_port
from jobs.tests.outbox import run_pending_jobs

CLAMD = Path("/usr/sbin/clamd")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# A genuine PDF (it passes the content checks) whose exact bytes the test database flags.
MALWARE_PDF = pdf_bytes().replace(b"%%EOF", b"% PTCE antivirus test file\n%%EOF")
CLEAN_PDF = pdf_bytes()
STREAM_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Clamd:
    socket: Path
    port: int


def md5_line(data: bytes, name: str) -> str:
    return f"{hashlib.md5(data).hexdigest()}:{len(data)}:{name}\n"


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    """A private clamd on a Unix socket in a temporary folder, with our two signatures; stopped after."""
    if not CLAMD.exists():
        pytest.skip("clamd absent : tests antivirus ignorés (apt-get install clamav-daemon)")
    folder = tmp_path_factory.mktemp("clamd")
    database = folder / "db"
    database.mkdir()
    (database / "ptce-test.hdb").write_text(
        md5_line(EICAR, "Eicar-Test-Signature") + md5_line(MALWARE_PDF, "PTCE-Test-Malware")
    )
    socket_path = folder / "clamd.sock"
    port = free_port()
    config = folder / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                f"LocalSocket {socket_path}",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                "Foreground yes",
                f"DatabaseDirectory {database}",
                f"TemporaryDirectory {folder}",
                f"LogFile {folder / 'clamd.log'}",
                # clamd drops privileges to the "clamav" user by default; the test runs as whoever.
                "User root" if os.geteuid() == 0 else "",
                f"StreamMaxLength {STREAM_MAX_BYTES // 1024}K",
                "SelfCheck 0",
            ]
        )
    )
    process = subprocess.Popen([CLAMD, "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        with override_settings(CLAMD_SOCKET=str(socket_path), CLAMD_HOST=""):
            deadline = time.monotonic() + 60
            while not antivirus.ping():
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "clamd.log").read_text() if (folder / "clamd.log").exists() else ""
                    raise RuntimeError(f"clamd did not answer PING:\n{log[-2000:]}")
                time.sleep(0.1)
        yield Clamd(socket_path, port)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def clamd_up(settings, clamd):
    settings.CLAMD_SOCKET = str(clamd.socket)
    settings.CLAMD_HOST = ""
    return clamd


@pytest.fixture
def clamd_down(settings, tmp_path):
    # A socket path where nothing listens: what clamd stopped or crashed looks like.
    settings.CLAMD_SOCKET = str(tmp_path / "dead-clamd.sock")
    settings.CLAMD_HOST = ""


@pytest.fixture
def dossier(applicant, media):
    return DossierFactory(consortium=ConsortiumFactory(owner=applicant))


@pytest.fixture
def owner_client(client, applicant):
    return sign_in(client, applicant)


def list_url(dossier) -> str:
    return reverse("applications:attachment-list", args=[dossier.pk])


def download_url(attachment) -> str:
    return reverse("applications:attachment-download", args=[attachment.dossier_id, attachment.uuid])


def post_upload(client, dossier, data: bytes, name: str = "statuts.pdf"):
    statuts = dossier.call.attachment_types.get(code="statuts")
    upload = SimpleUploadedFile(name, data, content_type="application/pdf")
    return client.post(list_url(dossier), {"attachment_type": statuts.pk, "file": upload}, follow=True)


def stored_files(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file())


def infected_message(signature: str) -> str:
    return (
        f"L'antivirus a détecté un programme malveillant dans ce fichier ({signature}) : il est refusé. "
        "Analysez votre poste et déposez une copie saine du document."
    )


# --- The protocol, against the real daemon ---


def test_clamd_answers_ping(clamd_up):
    assert antivirus.ping() is True


def test_clamd_is_also_reached_over_tcp(settings, clamd):
    settings.CLAMD_SOCKET = ""
    settings.CLAMD_HOST, settings.CLAMD_PORT = "127.0.0.1", clamd.port

    assert (antivirus.ping(), antivirus.scan_chunks([EICAR])) == (True, "Eicar-Test-Signature.UNOFFICIAL")


def test_eicar_is_found_by_its_signature(clamd_up):
    assert antivirus.scan_chunks([EICAR]) == "Eicar-Test-Signature.UNOFFICIAL"


def test_a_file_sent_in_several_chunks_is_one_stream(clamd_up):
    assert antivirus.scan_chunks([MALWARE_PDF[:100], MALWARE_PDF[100:]]) == "PTCE-Test-Malware.UNOFFICIAL"


def test_clean_file_gets_no_signature(clamd_up):
    assert antivirus.scan_chunks([CLEAN_PDF]) is None


def test_stream_over_clamds_limit_is_no_verdict(clamd_up):
    with pytest.raises(antivirus.AntivirusUnavailable):
        antivirus.scan_chunks([bytes(STREAM_MAX_BYTES + 1)])


def test_dead_socket_is_no_verdict(clamd_down):
    assert antivirus.ping() is False
    with pytest.raises(antivirus.AntivirusUnavailable, match="unreachable"):
        antivirus.scan_chunks([CLEAN_PDF])


def test_no_antivirus_configured(settings):
    settings.CLAMD_SOCKET = ""
    settings.CLAMD_HOST = ""

    assert antivirus.is_configured() is False


# --- Uploads with clamd up ---


def test_eicar_upload_is_refused_next_to_the_field(clamd_up, owner_client, dossier, media):
    response = post_upload(owner_client, dossier, EICAR, name="eicar.pdf")

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [infected_message("Eicar-Test-Signature.UNOFFICIAL")]}
    assert (Attachment.objects.count(), stored_files(media)) == (0, [])


def test_malware_pdf_upload_is_refused(clamd_up, owner_client, dossier, media):
    response = post_upload(owner_client, dossier, MALWARE_PDF)

    assert response.context["form"].errors == {"file": [infected_message("PTCE-Test-Malware.UNOFFICIAL")]}
    assert (Attachment.objects.count(), stored_files(media)) == (0, [])


def test_clean_upload_is_stored_scanned_and_downloadable(clamd_up, owner_client, dossier):
    response = post_upload(owner_client, dossier, CLEAN_PDF)

    attachment = Attachment.objects.get()
    download = owner_client.get(download_url(attachment))
    assert [str(message) for message in response.context["messages"]] == ["La pièce « statuts.pdf » a été déposée."]
    assert (attachment.scan_status, attachment.scanned_at is not None) == (Attachment.ScanStatus.CLEAN, True)
    assert (download.status_code, b"".join(download.streaming_content)) == (200, CLEAN_PDF)
    assert Job.objects.count() == 0


# --- clamd down: fail closed, scan later through the outbox ---

PENDING_MESSAGE = (
    "La pièce « statuts.pdf » a été reçue et est en attente d'analyse antivirus : l'analyse n'est pas "
    "disponible pour le moment et sera faite automatiquement. D'ici là, la pièce ne peut être ni "
    "téléchargée ni prise en compte pour le dépôt du dossier."
)


def test_upload_while_clamd_is_down_waits_unusable(clamd_down, owner_client, dossier):
    response = post_upload(owner_client, dossier, CLEAN_PDF)

    attachment = Attachment.objects.get()
    job = Job.objects.get()
    content = response.content.decode()
    assert [str(message) for message in response.context["messages"]] == [PENDING_MESSAGE]
    assert attachment.scan_status == Attachment.ScanStatus.PENDING
    assert "En attente d'analyse" in content
    assert f'href="{download_url(attachment)}"' not in content
    assert owner_client.get(download_url(attachment)).status_code == 404
    assert (job.task_name, job.kwargs, job.status) == (
        "applications.tasks.scan_attachment_task",
        {"attachment_id": attachment.pk},
        Job.Status.PENDING,
    )


def test_pending_attachment_blocks_submission(clamd_down, db, media):
    dossier = complete_dossier()
    extra = SimpleUploadedFile("annexe.pdf", CLEAN_PDF)
    add_attachment(dossier, uploaded_file=extra, by=dossier.consortium.created_by)

    with pytest.raises(SubmissionRefused) as refused:
        submit_dossier(dossier, by=dossier.consortium.created_by)

    assert refused.value.reasons == ["Pièce jointe en attente d'analyse antivirus : annexe.pdf"]
    assert Dossier.objects.get(pk=dossier.pk).current_submission is None


def test_submitting_through_the_page_with_a_pending_attachment_is_refused_in_french(clamd_down, client, db, media):
    dossier = complete_dossier()
    owner = dossier.consortium.created_by
    add_attachment(dossier, uploaded_file=SimpleUploadedFile("annexe.pdf", CLEAN_PDF), by=owner)
    sign_in(client, owner)

    response = client.post(reverse("applications:dossier-submit", args=[dossier.pk]))

    assert Dossier.objects.get(pk=dossier.pk).current_submission is None
    assert (
        "Pièce jointe en attente d&#x27;analyse antivirus : annexe.pdf"
        in client.get(response["Location"]).content.decode()
    )


def test_scan_while_clamd_is_still_down_raises_for_a_retry(clamd_down, owner_client, dossier):
    post_upload(owner_client, dossier, CLEAN_PDF)
    attachment = Attachment.objects.get()

    with pytest.raises(antivirus.AntivirusUnavailable):
        scan_attachment(attachment.pk)

    attachment.refresh_from_db()
    assert attachment.scan_status == Attachment.ScanStatus.PENDING
    assert (scan_attachment_task.autoretry_for, scan_attachment_task.max_retries) == (
        OUTBOX_RETRY["autoretry_for"],
        OUTBOX_RETRY["max_retries"],
    )


def test_clamd_back_the_job_scans_the_file_clean(clamd_down, settings, clamd, owner_client, dossier):
    post_upload(owner_client, dossier, CLEAN_PDF)
    attachment = Attachment.objects.get()
    waiting = [item.label for item in missing_items(dossier) if "antivirus" in item.label]
    settings.CLAMD_SOCKET = str(clamd.socket)  # clamd is back

    ran = run_pending_jobs()

    attachment.refresh_from_db()
    download = owner_client.get(download_url(attachment))
    assert (ran, Job.objects.get().status) == (1, Job.Status.DONE)
    assert (attachment.scan_status, attachment.scanned_at is not None, attachment.removed_at) == (
        Attachment.ScanStatus.CLEAN,
        True,
        None,
    )
    assert (download.status_code, b"".join(download.streaming_content)) == (200, CLEAN_PDF)
    assert waiting == ["Pièce jointe en attente d'analyse antivirus : statuts.pdf"]
    assert [item.label for item in missing_items(dossier) if "antivirus" in item.label] == []


def test_later_scan_finding_malware_removes_the_file(
    clamd_down, settings, clamd, owner_client, dossier, django_capture_on_commit_callbacks
):
    post_upload(owner_client, dossier, MALWARE_PDF)
    attachment = Attachment.objects.get()
    assert default_storage.exists(attachment.file.name)
    settings.CLAMD_SOCKET = str(clamd.socket)

    with django_capture_on_commit_callbacks(execute=True):
        run_pending_jobs()
    scanned_twice = scan_attachment(attachment.pk)

    attachment.refresh_from_db()
    assert (attachment.scan_status, attachment.scan_signature) == (
        Attachment.ScanStatus.INFECTED,
        "PTCE-Test-Malware.UNOFFICIAL",
    )
    assert (attachment.removed_at is not None, default_storage.exists(attachment.file.name)) == (True, False)
    assert owner_client.get(download_url(attachment)).status_code == 404
    assert [t.code for t in owner_client.get(list_url(dossier)).context["missing"]] == ["statuts", "budget"]
    assert scanned_twice is None


def test_without_antivirus_uploads_are_marked_not_scanned_and_usable(settings, owner_client, dossier):
    settings.CLAMD_SOCKET = ""
    settings.CLAMD_HOST = ""

    post_upload(owner_client, dossier, CLEAN_PDF)

    attachment = Attachment.objects.get()
    download = owner_client.get(download_url(attachment))
    assert (attachment.scan_status, download.status_code, b"".join(download.streaming_content)) == (
        Attachment.ScanStatus.NOT_SCANNED,
        200,
        CLEAN_PDF,
    )


def test_private_download_refuses_a_pending_file_whichever_view_asks(clamd_down, owner_client, dossier):
    # The reviewers' admin serves attachments through the same function as the applicants' page.
    post_upload(owner_client, dossier, CLEAN_PDF)
    attachment = Attachment.objects.get()

    with pytest.raises(Http404):
        private_download(attachment.file, attachment.original_name, attachment.content_type)

    Attachment.objects.filter(pk=attachment.pk).update(scan_status=Attachment.ScanStatus.CLEAN)
    attachment.refresh_from_db()
    response = private_download(attachment.file, attachment.original_name, attachment.content_type)
    content = b"".join(response.streaming_content)
    response.close()  # what the server does once the response is sent
    assert content == CLEAN_PDF
