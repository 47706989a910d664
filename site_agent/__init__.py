"""The site agent: runs inside a hospital, adapts hub models to local practice, pushes only router/expert weights."""
