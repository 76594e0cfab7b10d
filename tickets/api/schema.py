"""How the API's OpenAPI schema is generated (drf-spectacular), where the
defaults would describe the API untruly."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema


class ApiAutoSchema(AutoSchema):
    """Every query parameter may be sent empty: an empty one means "not
    given" (tickets.api.filters drops them, as HTML forms send every field),
    which OpenAPI says with allowEmptyValue."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            if parameter["in"] == "query":
                parameter["allowEmptyValue"] = True
        return operation
