"""The quiz domain: content model, engine, scoring and ranking. Pure Python, no I/O."""
