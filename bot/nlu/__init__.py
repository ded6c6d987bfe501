"""Language understanding: the embedded spaCy pipeline (default) and Rasa (VK_RASA_URL).

Entry points: `bot.nlu.service.build_interpreter(settings)` for the pipeline hook,
`bot.nlu.model.NluModel` to parse, `bot.nlu.training` to train. Heavy imports (spaCy) stay in
the submodules so importing this package is cheap.
"""
