"""The management REST API (Django REST framework)."""
