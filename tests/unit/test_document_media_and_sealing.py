"""A document's media type comes from its bytes; a consent form is sealed under its patient's key."""

from __future__ import annotations

import os

import pytest

from domain.errors import InvalidInput
from ledger.document_media import media_type_of, sniff_media_type
from ledger.document_sealing import DocumentUnsealable, open_document, seal_document
from tests.integration.document_fixtures import CSV, JPEG, PDF, PNG, sha256_of


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (b"\xef\xbb\xbf" + b"\r\n" * 3 + PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (CSV, "text/csv"),
        ("température;lieu\n-185,2;cuve 1\n".encode(), "text/csv"),
        (b"\xef\xbb\xbftime\ttemp\n1\t2\n", "text/csv"),
        (b"plain prose without any delimiter\n", None),
        (b'"Plot Title: LN2 shipper 20123456"\n"#","Date Time, GMT+01:00","Temp, \xc2\xb0C"\n', "text/csv"),
        (b"title\n" * 10 + b"a,b\n", None),  # no delimiter within the first ten lines: not a table
        (b"title\n" * 9 + b"\n\n" + b"a,b\n", "text/csv"),  # blank lines are not counted
        (b"a,b\n\x00\x01", None),
        (b"a,b\n\xff\xfe", None),
        (b"PK\x03\x04 a zip file", None),
        (b"\x89PNG but not the signature", None),
        (b"GIF89a", None),
    ],
)
def test_the_media_type_is_judged_from_the_bytes(content: bytes, expected: str | None) -> None:
    assert sniff_media_type(content) == expected


def test_an_unsupported_file_is_refused_naming_the_rule() -> None:
    with pytest.raises(InvalidInput) as caught:
        media_type_of(b"#!/bin/sh\necho hi\n")
    assert (caught.value.rule, caught.value.field) == ("unsupported_media_type", "file")


KEY = os.urandom(32)


def test_a_sealed_document_opens_only_with_its_key_hash_and_pseudonym() -> None:
    sealed = seal_document(PDF, sha256_of(PDF), "PSN-1", KEY)
    assert PDF not in sealed
    assert open_document(sealed, sha256_of(PDF), "PSN-1", KEY) == PDF
    for sha256, pseudonym, key in (
        (sha256_of(PDF), "PSN-2", KEY),
        (sha256_of(CSV), "PSN-1", KEY),
        (sha256_of(PDF), "PSN-1", os.urandom(32)),
    ):
        with pytest.raises(DocumentUnsealable):
            open_document(sealed, sha256, pseudonym, key)


def test_sealing_is_deterministic_so_a_second_write_writes_the_same_bytes() -> None:
    assert seal_document(PDF, sha256_of(PDF), "PSN-1", KEY) == seal_document(PDF, sha256_of(PDF), "PSN-1", KEY)
    assert seal_document(PDF, sha256_of(PDF), "PSN-1", KEY) != seal_document(CSV, sha256_of(PDF), "PSN-1", KEY)


def test_an_altered_sealed_document_does_not_open() -> None:
    sealed = bytearray(seal_document(PDF, sha256_of(PDF), "PSN-1", KEY))
    sealed[-1] ^= 1
    with pytest.raises(DocumentUnsealable):
        open_document(bytes(sealed), sha256_of(PDF), "PSN-1", KEY)
    with pytest.raises(DocumentUnsealable):
        open_document(PDF, sha256_of(PDF), "PSN-1", KEY)
