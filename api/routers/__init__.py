"""API routers, one module per modality; listed in ``biomatch.api.main.ROUTERS``."""
