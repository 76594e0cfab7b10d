"""The REST API (Django REST framework) under /api/: tickets, their
conversation, categories, teams and agents, plus the OpenAPI schema and its
offline Swagger UI. Mounted from helpdesk/urls.py."""
