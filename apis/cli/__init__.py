"""`portico`: a command-line client of the management REST API."""
