"""OpenCX: an open-source, self-hosted customer experience platform."""

__version__ = "0.1.0"
