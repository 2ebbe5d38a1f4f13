"""Imported once by the analysis forkserver, so that each analysis child starts warm.

The core imports its parts lazily inside `analyze`; one tiny analysis here
pulls in whatever it needs, and every child forked afterwards has it
already (a child costs milliseconds instead of the core's import time).
"""

from __future__ import annotations

import webapp.core.explain
import webapp.core.input.stored
import webapp.review  # noqa: F401
from webapp.core import analyze
from webapp.core.input.raw import SourceText

WARM_UP = b"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: warm-up, namespace: default}
spec: {podSelector: {}, policyTypes: [Ingress]}
"""

WARM = bool(analyze([SourceText("warm-up.yaml", WARM_UP)]).document)
