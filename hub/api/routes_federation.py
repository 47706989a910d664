"""Federation endpoints: a site registers its SuperNode key; operators list keys and the rounds' record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import Ctx, CurrentOperator, CurrentSite, SessionDep
from hub.api.params import CenterQuery
from hub.services import federation_nodes, federation_rounds
from protocols.federation import FederationRoundInfo, NodeKeyInfo, NodeKeyRegistration
from protocols.text import Version

router = APIRouter(prefix="/v1/federation", tags=["federation"])


@router.post("/node-keys", response_model=NodeKeyInfo, status_code=201)
def post_node_key(body: NodeKeyRegistration, ctx: Ctx, who: CurrentSite) -> NodeKeyInfo:
    """Bind the calling site's SuperNode public key to its center; the hub then accepts that node's replies."""
    return federation_nodes.register_key(ctx.factory, site_id=who.id, body=body, actor=who.actor)


@router.get("/node-keys", response_model=list[NodeKeyInfo])
def get_node_keys(session: SessionDep, who: CurrentOperator, center: CenterQuery = None) -> list[NodeKeyInfo]:
    """Registered SuperNode keys, with the SuperLink node id each got and whether its site is revoked."""
    return federation_nodes.list_keys(session, center=center)


@router.get("/rounds", response_model=list[FederationRoundInfo])
def get_rounds(session: SessionDep, who: CurrentOperator, run: Annotated[Version | None, Query()] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[FederationRoundInfo]:
    """Federated rounds, oldest first: participants and their metrics, failures, bytes and seconds."""
    return federation_rounds.list_rounds(session, run=run, limit=limit)
