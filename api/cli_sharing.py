"""``biomatch admin release|revoke|releases``: an owner agency's releases, from the command line.

Like the key commands, these work on the store directly and are audited as
``cli:<OS user>`` (agency ``LOCAL``). ``--owner`` must name the item's owner
agency: the command refuses to release another agency's item, as the API
does. The running service reads releases per request, so a change shows at
once in its candidate lists (see :mod:`biomatch.api.sharing`).
"""
from __future__ import annotations

__all__ = ["register_admin"]


def register_admin(admin_sub, db) -> None:
    """Add the release commands under ``biomatch admin`` (``db`` adds the --database-url option)."""
    for name, text in (("release", "release a record's or mark's details to another agency"),
                       ("revoke", "withdraw a release")):
        p = admin_sub.add_parser(name, help=text)
        p.add_argument("kind", choices=("record", "mark"))
        p.add_argument("item_id", type=int, metavar="ID")
        p.add_argument("--to", required=True, dest="to_agency", help="the agency that may (no longer) see the details")
        p.add_argument("--owner", required=True, help="the item's owner agency (checked)")
        db(p)
        p.set_defaults(func=_release if name == "release" else _revoke)
    p = admin_sub.add_parser("releases", help="list the releases of a record or mark")
    p.add_argument("kind", choices=("record", "mark"))
    p.add_argument("item_id", type=int, metavar="ID")
    db(p)
    p.set_defaults(func=_list)


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:128]
    except (KeyError, OSError):
        return "cli:unknown"


def _checked(store, args) -> None:
    from biomatch.index.store import NotFoundError

    from .cli import UserError

    try:
        owner = store.item_owner(args.kind, args.item_id)
    except NotFoundError as exc:
        raise UserError(str(exc)) from None
    if owner != args.owner:
        raise ValueError(f"{args.kind} {args.item_id} belongs to agency {owner!r}, not {args.owner!r}")


def _release(args) -> int:
    from .cli_admin import _open

    with _open(args) as store, store.transaction():
        _checked(store, args)
        r = store.release_details(args.kind, args.item_id, args.to_agency, released_by=_actor())
        store.append_audit(_actor(), "LOCAL", "sharing.release", route="biomatch admin release",
                           subject_ids=[f"{args.kind}:{args.item_id}"], result_ids=[args.to_agency])
    print(f"{r.kind} {r.item_id}: details released to {r.agency} ({r.released_at:%Y-%m-%d %H:%M:%S} UTC)")
    return 0


def _revoke(args) -> int:
    from biomatch.index.store import NotFoundError

    from .cli import UserError
    from .cli_admin import _open

    with _open(args) as store, store.transaction():
        _checked(store, args)
        try:
            store.revoke_release(args.kind, args.item_id, args.to_agency)
        except NotFoundError as exc:
            raise UserError(str(exc)) from None
        store.append_audit(_actor(), "LOCAL", "sharing.revoke", route="biomatch admin revoke",
                           subject_ids=[f"{args.kind}:{args.item_id}"], result_ids=[args.to_agency])
    print(f"{args.kind} {args.item_id}: release to {args.to_agency} revoked")
    return 0


def _list(args) -> int:
    from .cli_admin import _open

    with _open(args) as store:
        found = store.list_releases(args.kind, args.item_id)
    for r in found:
        print(f"{r.agency}\t{r.released_at:%Y-%m-%d %H:%M:%S}\t{r.released_by}")
    if not found:
        print(f"{args.kind} {args.item_id}: no releases")
    return 0
