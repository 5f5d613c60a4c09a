"""Which package versions differ between runs. Pure: no Django.

A run's ``packages`` is what its client froze: ``pip freeze`` / requirements.txt lines
(``name==version``) or a conda environment YAML (``- name=version[=build]``, with its own
``pip:`` list of ``- name==version``). Names compare the way pip does (PEP 503: case-blind,
``_`` and ``.`` as ``-``); lines that pin nothing (``-e``, URLs, channels, comments) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[-_.]+")
_PIP = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;#]+)")
_CONDA = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)=([^=\s#]+)")


@dataclass(frozen=True)
class PackageDifference:
    name: str
    versions: tuple[str | None, ...]  # one per run, in the order given; None: not installed


def normalise(name: str) -> str:
    return _SEPARATORS.sub("-", name).lower()


def parse_packages(text: str) -> dict[str, str]:
    """``{normalised name: version}`` of every pinned package in a pip freeze or conda YAML."""
    pinned: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("- "):
            line = line[2:].strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = _PIP.match(line) or _CONDA.match(line)
        if match:
            pinned[normalise(match.group(1))] = match.group(2)
    return pinned


def differing_packages(texts: Mapping[int, str]) -> list[PackageDifference]:
    """Packages whose version is not the same in every run (missing counts as different).

    Runs that logged no package list are left out, so one bare run does not make every
    package "differ".
    """
    parsed = [parse_packages(text) for text in texts.values()]
    logged = [packages for packages in parsed if packages]
    names = sorted({name for packages in logged for name in packages})
    differences = []
    for name in names:
        versions = tuple(packages.get(name) if packages else None for packages in parsed)
        if len({packages.get(name) for packages in logged}) > 1:
            differences.append(PackageDifference(name=name, versions=versions))
    return differences
