"""MoME hub: model-version registry, center routers, sites and validated pushes."""

__version__ = "0.1.0"
