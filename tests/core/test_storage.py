"""Storage: the same behaviour on local disk and on S3 (moto on loopback), plus each backend's own rules."""

from __future__ import annotations

import hashlib
import random
import socket
import threading
import tracemalloc
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import itsdangerous.timed
import pytest
from flask import Flask
from werkzeug.http import parse_options_header

from lms.core.storage import (
    DEFAULT_CONTENT_TYPE,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    StorageUnavailable,
    bp,
    get_storage,
    init_storage,
    storage_from_url,
    validate_key,
)
from tests.fixtures.s3 import s3_server, s3_storage  # noqa: F401

MIB = 1024 * 1024
CYRILLIC_KEY = "курсы/Иванов Иван/сертификат №1.pdf"


# ---------------------------------------------------------------------------------------------------------
# Helpers and fixtures


def payload(size: int, seed: int = 7, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """Deterministic pseudo-random bytes, produced a chunk at a time."""
    rng = random.Random(seed)
    sent = 0
    while sent < size:
        block = rng.randbytes(min(chunk, size - sent))
        sent += len(block)
        yield block


def sha256_of(chunks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


class GeneratedStream:
    """A file-like object over a generator: no len, seek, tell or buffer, so nothing can learn the size.
    Records every read() size, and can break after ``fail_after`` bytes like a client that went away."""

    def __init__(self, chunks: Iterator[bytes], fail_after: int | None = None):
        self._chunks = chunks
        self._buffer = bytearray()
        self._fail_after = fail_after
        self.delivered = 0
        self.read_sizes: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.read_sizes.append(size)
        if self._fail_after is not None and self.delivered >= self._fail_after:
            raise ConnectionResetError("client went away")
        if size is None or size < 0:
            data = bytes(self._buffer) + b"".join(self._chunks)
            self._buffer.clear()
        else:
            while len(self._buffer) < size and (chunk := next(self._chunks, None)) is not None:
                self._buffer += chunk
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
        self.delivered += len(data)
        return data


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    storage = storage_from_url(f"file://{tmp_path / 'store'}", secret_key="x")
    assert isinstance(storage, LocalStorage)
    return storage


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request: pytest.FixtureRequest) -> Storage:
    return request.getfixturevalue(f"{request.param}_storage")


@pytest.fixture
def files_app(tmp_path: Path) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret", STORAGE_URL=f"file://{tmp_path / 'files'}", TESTING=True)
    init_storage(app)
    app.register_blueprint(bp)
    return app


@pytest.fixture
def app_storage(files_app: Flask) -> LocalStorage:
    with files_app.app_context():
        storage = get_storage()
    assert isinstance(storage, LocalStorage)
    return storage


def disposition(header: str) -> tuple[str, str | None]:
    kind, params = parse_options_header(header)
    return kind, params.get("filename")  # werkzeug prefers the decoded filename* value


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------------------
# The same behaviour on both backends


def test_put_then_read_back(storage: Storage) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    stored = storage.put_bytes("course-1/notes.pdf", b"%PDF-1.7 hello", content_type="application/pdf")

    info = storage.stat("course-1/notes.pdf")
    assert (info.key, info.size, info.content_type) == ("course-1/notes.pdf", 14, "application/pdf")
    assert stored == info
    assert info.etag
    assert info.modified is not None and info.modified.tzinfo is not None
    assert before < info.modified < datetime.now(UTC) + timedelta(minutes=1)
    assert storage.exists("course-1/notes.pdf")
    assert storage.get_bytes("course-1/notes.pdf") == b"%PDF-1.7 hello"
    chunks = list(storage.iter_chunks("course-1/notes.pdf", chunk_size=4))
    assert b"".join(chunks) == b"%PDF-1.7 hello" and max(map(len, chunks)) <= 4


def test_default_content_type(storage: Storage) -> None:
    storage.put_bytes("blob", b"x")
    assert storage.stat("blob").content_type == DEFAULT_CONTENT_TYPE


def test_missing_object(storage: Storage) -> None:
    assert not storage.exists("nope/missing.txt")
    with pytest.raises(ObjectNotFound):
        storage.stat("nope/missing.txt")
    with pytest.raises(ObjectNotFound):
        storage.get_bytes("nope/missing.txt")
    with pytest.raises(ObjectNotFound):
        storage.iter_chunks("nope/missing.txt")  # raised by the call, before any chunk is produced


def test_overwrite_replaces_bytes_and_type(storage: Storage) -> None:
    first = storage.put_bytes("a/file", b"one", content_type="text/plain")
    second = storage.put_bytes("a/file", b"second", content_type="image/png")
    assert storage.get_bytes("a/file") == b"second"
    assert storage.stat("a/file").content_type == "image/png"
    assert second.etag != first.etag


def test_delete_is_idempotent(storage: Storage) -> None:
    storage.put_bytes("tmp/x.txt", b"x")
    storage.delete("tmp/x.txt")
    assert not storage.exists("tmp/x.txt")
    storage.delete("tmp/x.txt")
    storage.delete("never/existed")
    assert list(storage.list()) == []


def test_list_by_prefix(storage: Storage) -> None:
    keys = ["course-1/a.txt", "course-1/sub/b.txt", "course-10/c.txt", "other/d.txt"]
    for number, key in enumerate(keys):
        storage.put_bytes(key, b"x" * (number + 1), content_type="text/plain")

    listed = list(storage.list())
    assert [item.key for item in listed] == keys  # in key order, and no sidecar or temporary file
    assert [item.size for item in listed] == [1, 2, 3, 4]
    assert all(item.modified is not None and item.etag for item in listed)
    assert [item.key for item in storage.list("course-1/")] == keys[:2]
    assert [item.key for item in storage.list("course-1")] == keys[:3]
    assert [item.key for item in storage.list("course-1/sub/")] == ["course-1/sub/b.txt"]
    assert list(storage.list("none/")) == []


def test_unknown_length_stream_round_trips(storage: Storage) -> None:
    size = 12 * MIB
    stream = GeneratedStream(payload(size))
    stored = storage.put("big/video.bin", stream, content_type="video/mp4")  # type: ignore[arg-type]

    assert stored.size == size
    assert storage.stat("big/video.bin").content_type == "video/mp4"
    assert sha256_of(storage.iter_chunks("big/video.bin")) == sha256_of(payload(size))
    assert all(0 < requested <= 16 * MIB for requested in stream.read_sizes)
    if isinstance(storage, S3Storage):
        # An S3 multipart upload's ETag is "<md5 of part md5s>-<part count>": 12 MiB in 5 MiB parts → 3.
        assert stored.etag is not None and stored.etag.endswith("-3")


def test_known_length_stores_exactly_and_refuses_a_short_stream(storage: Storage) -> None:
    stored = storage.put("exact", GeneratedStream(payload(100)), length=100)  # type: ignore[arg-type]
    assert stored.size == 100
    with pytest.raises(ValueError, match="before the announced length"):
        storage.put("short", GeneratedStream(payload(10)), length=20)  # type: ignore[arg-type]
    assert not storage.exists("short")


def test_broken_upload_keeps_the_previous_version(storage: Storage) -> None:
    storage.put_bytes("cert/1.pdf", b"old version", content_type="application/pdf")
    broken = GeneratedStream(payload(8 * MIB), fail_after=6 * MIB)  # past the first S3 part
    with pytest.raises(ConnectionResetError):
        storage.put("cert/1.pdf", broken, content_type="text/plain")  # type: ignore[arg-type]
    assert storage.get_bytes("cert/1.pdf") == b"old version"
    assert storage.stat("cert/1.pdf").content_type == "application/pdf"
    if isinstance(storage, LocalStorage):
        assert list((storage.root / "tmp").iterdir()) == []


def test_cyrillic_keys(storage: Storage) -> None:
    storage.put_bytes(CYRILLIC_KEY, "Сертификат".encode(), content_type="application/pdf")
    storage.put_bytes("курсы/Петров/эссе.txt", b"x")
    assert storage.get_bytes(CYRILLIC_KEY).decode() == "Сертификат"
    assert storage.stat(CYRILLIC_KEY).content_type == "application/pdf"
    assert [item.key for item in storage.list("курсы/Иванов")] == [CYRILLIC_KEY]
    storage.delete(CYRILLIC_KEY)
    assert not storage.exists(CYRILLIC_KEY)


BAD_KEYS = [
    "", "/etc/passwd", "a\\b", "a\x00b", "a\nb", "tab\there", "del\x7f", "a//b", "a/./b", "../up", "a/..",
    "a/", ".", "x" * 1025, "я" * 513, "bad\ud800",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_are_rejected_everywhere(storage: Storage, key: str) -> None:
    calls = [
        lambda: storage.put_bytes(key, b"x"),
        lambda: storage.stat(key),
        lambda: storage.exists(key),
        lambda: storage.get_bytes(key),
        lambda: storage.iter_chunks(key),
        lambda: storage.delete(key),
        lambda: storage.presigned_url(key),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="storage key"):
            call()


def test_key_length_is_counted_in_utf8_bytes() -> None:
    assert validate_key("я" * 512) == "я" * 512  # 1024 bytes: the limit itself
    with pytest.raises(ValueError, match="1024 bytes"):
        validate_key("я" * 513)


@pytest.mark.parametrize("prefix", ["/abs", "a//", "../", "a\\b"])
def test_invalid_prefixes_are_rejected(storage: Storage, prefix: str) -> None:
    with pytest.raises(ValueError, match="storage prefix"):
        list(storage.list(prefix))


@pytest.mark.parametrize("expires", [timedelta(0), timedelta(milliseconds=500), timedelta(seconds=-5),
                                     timedelta(days=7, seconds=1)])
def test_presigned_lifetime_bounds(storage: Storage, expires: timedelta) -> None:
    with pytest.raises(ValueError, match="between 1 second and 7 days"):
        storage.presigned_url("a.txt", expires=expires)


def test_check_passes_on_a_working_backend(storage: Storage) -> None:
    storage.check()


# ---------------------------------------------------------------------------------------------------------
# Local disk


def test_local_put_reads_in_bounded_chunks_and_memory(local_storage: LocalStorage) -> None:
    stream = GeneratedStream(payload(12 * MIB))
    tracemalloc.start()
    try:
        local_storage.put("big.bin", stream)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The strict check: every read asked for at most 1 MiB (read() or read(-1) would fail it).
    assert stream.read_sizes and all(0 < size <= MIB for size in stream.read_sizes)
    # tracemalloc counts the whole process (the S3 test server's thread too), so this bound is loose:
    # reading the 12 MiB stream whole would need at least 12 MiB.
    assert peak < 12 * MIB
    assert local_storage.stat("big.bin").size == 12 * MIB


def test_local_sidecars_and_temp_files_stay_out_of_the_object_tree(local_storage: LocalStorage) -> None:
    local_storage.put_bytes("doc.txt", b"x", content_type="text/plain")
    assert [item.key for item in local_storage.list()] == ["doc.txt"]
    assert sorted(p.name for p in (local_storage.root / "objects").rglob("*")) == ["doc.txt"]
    assert list((local_storage.root / "tmp").iterdir()) == []


def test_local_symlink_cannot_lead_outside_the_root(local_storage: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    objects = local_storage.root / "objects"
    (objects / "evil").symlink_to(outside, target_is_directory=True)
    (objects / "link.txt").symlink_to(outside / "secret.txt")

    with pytest.raises(ValueError, match="outside the storage folder"):
        local_storage.put_bytes("evil/planted.txt", b"x")
    with pytest.raises(ValueError, match="outside the storage folder"):
        local_storage.get_bytes("evil/secret.txt")
    with pytest.raises(ValueError, match="outside the storage folder"):
        local_storage.stat("link.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert [item.key for item in local_storage.list()] == []


def test_local_key_and_folder_clash_is_a_storage_error(local_storage: LocalStorage) -> None:
    local_storage.put_bytes("a", b"file")
    with pytest.raises(StorageError, match="clashes") as caught:
        local_storage.put_bytes("a/b", b"x")
    assert not isinstance(caught.value, StorageUnavailable)
    local_storage.delete("a")
    local_storage.put_bytes("a/b", b"x")  # the empty folder left by a delete does not block a key
    local_storage.delete("a/b")
    local_storage.put_bytes("a", b"file again")


def test_local_check_fails_when_the_folder_is_gone(local_storage: LocalStorage) -> None:
    import shutil

    shutil.rmtree(local_storage.root)
    with pytest.raises(StorageUnavailable):
        local_storage.check()


def test_local_download_serves_file_with_headers(files_app: Flask, app_storage: LocalStorage) -> None:
    app_storage.put_bytes(CYRILLIC_KEY, b"%PDF-1.7 body", content_type="application/pdf")
    url = app_storage.presigned_url(CYRILLIC_KEY, download_name="Сертификат Иванова.pdf")
    assert url.startswith("/files/")

    response = files_app.test_client().get(url)
    assert response.status_code == 200
    assert response.data == b"%PDF-1.7 body"
    assert response.mimetype == "application/pdf"
    assert disposition(response.headers["Content-Disposition"]) == ("attachment", "Сертификат Иванова.pdf")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cache = response.headers["Cache-Control"]
    assert "private" in cache and "public" not in cache
    assert 290 <= response.cache_control.max_age <= 300


def test_local_download_inline_only_for_safe_types(files_app: Flask, app_storage: LocalStorage) -> None:
    app_storage.put_bytes("scan.pdf", b"%PDF", content_type="application/pdf")
    app_storage.put_bytes("page.html", b"<script>alert(1)</script>", content_type="text/html")
    client = files_app.test_client()

    pdf = client.get(app_storage.presigned_url("scan.pdf", inline=True))
    assert disposition(pdf.headers["Content-Disposition"]) == ("inline", "scan.pdf")
    # HTML shown inline on our origin would run script with the viewer's session: always a download.
    html = client.get(app_storage.presigned_url("page.html", inline=True))
    assert disposition(html.headers["Content-Disposition"]) == ("attachment", "page.html")


def test_local_url_respects_the_application_root(files_app: Flask, app_storage: LocalStorage) -> None:
    with files_app.test_request_context("/", base_url="http://school.example/lms"):
        url = app_storage.presigned_url("x.txt")
    assert url.startswith("/lms/files/")


def test_local_tampered_token_is_404(files_app: Flask, app_storage: LocalStorage) -> None:
    app_storage.put_bytes("doc.txt", b"x")
    url = app_storage.presigned_url("doc.txt")
    body, signature = url.rsplit(".", 1)
    client = files_app.test_client()
    assert client.get(f"{body}.{signature[::-1]}").status_code == 404
    assert client.get("/files/not-a-token").status_code == 404
    other_key = LocalStorage(app_storage.root, secret_key="another-secret").presigned_url("doc.txt")
    assert client.get(other_key).status_code == 404


def test_local_expired_token_is_403(files_app: Flask, app_storage: LocalStorage,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    app_storage.put_bytes("doc.txt", b"x")
    an_hour_ago = datetime.now(UTC).timestamp() - 3600
    with monkeypatch.context() as clock:
        clock.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: an_hour_ago))
        url = app_storage.presigned_url("doc.txt", expires=timedelta(minutes=5))
    assert files_app.test_client().get(url).status_code == 403


def test_local_short_lived_token_still_works_at_once(files_app: Flask, app_storage: LocalStorage) -> None:
    app_storage.put_bytes("doc.txt", b"x")
    response = files_app.test_client().get(app_storage.presigned_url("doc.txt", expires=timedelta(seconds=1)))
    assert response.status_code == 200
    assert response.cache_control.max_age <= 1


def test_local_download_of_deleted_object_is_404(files_app: Flask, app_storage: LocalStorage) -> None:
    app_storage.put_bytes("doc.txt", b"x")
    url = app_storage.presigned_url("doc.txt")
    app_storage.delete("doc.txt")
    assert files_app.test_client().get(url).status_code == 404


# ---------------------------------------------------------------------------------------------------------
# S3


@pytest.mark.s3
def test_s3_presigned_url_downloads_with_requested_headers(s3_storage: S3Storage) -> None:  # noqa: F811
    s3_storage.put_bytes(CYRILLIC_KEY, b"%PDF-1.7 body", content_type="application/pdf")
    url = s3_storage.presigned_url(CYRILLIC_KEY, download_name="Сертификат Иванова.pdf")
    assert url.startswith("http://127.0.0.1:")

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own loopback server)
        body, headers = response.read(), response.headers
    assert body == b"%PDF-1.7 body"
    assert headers["Content-Type"] == "application/pdf"
    assert disposition(headers["Content-Disposition"]) == ("attachment", "Сертификат Иванова.pdf")
    assert headers["Cache-Control"] == "private, max-age=300"


@pytest.mark.s3
def test_s3_presigned_url_inline(s3_storage: S3Storage) -> None:  # noqa: F811
    s3_storage.put_bytes("scan.png", b"\x89PNG", content_type="image/png")
    url = s3_storage.presigned_url("scan.png", inline=True, expires=timedelta(seconds=30))
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        assert disposition(response.headers["Content-Disposition"]) == ("inline", "scan.png")


@pytest.mark.s3
def test_s3_check_creates_a_missing_bucket(s3_storage: S3Storage) -> None:  # noqa: F811
    s3_storage.check()
    assert list(s3_storage.list()) == []


@pytest.fixture
def hanging_up_port() -> Iterator[tuple[int, list[int]]]:
    """A loopback port that accepts connections and hangs up at once; the list counts the connections."""
    accepted: list[int] = []
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(1)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_s3_unreachable_endpoint_is_storage_unavailable() -> None:
    url = f"s3://k:s@127.0.0.1:{closed_port()}/lms?secure=false&region=us-east-1"
    storage = storage_from_url(url, secret_key="x")  # no network at construction: the app still starts
    with pytest.raises(StorageUnavailable):
        storage.check()
    with pytest.raises(StorageUnavailable):
        storage.stat("a.txt")


def test_s3_check_tries_once_so_healthz_answers_fast(hanging_up_port: tuple[int, list[int]]) -> None:
    port, accepted = hanging_up_port
    storage = storage_from_url(f"s3://k:s@127.0.0.1:{port}/lms?secure=false&region=us-east-1", secret_key="x")
    with pytest.raises(StorageUnavailable):
        storage.check()
    assert len(accepted) == 1  # no retries with back-off behind a health probe


def test_local_download_route_ignores_s3_backend(files_app: Flask) -> None:
    files_app.extensions["lms_storage"] = storage_from_url(
        "s3://k:s@127.0.0.1:9/lms?secure=false&region=us-east-1", secret_key="x")
    assert files_app.test_client().get("/files/whatever").status_code == 404


# ---------------------------------------------------------------------------------------------------------
# Configuration


def test_file_url_creates_the_folder(tmp_path: Path) -> None:
    storage = storage_from_url(f"file://{tmp_path}/new/storage", secret_key="x")
    assert isinstance(storage, LocalStorage)
    assert (tmp_path / "new" / "storage").is_dir()


def test_s3_url_options() -> None:
    default = storage_from_url("s3://k:s@s3.example.ru/lms", secret_key="x")
    assert isinstance(default, S3Storage)
    assert (default.endpoint, default.bucket, default.secure, default.region, default.part_size) == (
        "s3.example.ru", "lms", True, None, 16 * MIB)
    custom = storage_from_url(
        "s3://k:s@storage.yandexcloud.net:443/lms-files?secure=true&region=ru-central1&part_size_mb=32",
        secret_key="x")
    assert isinstance(custom, S3Storage)
    assert (custom.endpoint, custom.secure, custom.region, custom.part_size) == (
        "storage.yandexcloud.net:443", True, "ru-central1", 32 * MIB)
    plain = storage_from_url("s3+http://k:s@minio:9000/lms", secret_key="x")
    assert isinstance(plain, S3Storage) and plain.secure is False
    tls = storage_from_url("s3+https://k:s@minio:9000/lms", secret_key="x")
    assert isinstance(tls, S3Storage) and tls.secure is True


def test_s3_url_credentials_are_unquoted() -> None:
    storage = storage_from_url("s3://te%40st:se%2Fcr%3Aet@127.0.0.1:9/lms?secure=false&region=us-east-1",
                               secret_key="x")
    assert isinstance(storage, S3Storage)
    url = storage.presigned_url("a.txt")  # signing needs no network once the region is known
    assert "X-Amz-Credential=te%40st%2F" in url
    credentials = storage._client._provider.retrieve()  # the secret never appears in a URL; look inside
    assert (credentials.access_key, credentials.secret_key) == ("te@st", "se/cr:et")


@pytest.mark.parametrize("url", [
    "",
    "/var/lib/lms",
    "file://relative/path",
    "file:///abs/path?x=1",
    "http://host/bucket",
    "s3://TOPSECRET@host/bucket",
    "s3://k:TOPSECRET@host",
    "s3://k:TOPSECRET@host/bucket/extra",
    "s3://k:TOPSECRET@host/bucket?part_size_mb=4",
    "s3://k:TOPSECRET@host/bucket?part_size_mb=lots",
    "s3://k:TOPSECRET@host/bucket?secure=maybe",
    "s3://k:TOPSECRET@host/bucket?bogus=1",
    "s3+https://k:TOPSECRET@host/bucket?secure=false",
    "s3://k:TOPSECRET@host/Bad_Bucket!",
])
def test_bad_storage_urls_name_the_variable_and_hide_the_secret(url: str) -> None:
    with pytest.raises(ValueError, match="LMS_STORAGE_URL") as caught:
        storage_from_url(url, secret_key="x")
    assert "file:///absolute/path" in str(caught.value)
    assert "TOPSECRET" not in str(caught.value)
