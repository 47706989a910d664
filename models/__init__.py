"""The ML core: networks, data, training, evaluation and weights I/O. No HTTP, no CLI."""
