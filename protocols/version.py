"""Version constants every message is checked against."""

PROTOCOL_VERSION = "1.0"
"""Version of the hub <-> site wire protocol; a major mismatch is refused."""

WEIGHTS_FORMAT = "safetensors"
"""Weights travel and rest as safetensors only; nothing else is ever loaded."""
