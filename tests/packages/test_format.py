"""The package file (B6, C8): signed, and refused on any altered byte, missing or extra
member, unknown or revoked key. Pure: no database."""

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xueji.packages import format

from .helpers import flip_in_member, members_of, repacked

PAIR = format.new_key_pair()
OTHER = format.new_key_pair()
MEMBERS = {
    "changes.json": b'{"format": "xueji-changes", "version": 1, "changes": []}',
    "changes.xlsx": b"PK\x03\x04 a spreadsheet",
    "evidence/4f1c/household_register-1.jpg": b"\xff\xd8\xff" + bytes(range(256)) * 4,
}
MANIFEST = {"package_id": "2f6b2a4e-8a40-4bd5-9d40-0d8f5a3c1e11", "sequence": 1}
PACKAGE = format.build(MANIFEST, MEMBERS, PAIR)


def known(*pairs, revoked=()):
    table = {pair.fingerprint: format.KnownKey(pair.public, pair in revoked) for pair in pairs}
    return table.get


def refused(data: bytes, find_key=None) -> str:
    with pytest.raises(format.PackageRefused) as refusal:
        format.read(data, find_key or known(PAIR))
    assert refusal.value.message
    return refusal.value.code


def test_a_package_reads_back_with_its_manifest_and_members():
    package = format.read(PACKAGE, known(PAIR))
    assert package.members == MEMBERS
    assert package.manifest["key_fingerprint"] == PAIR.fingerprint
    assert package.manifest["members"]["changes.json"] == format.sha256(MEMBERS["changes.json"])
    assert package.sha256 == format.sha256(PACKAGE)


def test_the_same_content_gives_the_same_bytes_and_any_zip_tool_opens_it():
    assert format.build(MANIFEST, MEMBERS, PAIR) == PACKAGE
    with zipfile.ZipFile(io.BytesIO(PACKAGE)) as archive:
        assert archive.testzip() is None
        assert archive.namelist()[:2] == ["manifest.json", "manifest.sig"]


@pytest.mark.parametrize(
    "member",
    [
        "manifest.json",
        "manifest.sig",
        "changes.json",
        "changes.xlsx",
        "evidence/4f1c/household_register-1.jpg",
    ],
)
def test_an_altered_byte_in_any_member_is_refused(member):
    assert refused(flip_in_member(PACKAGE, member)) == "altered_member"


def test_an_altered_member_packed_again_with_care_is_refused_by_its_hash():
    def alter(entries):
        entries[2] = (entries[2][0], entries[2][1].replace(b"[]", b"[1]"))

    assert refused(repacked(PACKAGE, alter)) == "altered_member"


def test_an_altered_manifest_packed_again_fails_the_signature():
    def alter(entries):
        entries[0] = (entries[0][0], entries[0][1].replace(b'"sequence": 1', b'"sequence": 9'))

    assert refused(repacked(PACKAGE, alter)) == "bad_signature"


def test_an_altered_signature_packed_again_is_refused():
    def alter(entries):
        signature = format.unb64(entries[1][1].decode())
        forged = bytes([signature[0] ^ 1]) + signature[1:]
        entries[1] = (entries[1][0], format.b64(forged).encode())

    assert refused(repacked(PACKAGE, alter)) == "bad_signature"


def test_a_signature_in_a_non_canonical_spelling_is_refused():
    def alter(entries):
        text = entries[1][1].decode()
        # 64 bytes end in "==": the character before has 4 spare bits; set one.
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        last = alphabet.index(text[-3])
        entries[1] = (entries[1][0], (text[:-3] + alphabet[last ^ 1] + "==").encode())

    assert refused(repacked(PACKAGE, alter)) == "bad_signature"


def test_a_missing_member_is_refused():
    def drop(entries):
        del entries[3]

    assert refused(repacked(PACKAGE, drop)) == "missing_member"


def test_an_extra_member_is_refused():
    def add(entries):
        entries.append(("evidence/4f1c/extra.jpg", b"\xff\xd8\xff extra"))

    assert refused(repacked(PACKAGE, add)) == "extra_member"


def test_a_member_twice_or_with_an_unsafe_name_is_refused():
    def twice(entries):
        entries.append(entries[2])

    def unsafe(entries):
        entries.append(("../../etc/passwd", b"x"))

    assert refused(repacked(PACKAGE, twice)) == "duplicate_member"
    assert refused(repacked(PACKAGE, unsafe)) == "unsafe_name"


def test_a_package_unpacked_and_zipped_again_by_another_tool_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members_of(PACKAGE):
            archive.writestr(name, data)
    assert refused(buffer.getvalue()) == "altered_structure"
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w") as archive:
        for name, data in members_of(PACKAGE):
            archive.writestr(name, data)
    assert refused(stored.getvalue()) == "altered_structure"


def test_a_byte_outside_every_member_is_refused_too():
    appended = PACKAGE + b"\x00"
    assert refused(appended) in ("altered_structure", "not_zip")
    assert refused(b"junk" + PACKAGE) in ("altered_structure", "not_zip")


def test_unknown_revoked_and_wrong_keys_are_refused():
    assert refused(PACKAGE, known(OTHER)) == "unknown_key"
    assert refused(PACKAGE, known(PAIR, revoked=(PAIR,))) == "revoked_key"

    # A key registered under this fingerprint that is not the signer's.
    def impostor(fingerprint):
        return format.KnownKey(OTHER.public, False)

    assert refused(PACKAGE, impostor) == "bad_signature"


def test_what_is_not_a_package_is_refused():
    assert refused(b"") == "not_zip"
    assert refused(b"%PDF-1.4 not a zip") == "not_zip"
    assert refused(format.zip_stored([("changes.json", b"{}")])) == "no_manifest"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(min_value=0, max_value=len(PACKAGE) - 1),
    mask=st.integers(min_value=1, max_value=255),
)
def test_any_single_byte_mutation_of_a_package_is_refused(position, mask):
    """B6: "signed exchange packages that detect any altered byte"."""
    altered = bytearray(PACKAGE)
    altered[position] ^= mask
    with pytest.raises(format.PackageRefused):
        format.read(bytes(altered), known(PAIR))


def test_every_single_byte_of_a_package_is_covered():
    """The exhaustive version of the property, one flipped bit per byte."""
    for position in range(len(PACKAGE)):
        altered = bytearray(PACKAGE)
        altered[position] ^= 0x80
        with pytest.raises(format.PackageRefused):
            format.read(bytes(altered), known(PAIR))
