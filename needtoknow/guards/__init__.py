"""Small checks every layer uses at its edges: strict JSON text, loopback addresses,
owner-only files, look-alike actor names. They import nothing else of needtoknow."""
