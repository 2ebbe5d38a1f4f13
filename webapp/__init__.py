"""netpol-viz: Kubernetes NetworkPolicy visualizer.

Importing this package pulls in nothing heavy; see `webapp.core` for the
evaluation library and `webapp.cli` for the command line.
"""

from pathlib import Path

__version__ = "0.1.0"


def data_dir(name: str) -> Path:
    """Path of a top-level data folder (templates, static, sample-manifests).

    Installed wheels carry a copy inside the package; a source checkout
    (editable install, tests) uses the folder at the repository's top.
    """
    here = Path(__file__).resolve().parent
    packaged = here / name
    return packaged if packaged.is_dir() else here.parent / name
