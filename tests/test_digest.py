"""The streaming sha256 (hashed on a helper thread) gives exactly hashlib's answer."""

import hashlib
import itertools
import os

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
    digest = StreamDigest()
    hasher = digest._hasher
    assert hasher.is_alive()
    digest.update(b"abc")
    digest.close()
    digest.close()  # idempotent
    assert not hasher.is_alive()
    with pytest.raises(RuntimeError, match="after close"):
        digest.update(b"more")
    assert digest.hexdigest() == hashlib.sha256(b"abc").hexdigest()


def test_a_reused_buffer_is_hashed_as_it_was_when_passed() -> None:
    buffer = bytearray(b"first chunk ")
    with StreamDigest() as digest:
        digest.update(buffer)
        buffer[:] = b"other bytes!"  # the caller reuses its buffer before the hasher runs
        digest.update(buffer)
    assert digest.hexdigest() == hashlib.sha256(b"first chunk other bytes!").hexdigest()


class _FailingSha:
    """A hash object that fails on its second chunk (as a MemoryError would)."""

    def __init__(self) -> None:
        self.calls = 0

    def update(self, chunk: bytes) -> None:
        self.calls += 1
        if self.calls == 2:
            raise MemoryError("no room")

    def hexdigest(self) -> str:
        return "partial"


def test_a_failed_hash_is_an_error_never_a_partial_digest() -> None:
    digest = StreamDigest()
    digest._sha = _FailingSha()  # type: ignore[assignment]
    for _ in range(3 * 16):  # more chunks than the queue holds: the producer must not block
        try:
            digest.update(b"x" * 1000)
        except RuntimeError:
            break
    with pytest.raises(RuntimeError, match="sha256 of the stream failed"):
        digest.hexdigest()
    assert not digest._hasher.is_alive()


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
    # (set the mtime apart explicitly: older kernels tick file times only every few ms)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    assert sha256_file(path, reuse=True) == hashlib.sha256(b"y" * (CHUNK + 5)).hexdigest()
