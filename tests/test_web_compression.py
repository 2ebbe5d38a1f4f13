"""Responses go out compressed to a client that accepts it (issue 9, page weight).

A real server process, `netpol-viz serve` and the documented gunicorn, answers
`Accept-Encoding: gzip` with gzip for the diagram page and the API's JSON, and
the body decompresses to the bytes sent without the header; without the header
nothing changes. In the test client: a streamed response stays a stream, a
static file's byte range and the 413 / 503 answers are not compressed.
"""

from __future__ import annotations

import gzip
import json
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import ServerProcess
from flask import Response
from loadfixtures import Server
from webfixtures import ARTICLE, make_app, upload

BOUNDARY = "netpol-viz-compression-test"


def fetch(url: str, encoding: str | None) -> tuple[dict[str, str], bytes]:
    """GET `url`, with Accept-Encoding when given; the headers and the body as sent."""
    headers = {"Accept-Encoding": encoding} if encoding else {}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200, response.status
        return dict(response.headers), response.read()


def post_article(base: str) -> dict[str, Any]:
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="manifests"; '
        f'filename="article.yaml"\r\nContent-Type: application/yaml\r\n\r\n{ARTICLE}\r\n'
        f"--{BOUNDARY}--\r\n"
    ).encode()
    request = urllib.request.Request(
        base + "/api/v1/analyses",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 201
        answer: dict[str, Any] = json.loads(response.read())
        return answer


@pytest.fixture(scope="module", params=["netpol-viz serve", "gunicorn"])
def base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("compression")
    if request.param == "gunicorn":
        server = Server(directory, workers=1)
        server.start()
        try:
            yield f"http://127.0.0.1:{server.port}"
        finally:
            server.stop()
    else:
        process = ServerProcess(database=directory / "db.sqlite3", log=directory / "server.log")
        process.start()
        try:
            yield process.url
        finally:
            process.stop()


PATHS = {
    "diagram page": "/a/{id}",
    "API document": "/api/v1/analyses/{id}",
    "JSON export": "/api/v1/analyses/{id}/export.json",
}


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_gzip_when_accepted_and_the_same_bytes(base_url: str, path: str) -> None:
    analysis_id = post_article(base_url)["id"]
    url = base_url + path.format(id=analysis_id)
    plain_headers, plain = fetch(url, None)
    zipped_headers, zipped = fetch(url, "gzip")

    assert "Content-Encoding" not in plain_headers
    assert int(plain_headers["Content-Length"]) == len(plain)
    assert zipped_headers["Content-Encoding"] == "gzip"
    assert int(zipped_headers["Content-Length"]) == len(zipped) < len(plain)
    assert gzip.decompress(zipped) == plain
    assert "Accept-Encoding" in zipped_headers["Vary"]


def test_a_streamed_response_stays_a_stream(tmp_path: Path) -> None:
    """The compressed body comes out while the generator is still producing it."""
    app = make_app(tmp_path)
    produced: list[int] = []

    def row(index: int) -> bytes:
        # Varied text, so the compressor has output long before the end.
        return "".join(f"{index}-{n * 7919 % 10007},row\n" for n in range(2000)).encode()

    @app.get("/test-stream")
    def stream() -> Response:
        def rows() -> Iterator[bytes]:
            for index in range(400):
                produced.append(index)
                yield row(index)

        return Response(rows(), mimetype="text/plain")

    response = app.test_client().get(
        "/test-stream", headers={"Accept-Encoding": "deflate"}, buffered=False
    )
    assert response.is_streamed
    assert response.headers["Content-Encoding"] == "deflate"
    assert "Content-Length" not in response.headers
    chunks = iter(response.response)
    first = next(chunks)
    assert len(produced) < 400, "the whole body was produced before the first chunk"
    assert zlib.decompress(first + b"".join(chunks)) == b"".join(map(row, range(400)))


def test_a_byte_range_of_a_static_file_is_not_compressed(client: Any) -> None:
    response = client.get(
        "/static/style.css", headers={"Accept-Encoding": "zstd, br, gzip", "Range": "bytes=0-1999"}
    )
    assert response.status_code == 206
    assert "Content-Encoding" not in response.headers
    assert response.headers["Content-Range"].startswith("bytes 0-1999/")
    assert len(response.get_data()) == 2000


def test_static_scripts_are_compressed_for_a_browser(client: Any) -> None:
    response = client.get(
        "/static/js/main.js", headers={"Accept-Encoding": "gzip, deflate, br, zstd"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] in {"zstd", "br", "deflate"}


def too_large(app: Any, headers: dict[str, str]) -> Any:
    return upload(app.test_client(), ("article.yaml", ARTICLE + "#" * 4096), headers=headers)


def at_capacity(app: Any, headers: dict[str, str]) -> Any:
    with app.extensions["netpol_analysis_slots"].take():  # the only slot, held
        return upload(app.test_client(), ("article.yaml", ARTICLE), headers=headers)


LIMITS = {"413 too large": (too_large, 413), "503 at capacity": (at_capacity, 503)}


@pytest.mark.parametrize(("answer", "status"), LIMITS.values(), ids=LIMITS.keys())
def test_limits_answer_as_before(tmp_path: Path, answer: Any, status: int) -> None:
    """A 413 or 503 is the same problem document, uncompressed, whatever the client accepts."""
    app = make_app(tmp_path, {"MAX_UPLOAD_BYTES": 1024, "MAX_CONCURRENT_ANALYSES": 1})
    plain = answer(app, {})
    zipped = answer(app, {"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert plain.status_code == zipped.status_code == status
    assert "Content-Encoding" not in zipped.headers
    assert zipped.get_json() == plain.get_json()
