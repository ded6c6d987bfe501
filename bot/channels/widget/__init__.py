"""The embeddable web widget: its built script (`dist/widget.js`, source in `src/`), the demo
and embed pages, and the origin allowlist that guards the REST endpoint for browsers."""
