"""Words the pages show from the library's closed vocabularies — roles, kinds and states
of requests and disclosures, units of time — listed so that the catalogue extracts them
and they are translated like the templates' own text (``tests/web/test_catalogue.py``
checks that each vocabulary is here whole)."""


def N_(text: str) -> str:
    """Marks a word for the catalogue; translated where a template shows it (``_``)."""
    return text


ROLES = (N_("officer"), N_("approver"), N_("analyst"))
REQUEST_KINDS = (N_("access"), N_("correction"), N_("erasure"), N_("nomination"), N_("grievance"))
REQUEST_STATES = (N_("open"), N_("fulfilled"), N_("closed"), N_("pending"), N_("verified"))
DISCLOSURE_STATES = (
    N_("requested"),
    N_("approved"),
    N_("rejected"),
    N_("releasing"),
    N_("released"),
)
UNITS = (N_("day"), N_("month"), N_("year"))
