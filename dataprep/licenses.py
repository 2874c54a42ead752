"""The license of a source repository, as an SPDX id and the Hub's license key.

Read from LICENSE/LICENCE/COPYING files, then from the build files (pom.xml,
package.json, pyproject.toml, Cargo.toml) at the top of the repository. `dataprep.card`
puts the result in the dataset card.
"""

import json
import re
import tomllib
from pathlib import Path

# (SPDX id, patterns that must all occur in the license text); first match wins
_TEXT_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("AGPL-3.0-only", ("GNU AFFERO GENERAL PUBLIC LICENSE",)),
    ("LGPL-3.0-only", ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 3")),
    ("LGPL-2.1-only", ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 2.1")),
    ("GPL-3.0-only", ("GNU GENERAL PUBLIC LICENSE", "Version 3")),
    ("GPL-2.0-only", ("GNU GENERAL PUBLIC LICENSE", "Version 2")),
    ("Apache-2.0", ("Apache License", "Version 2.0")),
    ("MPL-2.0", ("Mozilla Public License", "2.0")),
    ("EPL-2.0", ("Eclipse Public License", "2.0")),
    ("EPL-1.0", ("Eclipse Public License",)),
    ("BSL-1.0", ("Boost Software License",)),
    ("Unlicense", ("This is free and unencumbered software released into the public domain",)),
    ("CC0-1.0", ("CC0 1.0 Universal",)),
    ("MIT", ("Permission is hereby granted, free of charge",)),
    ("ISC", ("Permission to use, copy, modify, and/or distribute this software for any purpose",)),
    ("BSD-3-Clause", ("Redistribution and use in source and binary forms", "Neither the name")),
    ("BSD-3-Clause", ("Redistribution and use in source and binary forms", "endorse or promote")),
    ("BSD-2-Clause", ("Redistribution and use in source and binary forms",)),
]

# names and URLs as build files write them -> SPDX id
_NAME_RULES: list[tuple[str, str]] = [
    (r"apache.*2|apache-2\.0", "Apache-2.0"),
    (r"^mit\b|mit license|opensource\.org/licenses/mit", "MIT"),
    (r"bsd.?3|new bsd|revised bsd|bsd-3-clause", "BSD-3-Clause"),
    (r"bsd.?2|simplified bsd|freebsd", "BSD-2-Clause"),
    (r"affero", "AGPL-3.0-only"),
    (r"lesser.*3|lgpl.?3", "LGPL-3.0-only"),
    (r"lesser.*2\.1|lgpl.?2\.1", "LGPL-2.1-only"),
    (r"(general public license|gpl).*3|gpl-3", "GPL-3.0-only"),
    (r"(general public license|gpl).*2|gpl-2", "GPL-2.0-only"),
    (r"mozilla|mpl", "MPL-2.0"),
    (r"eclipse.*2|epl-2", "EPL-2.0"),
    (r"eclipse|epl", "EPL-1.0"),
    (r"unlicense", "Unlicense"),
    (r"cc0", "CC0-1.0"),
    (r"\bisc\b", "ISC"),
]

# SPDX id -> the Hub's license key (its metadata uses these lowercase ids)
HUB_LICENSE = {
    "MIT": "mit",
    "Apache-2.0": "apache-2.0",
    "BSD-2-Clause": "bsd-2-clause",
    "BSD-3-Clause": "bsd-3-clause",
    "GPL-2.0-only": "gpl-2.0",
    "GPL-3.0-only": "gpl-3.0",
    "LGPL-2.1-only": "lgpl-2.1",
    "LGPL-3.0-only": "lgpl-3.0",
    "AGPL-3.0-only": "agpl-3.0",
    "MPL-2.0": "mpl-2.0",
    "EPL-1.0": "epl-1.0",
    "EPL-2.0": "epl-2.0",
    "BSL-1.0": "bsl-1.0",
    "Unlicense": "unlicense",
    "CC0-1.0": "cc0-1.0",
    "ISC": "isc",
}

_LICENSE_FILE = re.compile(r"^(licen[cs]e|copying)([.-].*)?$", re.IGNORECASE)


def license_from_text(text: str) -> str | None:
    """The SPDX id of a license text, or None. Example: "MIT License\\n...Permission is
    hereby granted, free of charge..." -> "MIT"."""
    flat = " ".join(text.split())
    for spdx, needles in _TEXT_RULES:
        if all(n.lower() in flat.lower() for n in needles):
            return spdx
    return None


def license_from_name(name: str) -> str | None:
    """The SPDX id for a license name or URL as a build file writes it, or None."""
    name = name.strip()
    for spdx in HUB_LICENSE:
        if name.lower() == spdx.lower() or name.lower() == spdx.lower().removesuffix("-only"):
            return spdx
    for pattern, spdx in _NAME_RULES:
        if re.search(pattern, name, re.IGNORECASE):
            return spdx
    return None


def detect_license(root: Path | None) -> tuple[str, str | None]:
    """(SPDX id or "other", the file it came from) for a repository checkout.

    Looks at LICENSE/LICENCE/COPYING files, then pom.xml, package.json, pyproject.toml
    and Cargo.toml at the top of the repository.
    """
    if root is None or not Path(root).is_dir():
        return "other", None
    root = Path(root)
    for path in sorted(p for p in root.iterdir() if p.is_file() and _LICENSE_FILE.match(p.name)):
        spdx = license_from_text(path.read_text(encoding="utf-8", errors="replace"))
        if spdx:
            return spdx, path.name
    for name, reader in (
        ("pom.xml", _pom_license),
        ("package.json", _package_json_license),
        ("pyproject.toml", _toml_license),
        ("Cargo.toml", _toml_license),
    ):
        path = root / name
        if path.is_file():
            try:
                value = reader(path.read_text(encoding="utf-8", errors="replace"))
            except (ValueError, tomllib.TOMLDecodeError):
                value = None
            spdx = license_from_name(value) if value else None
            if spdx:
                return spdx, name
    return "other", None


def _pom_license(text: str) -> str | None:
    block = re.search(r"<licenses>(.*?)</licenses>", text, re.DOTALL)
    if not block:
        return None
    for tag in ("name", "url"):
        found = re.search(rf"<{tag}>\s*(.*?)\s*</{tag}>", block.group(1), re.DOTALL)
        if found and license_from_name(found.group(1)):
            return found.group(1)
    return None


def _package_json_license(text: str) -> str | None:
    value = json.loads(text).get("license")
    return value.get("type") if isinstance(value, dict) else value


def _toml_license(text: str) -> str | None:
    data = tomllib.loads(text)
    section = data.get("project") or data.get("package") or {}
    value = section.get("license")
    return value.get("text") if isinstance(value, dict) else value
