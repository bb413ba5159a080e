"""HTTP routes of the catalogue: thin wrappers around the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy.exc import IntegrityError

from fairbeam.api.deps import CurrentPrincipal, Cursor, Limit, PathId, SessionDep, SettingsDep
from fairbeam.catalogue import datasets, service
from fairbeam.catalogue.announce import announce_registered
from fairbeam.catalogue.datasets import DatasetFilters
from fairbeam.catalogue.facets import dataset_facets
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.samples import list_samples
from fairbeam.catalogue.schemas import (
    DatafileOut,
    DatasetBatchIn,
    DatasetIn,
    DatasetOut,
    Facets,
    InstrumentIn,
    InstrumentOut,
    InvestigationIn,
    InvestigationOut,
    InvestigationSampleOut,
    Moment,
    Page,
    ParticipantIn,
    ParticipantOut,
    Registered,
)
from fairbeam.catalogue.service import InvestigationFilters
from fairbeam.errors import Conflict

router = APIRouter(tags=["catalogue"])


@router.get("/instruments", response_model=Page[InstrumentOut])
def get_instruments(
    session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[InstrumentOut]:
    """The facility's beamlines."""
    return service.list_instruments(session, limit, cursor)


@router.post("/instruments", response_model=InstrumentOut, status_code=status.HTTP_201_CREATED)
def post_instrument(
    body: InstrumentIn, session: SessionDep, principal: CurrentPrincipal
) -> InstrumentOut:
    """Create a beamline (managers)."""
    instrument = service.create_instrument(session, principal, body)
    session.commit()
    return service.instrument_out(instrument)


@router.get("/investigations", response_model=Page[InvestigationOut])
def get_investigations(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: Annotated[InvestigationFilters, Depends()],
    sort: str = "-start",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[InvestigationOut]:
    """Investigations (high-level metadata is public); `scope` is mine, open, closed,
    beamline or all."""
    return service.list_investigations(session, principal, filters, sort, limit, cursor)


@router.get("/investigations/{ref}", response_model=InvestigationOut)
def get_investigation(
    ref: str, session: SessionDep, principal: CurrentPrincipal
) -> InvestigationOut:
    """One investigation, by id or proposal code."""
    investigation = service.get_investigation(session, ref)
    states = service.doi_states(session, [investigation.id])
    return service.investigation_out(investigation, states.get(investigation.id))


@router.get("/investigations/{ref}/samples", response_model=Page[InvestigationSampleOut])
def get_investigation_samples(
    ref: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[InvestigationSampleOut]:
    """An investigation's samples, by name (for whoever may see its data)."""
    return list_samples(session, principal, ref, limit, cursor)


@router.post(
    "/investigations", response_model=InvestigationOut, status_code=status.HTTP_201_CREATED
)
def post_investigation(
    body: InvestigationIn, session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep
) -> InvestigationOut:
    """Create an investigation (managers, and software on its beamline), with its DOI."""
    investigation = service.create_investigation(session, principal, body, settings)
    session.commit()
    states = service.doi_states(session, [investigation.id])
    return service.investigation_out(investigation, states.get(investigation.id))


@router.post(
    "/investigations/{ref}/participants",
    response_model=ParticipantOut,
    status_code=status.HTTP_201_CREATED,
)
def post_participant(
    ref: str, body: ParticipantIn, session: SessionDep, principal: CurrentPrincipal
) -> ParticipantOut:
    """Let a user take part in an investigation, and so see its data (managers; its
    principal investigator adds collaborators); audited."""
    participant = service.add_participant(session, principal, ref, body)
    out = service.participant_out(participant)
    session.commit()
    return out


@router.delete(
    "/investigations/{ref}/participants/{username}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_participant(
    ref: str,
    username: Annotated[str, Path(max_length=100)],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Take a user out of an investigation (managers; its principal investigator removes
    collaborators); audited."""
    service.remove_participant(session, principal, ref, username)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def dataset_filters(
    investigation: str | None = None,
    instrument: str | None = None,
    sample: str | None = None,
    technique: str | None = None,
    type: str | None = None,
    q: Annotated[str | None, Query(max_length=500)] = None,
    start_after: Moment | None = None,
    start_before: Moment | None = None,
    param: Annotated[
        list[str] | None, Query(description="`NAME OP VALUE [UNIT]`, repeatable.")
    ] = None,
) -> DatasetFilters:
    """The dataset filters from the query string."""
    return DatasetFilters(
        investigation=investigation,
        instrument=instrument,
        sample=sample,
        technique=technique,
        type=type,
        q=q,
        start_after=start_after,
        start_before=start_before,
        param=param or [],
    )


Filters = Annotated[DatasetFilters, Depends(dataset_filters)]


@router.get("/datasets", response_model=Page[DatasetOut])
def get_datasets(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: Filters,
    sort: str = "-start",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DatasetOut]:
    """Datasets the caller may see, filtered; `param` takes conditions with units."""
    return datasets.list_datasets(session, principal, filters, sort, limit, cursor)


@router.get("/datasets/facets", response_model=Facets)
def get_dataset_facets(
    session: SessionDep, principal: CurrentPrincipal, filters: Filters
) -> Facets:
    """Counts by beamline, technique, year and type of the datasets the filters match."""
    return dataset_facets(session, principal, filters)


@router.get("/datasets/{dataset_id}", response_model=DatasetOut)
def get_dataset(dataset_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> DatasetOut:
    """One dataset with its parameters, sample and provenance."""
    return datasets.datasets_out(session, [datasets.get_dataset(session, principal, dataset_id)])[0]


def _register(
    request: Request, session: SessionDep, principal: CurrentPrincipal, items: list[DatasetIn]
) -> list[Registered]:
    # Two clients registering the same new location at once: the loser of the race
    # retries once and finds the winner's dataset, so both get the same answer.
    for attempt in range(2):
        try:
            results = register_datasets(session, principal, items)
            session.commit()
            announce_registered(
                session, request.app.state.events, results, "api", principal.username
            )
            return results
        except IntegrityError as exc:
            session.rollback()
            if attempt == 1:
                raise Conflict(
                    "the registration conflicts with a concurrent change; send it again"
                ) from exc
    raise AssertionError("unreachable")


@router.post("/datasets", response_model=DatasetOut, status_code=status.HTTP_201_CREATED)
def post_dataset(
    body: DatasetIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> DatasetOut:
    """Register a dataset (control software); the same investigation and location again
    updates it and answers 200."""
    (result,) = _register(request, session, principal, [body])
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return datasets.datasets_out(session, [datasets.get_dataset(session, principal, result.id)])[0]


@router.post("/datasets/batch", response_model=list[Registered])
def post_dataset_batch(
    body: DatasetBatchIn, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> list[Registered]:
    """Register many datasets in one transaction: all are written, or none."""
    return _register(request, session, principal, body.datasets)


@router.get("/datasets/{dataset_id}/files", response_model=Page[DatafileOut])
def get_dataset_files(
    dataset_id: PathId,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DatafileOut]:
    """A dataset's files, by path."""
    return datasets.list_files(session, principal, dataset_id, limit, cursor)


@router.get("/files/{file_id}", response_model=DatafileOut)
def get_file(file_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> DatafileOut:
    """One file's record."""
    f = datasets.get_file(session, principal, file_id)
    return DatafileOut(
        id=f.id, dataset=f.dataset_id, path=f.path, size=f.size, checksum=f.checksum, tier=f.tier
    )
