"""File storage: one interface, two backends.

Uploads, certificates, portfolio evidence and import files all go through :class:`Storage`:

* :class:`LocalStorage` — a folder on the server's disk (the embedded default, ``file:///path``);
  downloads are served by this module's ``files`` blueprint through signed, short-lived tokens.
* :class:`S3Storage` — any plain S3 endpoint through the ``minio`` client (``s3://…``). Only the S3
  protocol is used (no MinIO admin API), so MinIO, Ceph RGW, SeaweedFS and Yandex Object Storage all work;
  downloads go straight to S3 through presigned URLs.

The backend is chosen by ``LMS_STORAGE_URL`` (``app.config["STORAGE_URL"]``), see :func:`storage_from_url`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat as stat_mode
import tempfile
import threading
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import parse_qs, quote, unquote, urlsplit

import urllib3
from flask import Blueprint, Flask, Response, abort, current_app, has_request_context, send_file, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import check_bucket_name

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_KEY_BYTES = 1024
MIN_EXPIRES = timedelta(seconds=1)
MAX_EXPIRES = timedelta(days=7)  # the longest lifetime an S3 presigned URL may have
MIB = 1024 * 1024
FILES_SALT = "lms-files"  # namespaces download tokens; not a secret


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str
    etag: str | None = None
    modified: datetime | None = None  # aware UTC


class StorageError(Exception):
    """A storage operation failed."""


class StorageUnavailable(StorageError):
    """The backend is unreachable or misconfigured (answer 503, not 500)."""


class ObjectNotFound(StorageError):
    """No object under this key."""


# ---------------------------------------------------------------------------------------------------------
# Validation shared by every backend


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe object name, else raise ValueError.

    A key is a non-empty string of at most 1024 UTF-8 bytes, with no leading "/", no backslash, no control
    character (NUL included) and no empty, "." or ".." segment between slashes. The same rule on both
    backends means a key that works on a laptop's disk also works on S3, and the reverse.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("storage key must be a non-empty string")
    _check_characters(key, "storage key")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValueError(f"storage key is longer than {MAX_KEY_BYTES} bytes in UTF-8")
    if key.startswith("/"):
        raise ValueError(f"storage key must not start with '/': {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"storage key has an empty, '.' or '..' segment: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return a listing ``prefix`` if it could start a valid key ("" lists everything), else ValueError."""
    if not isinstance(prefix, str):
        raise ValueError("storage prefix must be a string")
    if prefix:
        _check_characters(prefix, "storage prefix")
        # Every segment the prefix names in full must be valid; the last one may be a partial name.
        folder = prefix.rpartition("/")[0]
        if prefix.startswith("/") or (folder and not _is_valid_key(folder)):
            raise ValueError(f"storage prefix cannot start any valid key: {prefix!r}")
    return prefix


def _check_characters(text: str, what: str) -> None:
    if "\\" in text:
        raise ValueError(f"{what} must not contain a backslash: {text!r}")
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValueError(f"{what} must not contain control characters: {text!r}")
        if category == "Cs":
            raise ValueError(f"{what} is not valid Unicode: {text!r}")


def _is_valid_key(key: str) -> bool:
    try:
        validate_key(key)
    except ValueError:
        return False
    return True


def _validate_content_type(content_type: str) -> str:
    # It becomes a response header: a CR/LF in it would let an uploader inject headers.
    if not isinstance(content_type, str) or "/" not in content_type or len(content_type) > 255:
        raise ValueError(f"content type must look like 'type/subtype': {content_type!r}")
    _check_characters(content_type, "content type")
    return content_type


def _expiry_seconds(expires: timedelta) -> int:
    if not MIN_EXPIRES <= expires <= MAX_EXPIRES:
        raise ValueError("presigned URL lifetime must be between 1 second and 7 days")
    return int(expires.total_seconds())


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError("chunk_size must be a positive number of bytes")


class _BoundedReader:
    """The caller's stream as put() reads it.

    With a ``length`` it yields exactly that many bytes and refuses a stream that ends early, so a cut-off
    upload is never stored as if complete. It never reads more than asked, so nothing buffers the whole file.
    ``failed`` tells a broken source (a client that went away) from a broken disk.
    """

    def __init__(self, stream: BinaryIO, length: int | None):
        if length is not None and length < 0:
            raise ValueError("length must be None (unknown) or a non-negative number of bytes")
        self._stream = stream
        self._remaining = length
        self.failed = False

    def read(self, size: int) -> bytes:
        if size is None or size < 0:
            raise ValueError("storage reads streams in bounded chunks")
        want = size if self._remaining is None else min(size, self._remaining)
        data = self._read(want) if want else b""
        if self._remaining is not None:
            if not data and self._remaining:
                raise ValueError(f"stream ended {self._remaining} bytes before the announced length")
            self._remaining -= len(data)
        return data

    def _read(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except BaseException:
            self.failed = True
            raise


# ---------------------------------------------------------------------------------------------------------
# Download headers


_INLINE_SAFE_PREFIXES = ("image/", "video/", "audio/")
_INLINE_SAFE_TYPES = {"application/pdf", "text/plain"}


def inline_is_safe(content_type: str) -> bool:
    """Whether a browser may show this type inline on our origin: no HTML, SVG, XML or script,
    which would run with the user's session."""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "image/svg+xml":
        return False
    return mime in _INLINE_SAFE_TYPES or mime.startswith(_INLINE_SAFE_PREFIXES)


def content_disposition(download_name: str, *, inline: bool = False) -> str:
    """A Content-Disposition value with an ASCII ``filename`` for old clients and the exact name,
    Cyrillic included, in an RFC 5987 ``filename*`` (UTF-8, percent-encoded)."""
    kind = "inline" if inline else "attachment"
    # Control characters (CR/LF above all) would split the header.
    name = "".join(char for char in download_name if unicodedata.category(char) != "Cc")
    if not name:
        return kind
    return f"{kind}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def _ascii_fallback(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(char for char in ascii_name if char.isprintable() and char not in '"\\/;').strip()
    if not ascii_name.strip(" ._-") or ascii_name.startswith("."):
        # An all-Cyrillic name leaves nothing (or only ".pdf"): keep at least the extension.
        suffix = PurePosixPath(name).suffix
        ascii_name = "download" + (suffix if suffix.isascii() else "")
    return ascii_name


def _download_name(key: str, download_name: str | None) -> str:
    return download_name if download_name else key.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------------------
# The interface


class Storage(ABC):
    """Where the application keeps files. Keys are "/"-separated names, see :func:`validate_key`."""

    @abstractmethod
    def put(self, key: str, stream: BinaryIO, *, length: int | None = None,
            content_type: str = DEFAULT_CONTENT_TYPE) -> StoredObject:
        """Store ``stream`` under ``key``, replacing any object there.

        Reads the stream in bounded chunks, never whole. ``length=None`` means unknown (an upload without
        Content-Length); with a length, exactly that many bytes are stored and a shorter stream is a
        ValueError. Either the whole new object is stored or the old one stays: never a half file.
        """

    def put_bytes(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE) -> StoredObject:
        """Store a small payload already in memory (a generated certificate, a report)."""
        return self.put(key, io.BytesIO(data), length=len(data), content_type=content_type)

    @abstractmethod
    def iter_chunks(self, key: str, chunk_size: int = MIB) -> Iterator[bytes]:
        """Stream the object's bytes. ObjectNotFound is raised by this call, before any chunk."""

    def get_bytes(self, key: str) -> bytes:
        """The whole object in memory: only for small objects."""
        return b"".join(self.iter_chunks(key))

    @abstractmethod
    def stat(self, key: str) -> StoredObject:
        """Size, content type (as given to put), etag and modification time; ObjectNotFound if absent."""

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; deleting an absent key is not an error (retries and cleanups repeat)."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Objects whose key starts with ``prefix``, in key order (UTF-8 bytes).

        ``content_type`` is always DEFAULT_CONTENT_TYPE here: S3 listings do not carry it, and both
        backends answer the same. Call stat() for the stored type.
        """

    @abstractmethod
    def presigned_url(self, key: str, *, expires: timedelta = timedelta(minutes=5),
                      download_name: str | None = None, inline: bool = False) -> str:
        """A URL that downloads the object without login for ``expires`` (1 second to 7 days).

        The response carries Content-Disposition (attachment unless ``inline``) naming ``download_name``,
        or the key's last segment, with the exact UTF-8 name in ``filename*``.
        """

    @abstractmethod
    def check(self) -> None:
        """Raise StorageUnavailable unless the backend can be used right now (for GET /healthz)."""


# ---------------------------------------------------------------------------------------------------------
# Local disk


@dataclass(frozen=True)
class DownloadGrant:
    """What a verified download token allows."""

    key: str
    download_name: str | None
    inline: bool
    seconds_left: int


class LocalStorage(Storage):
    """Objects in ``root/objects/<key>``; their content types in ``root/meta/<key>`` (JSON).

    Uploads are written to ``root/tmp`` and renamed into place. That folder is on the same filesystem as
    the objects, so the rename is atomic, and in-progress files never show up in list() or clash with a key.
    Limitation of a filesystem: keys "a" and "a/b" cannot both exist (StorageError on put).
    """

    def __init__(self, root: str | os.PathLike[str], *, secret_key: str, chunk_size: int = MIB):
        _check_chunk_size(chunk_size)
        if not secret_key:
            raise ValueError("LocalStorage needs the app's SECRET_KEY to sign download links")
        self.root = Path(root).resolve()
        self.chunk_size = chunk_size
        self._secret_key = secret_key
        try:
            for name in ("objects", "meta", "tmp"):
                (self.root / name).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot create the storage folder {self.root}: {exc}") from exc
        self._objects = (self.root / "objects").resolve()
        self._meta = (self.root / "meta").resolve()
        self._tmp = (self.root / "tmp").resolve()

    # -- paths

    def path_for(self, key: str) -> Path:
        """The file holding ``key``; ValueError if the key is invalid or would resolve outside the root
        (through a symlink, say)."""
        return self._inside(self._objects, key)

    def _meta_path(self, key: str) -> Path:
        return self._inside(self._meta, key)

    @staticmethod
    def _inside(base: Path, key: str) -> Path:
        validate_key(key)
        if any(len(segment.encode("utf-8")) > 255 for segment in key.split("/")):
            raise ValueError("storage key has a segment longer than 255 bytes, too long for a file name")
        path = (base / key).resolve()
        if not path.is_relative_to(base) or path == base:
            raise ValueError(f"storage key resolves outside the storage folder: {key!r}")
        return path

    # -- writing

    def put(self, key: str, stream: BinaryIO, *, length: int | None = None,
            content_type: str = DEFAULT_CONTENT_TYPE) -> StoredObject:
        path, meta = self.path_for(key), self._meta_path(key)
        _validate_content_type(content_type)
        reader = _BoundedReader(stream, length)
        with _disk_errors(key, reader):
            tmp = self._write_temp(lambda out: _copy(reader, out, self.chunk_size))
            try:
                # Data first: a crash between the two renames leaves the right bytes with an old type.
                self._move_into_place(tmp, path)
            except BaseException:
                _unlink_quietly(tmp)
                raise
            self._move_into_place(self._write_temp(lambda out: _write_meta(out, content_type)), meta)
        return self.stat(key)

    def _write_temp(self, write: Callable[[BinaryIO], None]) -> Path:
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())  # the bytes are on disk before the rename makes them visible
        except BaseException:
            _unlink_quietly(Path(name))
            raise
        return Path(name)

    @staticmethod
    def _move_into_place(tmp: Path, path: Path) -> None:
        for _attempt in range(3):
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(tmp, path)
                return
            except FileNotFoundError:
                # A concurrent delete pruned the (then empty) folder between mkdir and replace.
                continue
        raise StorageError(f"could not create the folder for {path}")

    def delete(self, key: str) -> None:
        for base, path in ((self._objects, self.path_for(key)), (self._meta, self._meta_path(key))):
            with _disk_errors(key):
                with suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    path.unlink()
                _prune_empty_folders(path.parent, base)

    # -- reading

    def stat(self, key: str) -> StoredObject:
        path = self.path_for(key)
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat_mode.S_ISREG(info.st_mode):
            raise ObjectNotFound(key)
        return StoredObject(key, info.st_size, self._content_type(key), _local_etag(info),
                            datetime.fromtimestamp(info.st_mtime, UTC))

    def _content_type(self, key: str) -> str:
        try:
            return json.loads(self._meta_path(key).read_text("utf-8"))["content_type"]
        except (OSError, ValueError, KeyError, TypeError):
            return DEFAULT_CONTENT_TYPE  # a file put there by hand, or a crash between the two renames

    def iter_chunks(self, key: str, chunk_size: int = MIB) -> Iterator[bytes]:
        _check_chunk_size(chunk_size)
        path = self.path_for(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        return _read_chunks(handle, chunk_size)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        validate_prefix(prefix)
        folder = prefix.rpartition("/")[0]
        start = self._inside(self._objects, folder) if folder else self._objects
        keys = [key for key in _walk_keys(start, self._objects) if key.startswith(prefix)]
        for key in sorted(keys, key=lambda k: k.encode("utf-8")):
            try:
                info = self.path_for(key).stat()
            except (ValueError, OSError):
                continue  # deleted meanwhile, or a hand-placed file whose name is not a valid key
            yield StoredObject(key, info.st_size, DEFAULT_CONTENT_TYPE, _local_etag(info),
                               datetime.fromtimestamp(info.st_mtime, UTC))

    def check(self) -> None:
        """Writable: a probe file is created and removed (catches a full disk or a read-only remount)."""
        try:
            with tempfile.NamedTemporaryFile(dir=self._tmp, prefix="check-") as probe:
                probe.write(b"ok")
                probe.flush()
        except OSError as exc:
            raise StorageUnavailable(f"local storage {self.root} is not writable: {exc}") from exc
        if not self._objects.is_dir():
            raise StorageUnavailable(f"local storage folder {self._objects} is missing")

    # -- downloads through the files blueprint

    def presigned_url(self, key: str, *, expires: timedelta = timedelta(minutes=5),
                      download_name: str | None = None, inline: bool = False) -> str:
        """A ``/files/<token>`` URL of this app; the token is signed with SECRET_KEY and carries the key,
        the download name, the inline flag and the lifetime."""
        validate_key(key)
        payload = {"k": key, "n": download_name, "i": bool(inline), "e": _expiry_seconds(expires)}
        token = _token_serializer(self._secret_key).dumps(payload)
        if has_request_context():
            return url_for("files.download", token=token, _external=False)
        return f"/files/{token}"

    def verify_token(self, token: str) -> DownloadGrant:
        """The grant a token carries. BadSignature if forged or altered, SignatureExpired if too old."""
        serializer = _token_serializer(self._secret_key)
        payload = serializer.loads(token)  # signature only: a forged or altered token stops here
        _, signed_at = serializer.loads(token, max_age=payload["e"], return_timestamp=True)
        age = (datetime.now(UTC) - signed_at).total_seconds()
        return DownloadGrant(payload["k"], payload["n"], payload["i"], max(0, int(payload["e"] - age)))


def _token_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=FILES_SALT)


def _copy(reader: _BoundedReader, out: BinaryIO, chunk_size: int) -> None:
    while chunk := reader.read(chunk_size):
        out.write(chunk)


def _write_meta(out: BinaryIO, content_type: str) -> None:
    out.write(json.dumps({"content_type": content_type}).encode("utf-8"))


def _read_chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def _walk_keys(start: Path, objects: Path) -> Iterator[str]:
    for folder, _dirs, files in os.walk(start):
        for name in files:
            yield Path(folder, name).relative_to(objects).as_posix()


def _local_etag(info: os.stat_result) -> str:
    # Changes whenever the file is replaced; no need to hash gigabytes on every put.
    return f"{info.st_mtime_ns:x}-{info.st_size:x}"


def _unlink_quietly(path: Path) -> None:
    with suppress(FileNotFoundError):
        path.unlink()


def _prune_empty_folders(folder: Path, base: Path) -> None:
    # Deleted objects should not leave a trail of empty folders (and keep "a" writable after "a/b" goes).
    while folder != base and folder.is_relative_to(base):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or already gone): stop climbing
        folder = folder.parent


@contextmanager
def _disk_errors(key: str, source: _BoundedReader | None = None) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if source is not None and source.failed:
            raise  # the caller's stream broke (a client went away): not a storage failure
        if isinstance(exc, NotADirectoryError | IsADirectoryError | FileExistsError):
            raise StorageError(f"key {key!r} clashes with an existing object or folder on disk") from exc
        raise StorageUnavailable(f"local storage failed for {key!r}: {exc}") from exc


# ---------------------------------------------------------------------------------------------------------
# S3


# S3 error codes that are the caller's fault; any other S3 error means the backend is unwell or misconfigured.
_CALLER_ERROR_CODES = {"EntityTooLarge", "EntityTooSmall", "InvalidArgument", "InvalidPart", "InvalidPartOrder",
                       "KeyTooLongError", "InvalidRange", "MetadataTooLarge"}


@contextmanager
def _s3_errors(key: str | None = None) -> Iterator[None]:
    try:
        yield
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject"):
            raise ObjectNotFound(key or "") from exc
        error = StorageError if exc.code in _CALLER_ERROR_CODES else StorageUnavailable
        raise error(f"S3 answered {exc.code}: {exc.message}") from exc
    except (urllib3.exceptions.HTTPError, ServerError, InvalidResponseError) as exc:
        raise StorageUnavailable(f"S3 endpoint unreachable or not S3: {exc}") from exc


def _http_client(*, connect: float, read: float, retries: int) -> urllib3.PoolManager:
    # ca_certs=None means the operating system's trust store, so a CA the administrator installed
    # (a regional or Russian national root) is honoured; SSL_CERT_FILE overrides it, as minio does.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect, read=read),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or None,
        retries=urllib3.Retry(total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class S3Storage(Storage):
    """Objects in one bucket of a plain S3 endpoint, through the minio client.

    Constructing it does no network I/O: the app starts even while S3 is down, and /healthz reports it.
    The bucket is created on first use if missing.
    """

    def __init__(self, endpoint: str, bucket: str, *, access_key: str, secret_key: str, secure: bool = True,
                 region: str | None = None, part_size: int = 16 * MIB):
        check_bucket_name(bucket)
        if not 5 * MIB <= part_size <= 5 * 1024 * MIB:
            raise ValueError("S3 part size must be between 5 MiB and 5 GiB")
        self.endpoint, self.bucket, self.secure, self.region = endpoint, bucket, secure, region
        self.part_size = part_size
        credentials = {"access_key": access_key, "secret_key": secret_key, "secure": secure, "region": region}
        self._client = Minio(endpoint, **credentials,
                             http_client=_http_client(connect=10, read=120, retries=3))
        # check() answers a health probe: it must fail within seconds, not retry for minutes.
        self._probe = Minio(endpoint, **credentials, http_client=_http_client(connect=2, read=5, retries=0))
        self._bucket_ready = False
        self._lock = threading.Lock()

    def _ready(self) -> None:
        if self._bucket_ready:
            return
        with self._lock:
            if not self._bucket_ready:
                self._create_bucket_if_missing(self._client)
                self._bucket_ready = True

    def _create_bucket_if_missing(self, client: Minio) -> None:
        with _s3_errors():
            if client.bucket_exists(self.bucket):
                return
            try:
                client.make_bucket(self.bucket)
            except S3Error as exc:
                if exc.code != "BucketAlreadyOwnedByYou":  # another process created it meanwhile
                    raise

    def put(self, key: str, stream: BinaryIO, *, length: int | None = None,
            content_type: str = DEFAULT_CONTENT_TYPE) -> StoredObject:
        """Unknown length goes up as a multipart upload in parts of ``part_size``."""
        validate_key(key)
        _validate_content_type(content_type)
        reader = _BoundedReader(stream, length)
        self._ready()
        with _s3_errors(key):
            # One part in flight: memory per upload stays about one part, whatever the file size.
            self._client.put_object(self.bucket, key, reader, -1 if length is None else length,  # type: ignore[arg-type]
                                    content_type=content_type, part_size=self.part_size, num_parallel_uploads=1)
        return self.stat(key)

    def delete(self, key: str) -> None:
        validate_key(key)
        self._ready()
        with _s3_errors(key):
            self._client.remove_object(self.bucket, key)  # S3 answers 204 for an absent key too

    def stat(self, key: str) -> StoredObject:
        validate_key(key)
        self._ready()
        with _s3_errors(key):
            info = self._client.stat_object(self.bucket, key)
        return StoredObject(key, info.size or 0, info.content_type or DEFAULT_CONTENT_TYPE, info.etag,
                            _as_utc(info.last_modified))

    def iter_chunks(self, key: str, chunk_size: int = MIB) -> Iterator[bytes]:
        validate_key(key)
        _check_chunk_size(chunk_size)
        self._ready()
        with _s3_errors(key):
            response = self._client.get_object(self.bucket, key)
        return _stream_response(response, key, chunk_size)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        validate_prefix(prefix)
        self._ready()
        with _s3_errors():
            for item in self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                yield StoredObject(item.object_name or "", item.size or 0, DEFAULT_CONTENT_TYPE, item.etag,
                                   _as_utc(item.last_modified))

    def presigned_url(self, key: str, *, expires: timedelta = timedelta(minutes=5),
                      download_name: str | None = None, inline: bool = False) -> str:
        """A presigned GET straight to S3. The Content-Type is the one stored by put(); no network call
        is made when the region is configured."""
        validate_key(key)
        seconds = _expiry_seconds(expires)
        headers = {
            "response-content-disposition": content_disposition(_download_name(key, download_name),
                                                                inline=inline),
            "response-cache-control": f"private, max-age={seconds}",
        }
        with _s3_errors(key):
            return self._client.presigned_get_object(self.bucket, key, expires=timedelta(seconds=seconds),
                                                     response_headers=headers)

    def check(self) -> None:
        self._create_bucket_if_missing(self._probe)
        self._bucket_ready = True


def _stream_response(response: Any, key: str, chunk_size: int) -> Iterator[bytes]:
    try:
        with _s3_errors(key):
            yield from response.stream(chunk_size)
    finally:
        response.close()
        response.release_conn()


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# ---------------------------------------------------------------------------------------------------------
# Configuration


_URL_FORMS = ("file:///absolute/path, "
              "s3://ACCESS_KEY:SECRET_KEY@host:port/bucket?secure=true&region=ru-central1&part_size_mb=16, "
              "s3+https://… (TLS) or s3+http://… (plain HTTP); URL-quote the keys")
_S3_OPTIONS = {"secure", "region", "part_size_mb"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def storage_from_url(url: str, *, secret_key: str) -> Storage:
    """The backend LMS_STORAGE_URL names; ValueError (never echoing the secret) for anything else."""
    parts = urlsplit(url or "")
    if parts.scheme == "file":
        return _local_from_url(parts, secret_key)
    if parts.scheme in ("s3", "s3+https", "s3+http"):
        return _s3_from_url(parts)
    raise _bad_url(f"has an unsupported scheme {parts.scheme!r}" if parts.scheme else "is empty or not a URL")


def _bad_url(reason: str) -> ValueError:
    return ValueError(f"LMS_STORAGE_URL {reason}. Accepted forms: {_URL_FORMS}")


def _local_from_url(parts: Any, secret_key: str) -> LocalStorage:
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise _bad_url("must name an absolute folder: file:///absolute/path (three slashes)")
    if parts.query or parts.fragment:
        raise _bad_url("file:// takes no options")
    return LocalStorage(unquote(parts.path), secret_key=secret_key)


def _s3_from_url(parts: Any) -> S3Storage:
    credentials, _, endpoint = parts.netloc.rpartition("@")
    access_key, _, secret = credentials.partition(":")
    bucket = parts.path.strip("/")
    if not access_key or not secret:
        raise _bad_url("must carry ACCESS_KEY:SECRET_KEY@ before the host")
    if not endpoint or not bucket or "/" in bucket:
        raise _bad_url("must name host[:port] and exactly one bucket: s3://…@host:port/bucket")
    options = _s3_options(parts.query)
    secure = _s3_secure(parts.scheme, options.get("secure"))
    try:
        return S3Storage(endpoint, bucket, access_key=unquote(access_key), secret_key=unquote(secret),
                         secure=secure, region=options.get("region") or None,
                         part_size=int(options.get("part_size_mb", "16")) * MIB)
    except ValueError as exc:
        raise _bad_url(f"is invalid: {exc}") from None


def _s3_options(query: str) -> dict[str, str]:
    options = {name: values[-1] for name, values in parse_qs(query, keep_blank_values=True).items()}
    unknown = set(options) - _S3_OPTIONS
    if unknown:
        raise _bad_url(f"has unknown options {sorted(unknown)}; known: {sorted(_S3_OPTIONS)}")
    return options


def _s3_secure(scheme: str, secure: str | None) -> bool:
    # s3:// defaults to TLS: the keys travel in every request's signature scope, and files are personal data.
    implied = {"s3": None, "s3+https": True, "s3+http": False}[scheme]
    if secure is None:
        return True if implied is None else implied
    value = secure.lower()
    if value not in _TRUE | _FALSE:
        raise _bad_url("secure= must be true or false")
    if implied is not None and implied != (value in _TRUE):
        raise _bad_url(f"secure={secure} contradicts the {scheme}:// scheme")
    return value in _TRUE


# ---------------------------------------------------------------------------------------------------------
# Flask integration


def init_storage(app: Flask) -> None:
    """Build the configured backend once per app (reads STORAGE_URL and SECRET_KEY)."""
    app.extensions["lms_storage"] = storage_from_url(app.config["STORAGE_URL"],
                                                     secret_key=app.config["SECRET_KEY"])


def get_storage() -> Storage:
    return current_app.extensions["lms_storage"]


# --- objects that a committed change no longer names -----------------------------------------------

_PENDING = "lms_storage_delete_after_commit"


def delete_after_commit(session, key: str) -> None:
    """Remove ``key`` from storage once ``session``'s transaction commits — never before, and not at all
    if it rolls back (the row still names the object then). A leftover object is harmless; a missing one
    would lose a user's file."""
    session.info.setdefault(_PENDING, []).append(key)


def _delete_pending(session) -> None:
    for key in session.info.pop(_PENDING, []):
        try:
            get_storage().delete(key)
        except Exception as exc:  # noqa: BLE001 - the object stays; the database no longer names it
            logging.getLogger(__name__).warning("could not delete %s after commit: %s", key, exc)


def _forget_pending(session, _previous_transaction) -> None:
    # Any rollback, even of a savepoint, keeps every object: erring towards a leftover, never a loss.
    session.info.pop(_PENDING, None)


def _listen_for_pending_deletes() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _delete_pending):
        event.listen(Session, "after_commit", _delete_pending)
        event.listen(Session, "after_soft_rollback", _forget_pending)


_listen_for_pending_deletes()


bp = Blueprint("files", __name__)


@bp.get("/files/<token>")
def download(token: str) -> Response:
    """Serve a local-storage object to whoever holds an unexpired token (the token is the permission:
    views check access before calling presigned_url). Expired → 403, forged or unknown → 404."""
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)  # S3 downloads go straight to S3
    try:
        grant = storage.verify_token(token)
    except SignatureExpired:
        abort(403)
    except (BadSignature, KeyError, TypeError):
        abort(404)
    try:
        obj = storage.stat(grant.key)
    except (ObjectNotFound, ValueError):
        abort(404)
    response = send_file(storage.path_for(grant.key), mimetype=obj.content_type, conditional=True)
    _set_download_headers(response, obj, grant)
    return response


def _set_download_headers(response: Response, obj: StoredObject, grant: DownloadGrant) -> None:
    inline = grant.inline and inline_is_safe(obj.content_type)
    response.headers["Content-Disposition"] = content_disposition(_download_name(obj.key, grant.download_name),
                                                                  inline=inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Personal files: browsers may keep them until the link expires, shared caches never.
    response.headers["Cache-Control"] = f"private, max-age={grant.seconds_left}"
    response.headers.pop("Expires", None)
