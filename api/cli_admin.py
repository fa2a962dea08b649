"""``biomatch admin keys create|list|revoke`` and ``biomatch audit verify|list``.

``biomatch admin release|revoke|releases`` are in :mod:`.cli_sharing`.

These commands work on the store directly (the database URL and home come
from ``--database-url`` or ``BIOMATCH_DATABASE_URL`` / ``BIOMATCH_HOME``),
so an administrator with access to the database can always create a key,
even when every key was revoked. A new key's token is printed once.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

__all__ = ["register", "print_first_admin_key"]


def register(sub) -> None:
    admin = sub.add_parser("admin", help="administration: API keys, releases of details")
    admin_sub = admin.add_subparsers(dest="admin_command", metavar="SUBCOMMAND")
    admin_sub.required = True
    keys = admin_sub.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    keys_sub.required = True

    p = keys_sub.add_parser("create", help="create a key; its token is printed once")
    p.add_argument("--agency", required=True, help="agency the key acts for (e.g. an NCB or ORI code)")
    p.add_argument("--roles", required=True, help="comma-separated: examiner,enroller,operator,auditor,admin")
    p.add_argument("--label", help="who holds the key (a note for administrators)")
    _db(p)
    p.set_defaults(func=_create)

    p = keys_sub.add_parser("list", help="list keys (prefix, agency, roles, dates; never a secret)")
    p.add_argument("--agency", help="only this agency's keys")
    p.add_argument("--active", action="store_true", help="leave revoked keys out")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _db(p)
    p.set_defaults(func=_list)

    p = keys_sub.add_parser("revoke", help="revoke a key by id (it stays listed)")
    p.add_argument("key_id", type=int, metavar="ID")
    _db(p)
    p.set_defaults(func=_revoke)

    from .cli_sharing import register_admin

    register_admin(admin_sub, _db)  # release, revoke, releases

    audit = sub.add_parser("audit", help="the audit trail: verify the hash chain, list entries")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    audit_sub.required = True
    p = audit_sub.add_parser("verify", help="check the hash chain; exit 1 and name the first broken entry")
    _db(p)
    p.set_defaults(func=_verify)
    p = audit_sub.add_parser("list", help="print entries as JSON lines")
    p.add_argument("--after-id", type=int, default=0)
    p.add_argument("--limit", type=int, default=100)
    _db(p)
    p.set_defaults(func=_audit_list)


def _db(p) -> None:
    p.add_argument("--database-url", help="SQLAlchemy URL (default $BIOMATCH_DATABASE_URL or sqlite under $BIOMATCH_HOME)")


def _open(args):
    from biomatch.index.store import Store

    from .settings import Settings

    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    return Store.open(settings.resolved_database_url(), home=settings.home)


def _cli_audit(store, action: str, key_id: int) -> None:
    """Key changes made from the command line are audited too, named after the OS user."""
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    store.append_audit(f"cli:{user}"[:128], "LOCAL", action, route=f"biomatch admin keys {action.split('.')[1]}",
                       subject_ids=[key_id])


def _create(args) -> int:
    from .auth import create_key

    with _open(args) as store, store.transaction():
        new = create_key(store, args.agency, args.roles, label=args.label)
        _cli_audit(store, "key.create", new.id)
    print(f"created key {new.id} for agency {new.agency} with roles {','.join(new.roles)}")
    print("API key (shown once; store it now, only its hash is kept):")
    print(new.token)
    return 0


def _list(args) -> int:
    with _open(args) as store:
        keys = store.list_api_keys(agency=args.agency, include_revoked=not args.active)
    rows = [{"id": k.id, "prefix": k.prefix, "agency": k.agency, "roles": ",".join(k.roles), "label": k.label or "",
             "created": k.created_at.strftime("%Y-%m-%d %H:%M:%S"),
             "revoked": k.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if k.revoked_at else ""} for k in keys]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no API keys")
        return 0
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols).rstrip())
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols).rstrip())
    return 0


def _revoke(args) -> int:
    from biomatch.index.store import NotFoundError

    from .cli import UserError

    with _open(args) as store, store.transaction():
        try:
            key = store.revoke_api_key(args.key_id)
        except NotFoundError as exc:
            raise UserError(str(exc)) from None
        _cli_audit(store, "key.revoke", key.id)
    print(f"key {key.id} ({key.prefix}, agency {key.agency}) revoked at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def _verify(args) -> int:
    with _open(args) as store:
        broken = store.verify_audit()
        total = sum(1 for _ in store.iter_audit())
    if broken is None:
        print(f"OK: audit chain intact ({total} entries)")
        return 0
    print(f"BROKEN: the audit chain breaks at entry {broken} "
          f"(changed, removed, inserted or reordered there, or entries cut off the end)")
    return 1


def _audit_list(args) -> int:
    from itertools import islice

    if not 1 <= args.limit <= 100_000:
        raise ValueError(f"--limit must be between 1 and 100000, got {args.limit}")
    with _open(args) as store:
        for e in islice(store.iter_audit(after_id=args.after_id), args.limit):
            print(json.dumps({"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "agency": e.agency,
                              "action": e.action, "route": e.route, "subject_ids": e.subject_ids,
                              "result_ids": e.result_ids, "counts": e.counts, "hash": e.hash}))
    return 0


def print_first_admin_key(store, home=None) -> None:
    """At a first start (no key ever created), create an admin key and hand it over once.

    On a terminal the key is printed. When standard output is not a terminal
    (a service manager or a log file captures it), the key would land in the
    logs, so it is written to ``HOME/first-admin-key``, readable by this user
    only, and only that path is printed.
    """
    from .auth import bootstrap_admin_key

    new = bootstrap_admin_key(store)
    if new is None:
        return
    head = f"biomatch: first start, no API keys existed. Created admin key {new.id} (agency {new.agency})."
    tail = "Create keys for users with: biomatch admin keys create --agency AGENCY --roles examiner"
    if home is None or sys.stdout.isatty():
        print(f"{head} It is shown once; store it now:\n  {new.token}\n{tail}", flush=True)
        return
    path = Path(home) / "first-admin-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (new.token + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    print(f"{head} Standard output is not a terminal (it may be logged), so the key is in {path} "
          f"(readable by this user only): read it once, store it, delete the file.\n{tail}", flush=True)
