"""Language-model decision providers: shared machinery in ``base``, one package per SDK."""
