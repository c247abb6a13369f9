"""Artifact access: configuration, listing, reading and the shared cache."""

from .artifacts import ArtifactInfo, latest
from .cache import ArtifactCache
from .config import ConfigError, StoreConfig
from .store import ArtifactStore, StoreError

__all__ = [
    "ArtifactCache",
    "ArtifactInfo",
    "ArtifactStore",
    "ConfigError",
    "StoreConfig",
    "StoreError",
    "latest",
]
