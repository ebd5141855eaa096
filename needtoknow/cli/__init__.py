"""The ``ntk`` command line; mirrors the library one command per operation."""
