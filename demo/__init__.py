"""Demo and test fixtures: a store that looks like the pipeline's output.

Nothing here is part of the served app; ``components`` and ``dashboard`` never
import it.
"""
