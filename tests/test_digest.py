"""The streaming sha256 (hashed on a helper thread) gives exactly hashlib's answer."""

import hashlib
import itertools
import os
import threading

import pytest

from pipelines.sources.digest import CHUNK, StreamDigest, digest_file, sha256_file


def test_stream_digest_matches_hashlib_over_many_uneven_chunks() -> None:
    data = os.urandom(3 * CHUNK + 12345)
    cuts = [0, 1, 700, CHUNK, CHUNK + 3, 2 * CHUNK + 99, len(data)]
    with StreamDigest() as digest:
        for a, b in itertools.pairwise(cuts):
            digest.update(data[a:b])
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert digest.size == len(data)
    assert digest.head == data[:512]
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()  # stable after close


def test_stream_digest_helper_thread_ends_and_refuses_more_bytes() -> None:
    before = threading.active_count()
    digest = StreamDigest()
    digest.update(b"abc")
    digest.close()
    digest.close()  # idempotent
    assert threading.active_count() == before
    with pytest.raises(RuntimeError):
        digest.update(b"more")
    assert digest.hexdigest() == hashlib.sha256(b"abc").hexdigest()


def test_stream_digest_of_nothing_and_sniffing() -> None:
    with StreamDigest() as empty:
        pass
    assert empty.hexdigest() == hashlib.sha256(b"").hexdigest()
    assert empty.problem("text") == ("an empty (0-byte) file", "Retry later")
    with StreamDigest() as page:
        page.update(b"\xef\xbb\xbf  <!DOCTYPE html><html>blocked</html>")
    found = page.problem("text")
    assert found is not None and "web page" in found[0]


def test_file_digest_and_its_memo(tmp_path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * (CHUNK + 5))
    want = hashlib.sha256(b"x" * (CHUNK + 5)).hexdigest()
    assert digest_file(path).hexdigest() == want
    assert sha256_file(path, reuse=True) == want
    path.write_bytes(b"y" * (CHUNK + 5))  # same size, new content: the memo must not answer
    assert sha256_file(path, reuse=True) == hashlib.sha256(b"y" * (CHUNK + 5)).hexdigest()
