"""``python -m hub`` runs the operator CLI."""

from hub.cli import app

app()
