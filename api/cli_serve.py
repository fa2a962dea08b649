"""``biomatch serve``: run the service with uvicorn on the configured store."""
from __future__ import annotations

__all__ = ["register"]


def register(sub) -> None:
    p = sub.add_parser("serve", help="start the HTTP service (FastAPI) on the embedded store")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: loopback only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default $BIOMATCH_DATABASE_URL or sqlite under $BIOMATCH_HOME)")
    p.set_defaults(func=_serve)


def _serve(args) -> int:
    import uvicorn

    from .main import create_app
    from .settings import Settings

    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be between 1 and 65535, got {args.port}")
    overrides = {"database_url": args.database_url} if args.database_url else {}
    settings = Settings(**overrides)
    _check_store(settings)
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", server_header=False)
    return 0


def _check_store(settings) -> None:
    """Open the store once (a bad URL or a too-new schema is one ``error:`` line); a first start makes an admin key."""
    from sqlalchemy.exc import SQLAlchemyError

    from biomatch.index.store import Store, StoreError

    from .cli import UserError
    from .cli_admin import print_first_admin_key

    url = settings.resolved_database_url()
    try:
        with Store.open(url, home=settings.home) as store:
            print_first_admin_key(store, settings.home)  # a first start creates an admin key, handed over once
    except (StoreError, SQLAlchemyError) as exc:
        detail = getattr(exc, "orig", None) or exc
        raise UserError(f"cannot open the database: {detail}") from None
