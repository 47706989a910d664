"""Wire schemas shared by the hub, the site agent and the model core.

Only pydantic models, string enums and version constants live here, so that every side of
the system agrees on the same typed messages without importing each other.
"""

from protocols.groups import (
    CENTER_CODE_PATTERN,
    SHAREABLE_GROUPS,
    TensorGroup,
    is_shareable_group,
    parse_group,
    router_group,
)
from protocols.manifest import FileEntry, Lineage, ModelManifest, TensorSpec
from protocols.router_update import RouterUpdateManifest
from protocols.version import PROTOCOL_VERSION, WEIGHTS_FORMAT

__all__ = [
    "CENTER_CODE_PATTERN",
    "PROTOCOL_VERSION",
    "SHAREABLE_GROUPS",
    "WEIGHTS_FORMAT",
    "FileEntry",
    "Lineage",
    "ModelManifest",
    "RouterUpdateManifest",
    "TensorGroup",
    "TensorSpec",
    "is_shareable_group",
    "parse_group",
    "router_group",
]
