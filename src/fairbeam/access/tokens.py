"""A caller's tokens, and revoking one: it answers 401 from the next request on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.models import ApiToken, User
from fairbeam.access.policy import Principal, require_login
from fairbeam.access.schemas import TokenOut
from fairbeam.access.security import TOKEN_PREFIX, token_digest
from fairbeam.access.service import get_user
from fairbeam.audit.service import record
from fairbeam.catalogue.schemas import Page
from fairbeam.catalogue.service import paginate
from fairbeam.errors import Forbidden, InvalidInput, NotFound

KINDS = ("api", "session")


def token_out(row: ApiToken, username: str) -> TokenOut:
    """A token as its owner sees it: never the secret, nor its hash."""
    return TokenOut(
        id=row.id,
        username=username,
        name=row.name,
        kind=row.kind,
        prefix=row.prefix,
        created=row.created,
        expires=row.expires,
        last_used=row.last_used,
        revoked=row.revoked,
    )


def list_tokens(
    session: Session,
    principal: Principal,
    username: str | None,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> Page[TokenOut]:
    """The caller's tokens, newest first (a manager may name another account's)."""
    require_login(principal)
    owner = principal.username
    user_id = principal.user_id
    if username is not None and username != principal.username:
        if not principal.is_manager:
            raise Forbidden("only a manager may list another account's tokens")
        user = get_user(session, username)
        owner, user_id = user.username, user.id
    query = select(ApiToken).where(ApiToken.user_id == user_id)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput(f"kind {kind!r} is not known; use one of {', '.join(KINDS)}")
        query = query.where(ApiToken.kind == kind)
    rows, next_cursor = paginate(session, query, ApiToken, (("id",), True), limit, cursor)
    return Page(items=[token_out(row, owner or "") for row in rows], next=next_cursor)


def revoke_token(session: Session, principal: Principal, token_id: int) -> tuple[ApiToken, str]:
    """Revoke a token (its owner, or a manager), audited; revoking it again changes
    nothing. Another account's token is 404 to anyone but a manager."""
    require_login(principal)
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != principal.user_id and not principal.is_manager):
        raise NotFound(f"token {token_id} not found")
    username = session.scalar(select(User.username).where(User.id == row.user_id)) or ""
    if not row.revoked:
        row.revoked = True
        record(
            session,
            "token.revoke",
            "user",
            row.user_id,
            actor_id=principal.user_id,
            actor=principal.username or "system",
            username=username,
            token=row.id,
            name=row.name,
            kind=row.kind,
            prefix=row.prefix,
            before={"revoked": False},
            after={"revoked": True},
        )
        session.flush()
    return row, username


def find_token(session: Session, ref: str, username: str | None = None) -> ApiToken:
    """A token by id, by its secret (a leaked token), or by name among the live tokens
    (of ``username`` when given); a name several tokens share is an error naming them."""
    if ref.isdigit():
        query = select(ApiToken).where(ApiToken.id == int(ref))
    elif ref.startswith(TOKEN_PREFIX) and len(ref) > 20:
        query = select(ApiToken).where(ApiToken.token_hash == token_digest(ref))
    else:
        query = select(ApiToken).where(ApiToken.name == ref, ApiToken.revoked.is_(False))
    if username is not None:
        query = query.where(ApiToken.user_id == get_user(session, username).id)
    found = session.scalars(query.order_by(ApiToken.id).limit(11)).all()
    whose = f" of {username}" if username else ""
    if not found:
        shown = ref if not ref.startswith(TOKEN_PREFIX) else ref[:10] + "..."
        raise NotFound(f"no token {shown!r}{whose}: give a token id, name or the token itself")
    if len(found) > 1:
        ids = {t.user_id for t in found}
        rows = session.execute(select(User.id, User.username).where(User.id.in_(ids)))
        owners = {user_id: name for user_id, name in rows}
        listed = ", ".join(f"{t.id} ({owners.get(t.user_id, '?')})" for t in found[:10])
        raise InvalidInput(
            f"{len(found) if len(found) <= 10 else 'more than 10'} live tokens are named "
            f"{ref!r}{whose}: {listed}; give the id"
        )
    return found[0]
