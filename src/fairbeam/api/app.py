"""Assembles the application: settings, database, error handlers, each feature's routes."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairbeam import __version__
from fairbeam.access.routes import router as access_router
from fairbeam.api.collector import tune_collector
from fairbeam.api.deps import refuse_nul
from fairbeam.api.portal import mount_portal
from fairbeam.audit.routes import router as audit_router
from fairbeam.catalogue.routes import router as catalogue_router
from fairbeam.config import Settings, get_settings
from fairbeam.db import make_engine, make_sessionmaker
from fairbeam.errors import FairbeamError, TooManyAttempts
from fairbeam.events import build_event_bus
from fairbeam.ingest.routes import router as ingest_router
from fairbeam.logbook.routes import router as logbook_router
from fairbeam.policy.doi_routes import router as doi_router
from fairbeam.policy.landing_page import router as landing_router
from fairbeam.policy.restore_routes import router as restore_router
from fairbeam.policy.routes import router as policy_router
from fairbeam.policy.schedule import start_policy_schedule
from fairbeam.policy.worker import start_restore_worker
from fairbeam.stats.routes import router as stats_router
from fairbeam.transfer.routes import router as transfer_router
from fairbeam.viewer.routes import router as viewer_router

log = logging.getLogger("fairbeam")


class Health(BaseModel):
    status: str
    version: str
    database: str


def _describe(error: Any) -> str:
    loc = error.get("loc", ())
    # "body" only names the field when there is nothing more precise.
    where = ".".join(str(part) for part in loc if part != "body") or ".".join(map(str, loc))
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def add_error_handlers(app: FastAPI) -> None:
    """Every error answers `{"detail": ...}`; unknown ones a 500 with a request id."""

    @app.exception_handler(FairbeamError)
    async def domain_error(_: Request, exc: FairbeamError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        detail = "; ".join(_describe(e) for e in errors[:5])
        if len(errors) > 5:
            detail += f"; and {len(errors) - 5} more"
        return JSONResponse(
            {"detail": detail, "errors": [{"loc": e["loc"], "msg": e["msg"]} for e in errors[:50]]},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = (
            exc.detail if exc.status_code != 404 or exc.detail != "Not Found" else "no such path"
        )
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unknown_error(request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        log.exception("request %s %s failed (id %s)", request.method, request.url.path, request_id)
        return JSONResponse(
            {"detail": f"internal error; quote request id {request_id} to the facility"},
            status_code=500,
        )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Background work of a serving process: the restore worker and the policy schedule."""
    tune_collector()
    stops = [
        start_restore_worker(app, app.state.settings),
        start_policy_schedule(app, app.state.settings),
    ]
    try:
        yield
    finally:
        for stop in stops:
            stop()


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The fairbeam application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    app = FastAPI(
        title="fairbeam",
        version=__version__,
        description="The data management platform of a research facility.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        dependencies=[Depends(refuse_nul)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.events = build_event_bus(app.state.sessionmaker)
    add_error_handlers(app)

    @app.get("/api/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """Liveness and which database the catalogue is on."""
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return Health(status="ok", version=__version__, database=settings.database_kind)

    # The viewer first: h5web sends it many small requests, and each is matched against
    # every route before its own.
    app.include_router(viewer_router, prefix="/api")
    for router in (
        access_router,
        audit_router,
        catalogue_router,
        ingest_router,
        logbook_router,
        doi_router,
        policy_router,
        restore_router,
        stats_router,
        transfer_router,
    ):
        app.include_router(router, prefix="/api")
    # Landing pages of DOIs, outside /api, before the portal answers every other path.
    app.include_router(landing_router)
    mount_portal(app, settings.portal_dir)
    return app
