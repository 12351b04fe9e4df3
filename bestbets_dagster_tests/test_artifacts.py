import hashlib

import pytest

from bestbets_dagster.resources import LocalArtifactStore
from bestbets_dagster.resources.artifacts import ArtifactIntegrityError


def test_put_get_records_sha256(tmp_path):
    store = LocalArtifactStore(root=str(tmp_path))
    data = b"catboost model bytes"
    ref = store.put("models/v9_mae/m1.cbm", data, content_type="application/octet-stream")
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.uri.startswith("file://") and ref.uri.endswith("models/v9_mae/m1.cbm")
    assert store.get("models/v9_mae/m1.cbm") == data
    assert store.metadata("models/v9_mae/m1.cbm")["sha256"] == ref.sha256
    store.put("models/v9_mae/m1.cbm", b"replaced")
    assert store.get("models/v9_mae/m1.cbm") == b"replaced"


def test_tampered_bytes_fail_the_sha256_check(tmp_path):
    store = LocalArtifactStore(root=str(tmp_path))
    store.put("exports/latest.json", b"{}")
    (tmp_path / "exports" / "latest.json").write_bytes(b'{"x": 1}')
    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        store.get("exports/latest.json")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b"])
def test_keys_cannot_escape_the_root(tmp_path, key):
    with pytest.raises(ValueError, match="invalid artifact key"):
        LocalArtifactStore(root=str(tmp_path)).put(key, b"x")
