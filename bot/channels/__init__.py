"""Channel adapters: each maps one platform to and from the neutral model and the pipeline."""
