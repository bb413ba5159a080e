"""Links from an event to a dataset, sample or datafile of the same investigation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Datafile, Dataset, Investigation, Sample
from fairbeam.errors import InvalidInput
from fairbeam.logbook.logbooks import Target


@dataclass(frozen=True)
class Links:
    """The ids an event links to (each optional)."""

    dataset: int | None = None
    sample: int | None = None
    datafile: int | None = None


def _belongs(target: Target, investigation_id: int, instrument_id: int) -> bool:
    if target.investigation is not None:
        return investigation_id == target.investigation.id
    return instrument_id == target.instrument_id


def check_links(session: Session, target: Target, links: Links) -> Links:
    """``links`` when each belongs to the logbook's investigation (or beamline), else 422;
    a datafile alone links its dataset too."""
    dataset = links.dataset
    if links.datafile is not None:
        row = session.execute(
            select(Datafile.dataset_id, Dataset.investigation_id, Dataset.instrument_id)
            .join(Dataset, Dataset.id == Datafile.dataset_id)
            .where(Datafile.id == links.datafile)
        ).first()
        if row is None or not _belongs(target, row[1], row[2]):
            raise InvalidInput(f"datafile {links.datafile} is not part of the {target.what}")
        if dataset is not None and dataset != row[0]:
            raise InvalidInput(f"datafile {links.datafile} is not a file of dataset {dataset}")
        dataset = row[0]
    if dataset is not None:
        found = session.execute(
            select(Dataset.investigation_id, Dataset.instrument_id).where(Dataset.id == dataset)
        ).first()
        if found is None or not _belongs(target, found[0], found[1]):
            raise InvalidInput(f"dataset {dataset} is not part of the {target.what}")
    if links.sample is not None:
        sample = session.execute(
            select(Sample.investigation_id, Investigation.instrument_id)
            .join(Investigation, Investigation.id == Sample.investigation_id)
            .where(Sample.id == links.sample)
        ).first()
        if sample is None or not _belongs(target, sample[0], sample[1]):
            raise InvalidInput(f"sample {links.sample} is not part of the {target.what}")
    return Links(dataset, links.sample, links.datafile)
