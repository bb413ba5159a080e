"""The samples of an investigation, behind the access rules of its data."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, check_data
from fairbeam.catalogue.models import Dataset, Sample
from fairbeam.catalogue.schemas import InvestigationSampleOut, Page
from fairbeam.catalogue.service import get_investigation, paginate


def list_samples(
    session: Session, principal: Principal, ref: str, limit: int, cursor: str | None
) -> Page[InvestigationSampleOut]:
    """An investigation's samples by name, with how many datasets measured each."""
    investigation = get_investigation(session, ref)
    check_data(principal, investigation, f"investigation {ref}")
    query = select(Sample).where(Sample.investigation_id == investigation.id)
    rows, next_cursor = paginate(session, query, Sample, (("name", "id"), False), limit, cursor)
    ids = [sample.id for sample in rows]
    counts = session.execute(
        select(Dataset.sample_id, func.count())
        .where(Dataset.sample_id.in_(ids))
        .group_by(Dataset.sample_id)
    )
    datasets_of = {sample_id: count for sample_id, count in counts}
    return Page(
        items=[
            InvestigationSampleOut(
                id=sample.id,
                name=sample.name,
                chemical_formula=sample.chemical_formula,
                description=sample.description,
                dataset_count=datasets_of.get(sample.id, 0),
            )
            for sample in rows
        ],
        next=next_cursor,
    )
