"""The console (staff) and the portal (customers): pages rendered on the server over the
same library calls as the CLI and the API, with no logic of their own — a page is a
form, one call, and a template."""

from needtoknow.web.site import include

__all__ = ["include"]
