"""Command-line interface."""

__all__: list[str] = []  # import the modules themselves
