"""The ArtifactStore on Google Cloud Storage, through dagster-gcp's GCSResource.

Each object carries its sha256 in its metadata and is checked on read; content type and
cache-control are set as the original set them. An upload is one request: GCS shows the old object
or the new one, never half of one. With STORAGE_EMULATOR_HOST set (a local emulator) the client uses
anonymous credentials; otherwise Application Default Credentials apply.
"""

from __future__ import annotations

import hashlib
import os
from typing import Optional

from dagster_gcp import GCSResource
from google.cloud import storage

from bestbets_dagster.resources.artifacts import ArtifactIntegrityError, ArtifactRef, ArtifactStore

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"


class GCSArtifactStore(ArtifactStore):
    bucket: str
    project: Optional[str] = None
    prefix: str = ""

    def _client(self) -> storage.Client:
        if os.environ.get(EMULATOR_ENV):
            from google.auth.credentials import AnonymousCredentials

            return storage.Client(project=self.project or "local", credentials=AnonymousCredentials())
        return GCSResource(project=self.project).get_client()

    def _name(self, key: str) -> str:
        self.check_key(key)
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    def _blob(self, key: str) -> storage.Blob:
        return self._client().bucket(self.bucket).blob(self._name(key))

    def uri(self, key: str) -> str:
        return f"gs://{self.bucket}/{self._name(key)}"

    def put(self, key, data, content_type=None, cache_control=None) -> ArtifactRef:
        blob = self._blob(key)
        digest = hashlib.sha256(data).hexdigest()
        blob.metadata = {"sha256": digest}
        if cache_control:
            blob.cache_control = cache_control
        blob.upload_from_string(data, content_type=content_type or "application/octet-stream")
        return ArtifactRef(key=key, uri=self.uri(key), sha256=digest, size=len(data))

    def get(self, key: str) -> bytes:
        blob = self._client().bucket(self.bucket).get_blob(self._name(key))
        if blob is None:
            raise FileNotFoundError(self.uri(key))
        data = blob.download_as_bytes()
        recorded = (blob.metadata or {}).get("sha256")
        if recorded and hashlib.sha256(data).hexdigest() != recorded:
            raise ArtifactIntegrityError(f"{self.uri(key)}: sha256 differs from the one recorded at write")
        return data

    def exists(self, key: str) -> bool:
        return self._blob(key).exists()

    def metadata(self, key: str) -> dict:
        blob = self._client().bucket(self.bucket).get_blob(self._name(key))
        if blob is None:
            raise FileNotFoundError(self.uri(key))
        return {
            "sha256": (blob.metadata or {}).get("sha256"),
            "size": blob.size,
            "content_type": blob.content_type,
            "cache_control": blob.cache_control,
        }
