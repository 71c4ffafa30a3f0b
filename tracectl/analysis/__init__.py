"""Pure analysis over the model: no I/O, no printing."""
