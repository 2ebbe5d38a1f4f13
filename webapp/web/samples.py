"""The gallery of sample scenarios: the folders of `sample-manifests/`.

Each scenario is a folder whose `README.md` gives a title (its first
`# ` heading) and a description (the paragraph after it); every *.yaml,
*.yml and *.json file in it (recursively) is a manifest, uploaded under its
path relative to the folder. The README is not YAML so that
`netpol-viz analyze sample-manifests/<scenario>` reads the same files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from webapp.core.input.raw import SourceText
from webapp.web.security import loggable

log = logging.getLogger(__name__)

SCENARIO_FILE = "README.md"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True, slots=True)
class Sample:
    slug: str
    title: str
    description: str
    path: Path

    def as_context(self) -> dict[str, str]:
        return {"slug": self.slug, "title": self.title, "description": self.description}


def list_samples(root: Path) -> list[Sample]:
    """The scenarios under `root`, by slug; folders without a readable README.md are skipped."""
    if not root.is_dir():
        return []
    samples = []
    for folder in sorted(root.iterdir()):
        sample = _read_scenario(folder)
        if sample is not None:
            samples.append(sample)
    return samples


def _read_scenario(folder: Path) -> Sample | None:
    scenario = folder / SCENARIO_FILE
    if not folder.is_dir() or folder.name.startswith(".") or not scenario.is_file():
        return None
    try:
        text = scenario.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        log.warning("skipping sample %s: %s", loggable(folder.name), loggable(error))
        return None
    lines = text.strip().splitlines()
    title = lines[0].removeprefix("# ").strip() if lines and lines[0].startswith("# ") else ""
    description = " ".join(
        line.strip() for line in (lines[1:] if title else lines) if line.strip()
    )
    return Sample(
        slug=folder.name,
        title=title or folder.name,
        description=description,
        path=folder,
    )


def find_sample(root: Path, slug: str) -> Sample | None:
    """The sample called `slug`, looked up among the listed ones (never a path built from it)."""
    return next((sample for sample in list_samples(root) if sample.slug == slug), None)


def sample_sources(sample: Sample) -> list[SourceText]:
    """The manifests of a sample, named by their path inside the scenario folder."""
    sources = []
    for path in sorted(sample.path.rglob("*")):
        if path.is_file() and path.suffix in MANIFEST_SUFFIXES:
            name = path.relative_to(sample.path).as_posix()
            sources.append(SourceText(name=name, data=path.read_bytes()))
    return sources
