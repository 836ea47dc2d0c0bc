"""Files on S3-compatible storage (django-storages) against a real S3 API server
(moto in server mode, started here): a report finalized by a worker process is
served by a web process; the two share no disk (different MEDIA_ROOTs, both
left empty)."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from django.db import transaction

from conftest import PASSWORD, free_port
from patolab.jobs.models import Job, JobState
from patolab.protocols.tests.factories import make_received
from patolab.reports.services import report_create, report_request_finalize

pytestmark = pytest.mark.integration
MOTO = shutil.which("moto_server") or str(
    Path(__file__).parents[2] / ".venv/bin/moto_server"
)
BUCKET = "patolab-test"


@pytest.fixture
def s3_server(tmp_path):
    port = free_port()
    log = (tmp_path / "moto.log").open("wb")
    proc = subprocess.Popen(
        [MOTO, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.2)
    import boto3

    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=BUCKET)
    yield endpoint, s3
    proc.terminate()
    proc.wait(timeout=10)


def test_a_pdf_rendered_by_a_worker_is_served_by_a_web_process_without_shared_disk(
    s3_server,
    worker_process,
    web_process,
    settings,
    tmp_path,
    vet_owner,
    technician,
    pathologist,
    wait,
):
    endpoint, s3 = s3_server
    storage_url = f"s3://{BUCKET}/media?endpoint_url={endpoint}&region=us-east-1"
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    worker_disk = tmp_path / "worker-disk"
    web_disk = tmp_path / "web-disk"
    worker_disk.mkdir()
    web_disk.mkdir()
    worker_process(
        "s3-worker", STORAGE_URL=storage_url, MEDIA_ROOT=str(worker_disk), **creds
    )
    web = web_process(
        "s3-web", STORAGE_URL=storage_url, MEDIA_ROOT=str(web_disk), **creds
    )

    protocol = make_received(vet_owner, technician)
    report = report_create(
        protocol=protocol,
        histopathologist=pathologist,
        macroscopic="Fragmento de piel.",
        microscopic="Sin atipias.",
        diagnosis="Dermatitis crónica.",
    )
    with transaction.atomic():
        job = report_request_finalize(report=report, user=pathologist)
    wait(
        lambda: Job.objects.get(pk=job.pk).state
        in (JobState.SUCCEEDED, JobState.FAILED),
        timeout=90,
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    report.refresh_from_db()

    # The file is in the bucket, nowhere on either process's disk.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert f"media/{report.pdf_file}" in keys
    assert not any(worker_disk.rglob("*.pdf"))

    token = requests.post(
        f"{web.url}/api/v1/auth/token",
        json={"username": vet_owner.username, "password": PASSWORD},
        timeout=60,
    ).json()["token"]
    response = requests.get(
        f"{web.url}/api/v1/reports/{report.pk}/pdf",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert hashlib.sha256(response.content).hexdigest() == report.pdf_sha256
    assert not any(web_disk.rglob("*"))
