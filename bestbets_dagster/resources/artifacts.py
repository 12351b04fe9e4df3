"""The ArtifactStore resource: bytes by key (model files, JSON exports), with sha256 recorded."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

from dagster import ConfigurableResource


@dataclasses.dataclass(frozen=True)
class ArtifactRef:
    key: str
    uri: str
    sha256: str
    size: int


class ArtifactIntegrityError(IOError):
    """Stored bytes do not match the sha256 recorded when they were written."""


class ArtifactStore(ConfigurableResource):
    def put(
        self, key: str, data: bytes, content_type: str | None = None, cache_control: str | None = None
    ) -> ArtifactRef:
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def uri(self, key: str) -> str:
        raise NotImplementedError

    @staticmethod
    def check_key(key: str) -> str:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"invalid artifact key {key!r}")
        return key


class LocalArtifactStore(ArtifactStore):
    """A directory; each object has a `<key>.meta.json` beside it with its sha256 and headers."""

    root: str

    def _path(self, key: str) -> Path:
        return Path(self.root) / self.check_key(key)

    def uri(self, key: str) -> str:
        return self._path(key).resolve().as_uri()

    def put(self, key, data, content_type=None, cache_control=None) -> ArtifactRef:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data).hexdigest()
        meta = {"sha256": digest, "size": len(data), "content_type": content_type, "cache_control": cache_control}
        # Write to a temp file in the same directory and rename: readers never see half an object.
        for target, payload in ((path, data), (Path(f"{path}.meta.json"), json.dumps(meta).encode())):
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(payload)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return ArtifactRef(key=key, uri=self.uri(key), sha256=digest, size=len(data))

    def get(self, key: str) -> bytes:
        path = self._path(key)
        data = path.read_bytes()
        meta_path = Path(f"{path}.meta.json")
        if meta_path.exists():
            recorded = json.loads(meta_path.read_text())["sha256"]
            if hashlib.sha256(data).hexdigest() != recorded:
                raise ArtifactIntegrityError(f"{path}: sha256 differs from the one recorded at write")
        return data

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def metadata(self, key: str) -> dict:
        return json.loads(Path(f"{self._path(key)}.meta.json").read_text())
