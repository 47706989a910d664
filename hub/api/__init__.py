"""REST API: dependencies and one thin route module per resource."""
