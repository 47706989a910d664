"""``python -m site_agent`` runs the site-agent CLI."""

from site_agent.cli import app

app()
