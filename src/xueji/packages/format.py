"""The change package file (C8, B6): writing it, signing it, and reading it back only when
every byte is as signed. Pure: no database; the caller finds keys and decides on replays.

A package is a zip:

    manifest.json   format, version, package id, sequence, content, installation, unit,
                    maker, time, selection, counts, and the SHA-256 of every other member
    manifest.sig    Ed25519 signature of the exact bytes of manifest.json, base64
    changes.json    (or students.json) the data, with stable identifiers
    changes.xlsx    the same for people to read
    evidence/...    the scanned documents

Signing the manifest, which holds every member's hash, signs the whole file: an altered
byte anywhere changes a hash or the signature, a missing or extra member differs from the
manifest's list.

The zip is written by this module, not by zipfile: members stored uncompressed, fixed
timestamps and attributes, no extra fields or comments. Reading rebuilds that exact file
from the members and refuses one that differs, so every byte of the file is covered: a
header, a padding bit of a compressed stream or a timestamp cannot be altered unseen, and
the format does not depend on the zip writer of one Python version.
"""

import base64
import binascii
import dataclasses
import hashlib
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.utils.translation import gettext as _

from xueji.core.errors import RuleViolation

FORMAT = "xueji-change-package"
VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
# A package holds one unit's changes of a few weeks with their scans: far below these.
MAX_MEMBERS = 20_000
MAX_UNCOMPRESSED = 2 * 1024**3
# The zip's own timestamps are not data; fixed, so the same content gives the same bytes.
ZIP_TIME = (2008, 3, 21, 0, 0, 0)
# What zipfile (or a damaged file) may raise while a zip is opened or read.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    ValueError,
    OSError,
    EOFError,
    struct.error,
    zlib.error,
    NotImplementedError,
    KeyError,
    IndexError,
    OverflowError,
    RuntimeError,  # an encrypted member
)


class PackageRefused(RuleViolation):
    """The file is not a package we accept. `code` is stable (API, tests); `message` is for
    people, in the active language. A RuleViolation about the uploaded file, so views, the
    API and commands show it like any refusal."""

    def __init__(self, code: str, message: str):
        super().__init__(message, field="file")
        self.code = code


@dataclasses.dataclass(frozen=True)
class KeyPair:
    private: bytes  # raw 32 bytes
    public: bytes  # raw 32 bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)


@dataclasses.dataclass(frozen=True)
class KnownKey:
    """What the reader knows of a key named by a manifest."""

    public: bytes
    revoked: bool


@dataclasses.dataclass(frozen=True)
class VerifiedPackage:
    manifest: dict[str, Any]
    members: dict[str, bytes]
    sha256: str

    def json_member(self, name: str) -> Any:
        try:
            return json.loads(self.members[name].decode("utf-8"))
        except (KeyError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise PackageRefused(
                "bad_member", _("The package's %(name)s cannot be read.") % {"name": name}
            ) from error


# --- keys -----------------------------------------------------------------------------------


def new_key_pair() -> KeyPair:
    private = Ed25519PrivateKey.generate()
    return KeyPair(
        private=private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        public=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )


def public_of(private: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(private)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- writing --------------------------------------------------------------------------------


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1, default=str).encode()


def build(manifest: Mapping[str, Any], members: Mapping[str, bytes], key: KeyPair) -> bytes:
    """The signed zip. `manifest` holds everything but format, version, key and member
    hashes, which are added here."""
    for name in members:
        _check_name(name)
        if name in (MANIFEST, SIGNATURE):
            raise ValueError(f"{name} is reserved")
    full = dict(manifest)
    full.update(
        format=FORMAT,
        version=VERSION,
        key_fingerprint=key.fingerprint,
        members={name: sha256(data) for name, data in sorted(members.items())},
    )
    manifest_bytes = dump_json(full)
    signature = Ed25519PrivateKey.from_private_bytes(key.private).sign(manifest_bytes)
    entries = [(MANIFEST, manifest_bytes), (SIGNATURE, b64(signature).encode("ascii"))]
    entries += [(name, members[name]) for name in sorted(members)]
    if sum(len(data) for _name, data in entries) > MAX_UNCOMPRESSED:
        raise ValueError("a package holds at most 2 GB")
    return zip_stored(entries)


def _dos_time(moment: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = moment
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def zip_stored(entries: list[tuple[str, bytes]]) -> bytes:
    """The package's zip, byte for byte: members stored in the given order, UTF-8 names,
    the fixed time, regular-file attributes, no extras, no comments (APPNOTE 4.3)."""
    time, date = _dos_time(ZIP_TIME)
    utf8 = 0x0800
    out = io.BytesIO()
    central = io.BytesIO()
    for name, data in entries:
        raw_name = name.encode("utf-8")
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                utf8,
                0,
                time,
                date,
                crc,
                len(data),
                len(data),
                len(raw_name),
                0,
            )
        )
        out.write(raw_name)
        out.write(data)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (3 << 8) | 20,
                20,
                utf8,
                0,
                time,
                date,
                crc,
                len(data),
                len(data),
                len(raw_name),
                0,
                0,
                0,
                0,
                (0o100644 << 16),
                offset,
            )
        )
        central.write(raw_name)
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), start, 0
        )
    )
    return out.getvalue()


# --- reading --------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or any(part in ("", ".", "..") for part in parts)
        or any(ord(char) < 32 for char in name)
    ):
        raise PackageRefused(
            "unsafe_name",
            _("The package holds a file with an unsafe name: %(name)s") % {"name": name},
        )


def read(data: bytes, find_key: Callable[[str], KnownKey | None]) -> VerifiedPackage:
    """Open and verify a package, or raise PackageRefused naming the first thing wrong.

    Order matters: nothing of the content is trusted before the signature and every hash
    have been checked. `find_key(fingerprint)` returns what the reader knows of the key,
    or None for a key it does not know."""
    archive = _open_zip(data)
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise PackageRefused("duplicate_member", _("The package holds a file twice."))
        for name in names:
            _check_name(name)
        if MANIFEST not in names or SIGNATURE not in names:
            raise PackageRefused(
                "no_manifest", _("This is not a change package: it has no signed manifest.")
            )
        if len(infos) > MAX_MEMBERS or sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
            raise PackageRefused("too_large", _("The package is too large to be read."))
        if any(
            info.compress_type != zipfile.ZIP_STORED or info.flag_bits & ~0x0800 for info in infos
        ):
            raise PackageRefused("altered_structure", _structure_message())
        contents = {info.filename: _read_member(archive, info) for info in infos}
    # Every byte of the file, not only the members' contents: the file must be exactly
    # what build() writes for these members in this order.
    if zip_stored([(info.filename, contents[info.filename]) for info in infos]) != data:
        raise PackageRefused("altered_structure", _structure_message())
    manifest_bytes = contents.pop(MANIFEST)
    manifest = _parse_manifest(manifest_bytes)
    _verify_signature(manifest, manifest_bytes, contents.pop(SIGNATURE), find_key)
    _verify_members(manifest, contents)
    return VerifiedPackage(manifest=manifest, members=contents, sha256=sha256(data))


def _structure_message() -> str:
    return _(
        "The package's file structure was altered after it was written (a byte changed, "
        "or the file was unpacked and packed again)."
    )


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as error:
        raise PackageRefused(
            "not_zip", _("This file is not a change package (not a zip).")
        ) from error


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as member:
            # Read one byte past the declared size: a member that inflates beyond what its
            # header says is a zip bomb or a forgery.
            content = member.read(info.file_size + 1)
    except ZIP_ERRORS as error:
        raise PackageRefused(
            "altered_member",
            _("The file %(name)s in the package is damaged.") % {"name": info.filename},
        ) from error
    if len(content) != info.file_size:
        raise PackageRefused(
            "altered_member",
            _("The file %(name)s in the package is damaged.") % {"name": info.filename},
        )
    return content


def _parse_manifest(manifest_bytes: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PackageRefused("bad_manifest", _("The package's manifest cannot be read.")) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackageRefused("bad_manifest", _("This is not a Xueji change package."))
    if manifest.get("version") != VERSION:
        raise PackageRefused(
            "unknown_version",
            _("The package has format version %(version)s, which this installation cannot read.")
            % {"version": manifest.get("version")},
        )
    if not isinstance(manifest.get("members"), dict) or not isinstance(
        manifest.get("key_fingerprint"), str
    ):
        raise PackageRefused("bad_manifest", _("The package's manifest is incomplete."))
    return manifest


def _verify_signature(
    manifest: dict[str, Any],
    manifest_bytes: bytes,
    signature_text: bytes,
    find_key: Callable[[str], KnownKey | None],
) -> None:
    known = find_key(manifest["key_fingerprint"])
    if known is None:
        raise PackageRefused(
            "unknown_key",
            _("The package is signed with a key the bureau has not registered."),
        )
    if known.revoked:
        raise PackageRefused("revoked_key", _("The package is signed with a revoked key."))
    try:
        text = signature_text.decode("ascii")
        signature = unb64(text)
        # Only the one canonical spelling: base64 has spare bits that decode alike.
        if b64(signature) != text:
            raise ValueError("not canonical base64")
        Ed25519PublicKey.from_public_bytes(known.public).verify(signature, manifest_bytes)
    except (InvalidSignature, ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise PackageRefused(
            "bad_signature",
            _("The package's signature does not match: it was altered after signing."),
        ) from error


def _verify_members(manifest: dict[str, Any], contents: dict[str, bytes]) -> None:
    listed: dict[str, str] = manifest["members"]
    missing = sorted(set(listed) - set(contents))
    if missing:
        raise PackageRefused(
            "missing_member",
            _("The file %(name)s is missing from the package.") % {"name": missing[0]},
        )
    extra = sorted(set(contents) - set(listed))
    if extra:
        raise PackageRefused(
            "extra_member",
            _("The package holds a file it was not signed with: %(name)s") % {"name": extra[0]},
        )
    for name, data in contents.items():
        if sha256(data) != listed[name]:
            raise PackageRefused(
                "altered_member",
                _("The file %(name)s in the package was altered after signing.") % {"name": name},
            )
